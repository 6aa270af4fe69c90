// The shared pieces of the tools, in process: hex, input detection, plugin
// argument parsing and the plugin's run, and expectation checks.
#include <gtest/gtest.h>

#include "oracle/cli/plugin.hpp"
#include "oracle/run/expectation.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/input.hpp"

namespace bpfdiff::cli {
namespace {

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Hex, FormatsValuesLikePrintfLlx) {
  EXPECT_EQ(hex_u64(0), "0x0");
  EXPECT_EQ(hex_u64(42), "0x2a");
  EXPECT_EQ(hex_u64(UINT64_MAX), "0xffffffffffffffff");
}

TEST(Hex, FormatsBytesCompactAndSpaced) {
  const std::vector<uint8_t> bytes = {0xaa, 0x0b};
  EXPECT_EQ(hex_compact(bytes), "aa0b");
  EXPECT_EQ(hex_spaced(bytes, "  "), "aa  0b  ");
}

TEST(Hex, ParsesSeparatedAndRunTogetherBytes) {
  auto a = parse_hex_arg("aa bb 0c");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(*a, (std::vector<uint8_t>{0xaa, 0xbb, 0x0c}));
  auto b = parse_hex_arg("AABB0c");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, (std::vector<uint8_t>{0xaa, 0xbb, 0x0c}));
  EXPECT_FALSE(parse_hex_arg("abc").ok());
  EXPECT_FALSE(parse_hex_arg("zz11").ok());
}

TEST(InputDetection, UsesMagicThenExtensionThenContent) {
  const std::string code("\xb7\x00\x00\x00\x2a\x00\x00\x00", 8);
  EXPECT_EQ(detect_input_kind("x.bin", as_bytes("\x7f"
                                                "ELF....")),
            InputKind::Elf);
  EXPECT_EQ(detect_input_kind("x.data", as_bytes("-- asm\nexit\n")), InputKind::DataTest);
  EXPECT_EQ(detect_input_kind("x.asm", as_bytes(code)), InputKind::Assembly);
  EXPECT_EQ(detect_input_kind("x.bin", as_bytes("exit\n\n\n\n")), InputKind::Bytecode);
  EXPECT_EQ(detect_input_kind("x", as_bytes(code)), InputKind::Bytecode);
  // A .data test under any name (BPFDIFF_CASE_FILE): by its program section.
  EXPECT_EQ(detect_input_kind("case", as_bytes("# budget 9\n-- map-def m\ntype hash\n-- asm\nexit\n")),
            InputKind::DataTest);
  EXPECT_EQ(detect_input_kind("case", as_bytes("-- raw\n95 00 00 00 00 00 00 00\n")), InputKind::DataTest);
  EXPECT_EQ(detect_input_kind("case", as_bytes("mov r0, 1  # -- asm\nexit\n")), InputKind::Assembly);
  EXPECT_EQ(detect_input_kind("x", as_bytes("exit\n\n\n\n")), InputKind::Assembly);
  EXPECT_EQ(detect_input_kind("x", as_bytes("\x01\x02\x03")), InputKind::Assembly);
}

Result<PluginArgs> parse(std::vector<std::string> args) {
  return parse_plugin_args(args);
}

TEST(PluginArgs, FirstPositionalIsMemory) {
  auto a = parse({"aa  bb  ", "--engine", "interp", "--debug"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->memory_hex, "aa  bb  ");
  EXPECT_EQ(a->engine, "interp");
  EXPECT_TRUE(a->debug);
  EXPECT_FALSE(a->elf);
}

TEST(PluginArgs, OptionsMayArriveAsOneArgument) {
  auto a = parse({"", "--engine jit --elf"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->memory_hex, "");
  EXPECT_EQ(a->engine, "jit");
  EXPECT_TRUE(a->elf);
}

TEST(PluginArgs, NoArgumentsMeansNoMemory) {
  auto a = parse({});
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->memory_hex.has_value());
  auto b = parse({"--engine=interp"});
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->memory_hex.has_value());
}

TEST(PluginArgs, RejectsUnknownOptionsAndExtraPositionals) {
  EXPECT_FALSE(parse({"--nope"}).ok());
  EXPECT_FALSE(parse({"aa", "bb"}).ok());
  EXPECT_FALSE(parse({"--engine"}).ok());
  EXPECT_FALSE(parse({"--debug stray"}).ok());
}

TEST(PluginRun, ReportsR0OrASingleLineError) {
  PluginArgs args;
  args.memory_hex = "05  ";
  auto ok = run_plugin(args, "71 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(ok.out, "0x5\n");

  auto fault = run_plugin(args, "61 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
  EXPECT_NE(fault.exit_code, 0);
  EXPECT_EQ(fault.out.rfind("pc 0: out-of-bounds read of 4 bytes at 0x", 0), 0u) << fault.out;
}

TEST(Expectation, ComparesResultNumericallyAndErrorBySubstring) {
  text::DataTest t;
  t.result = 0x2a;
  EXPECT_TRUE(check_expectation(t, Observed{0x2a, ""})->match);
  EXPECT_FALSE(check_expectation(t, Observed{0x2b, ""})->match);
  EXPECT_FALSE(check_expectation(t, Observed{std::nullopt, "pc 0: boom"})->match);

  text::DataTest e;
  e.error = "out-of-bounds read\n";
  EXPECT_TRUE(
      check_expectation(e, Observed{std::nullopt, "pc 3: out-of-bounds read of 4 bytes at 0x0"})->match);
  EXPECT_FALSE(check_expectation(e, Observed{0, ""})->match);

  EXPECT_FALSE(check_expectation(text::DataTest{}, Observed{0, ""}).has_value());
}

}  // namespace
}  // namespace bpfdiff::cli
