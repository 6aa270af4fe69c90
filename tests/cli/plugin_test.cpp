// bpfdiff-plugin, spawned exactly as the bpf_conformance runner does.
#include <gtest/gtest.h>

#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kPlugin = BPFDIFF_PLUGIN_BIN;

// Hand-encoded slots, so these tests do not depend on the assembler.
constexpr const char* kMovR0_42 = "b7  00  00  00  2a  00  00  00  ";
constexpr const char* kMovR0R1 = "bf  10  00  00  00  00  00  00  ";
constexpr const char* kMovR0R2 = "bf  20  00  00  00  00  00  00  ";
constexpr const char* kLdxbR0R1Plus2 = "71  10  02  00  00  00  00  00  ";
constexpr const char* kLdxwR0R1 = "61  10  00  00  00  00  00  00  ";
constexpr const char* kStbR1Plus0 = "72  01  00  00  07  00  00  00  ";
constexpr const char* kExit = "95  00  00  00  00  00  00  00  ";

std::string program(std::initializer_list<const char*> slots) {
  std::string s;
  for (const char* slot : slots)
    s += slot;
  return s + "\n";
}

TEST(Plugin, ReadsMemoryArgumentAndPrintsR0InHex) {
  const auto r = run_process({kPlugin, "aa  bb  11  "}, program({kLdxbR0R1Plus2, kExit}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x11\n");
}

TEST(Plugin, PassesMemoryLengthInR2) {
  const auto r = run_process({kPlugin, "aa  bb  11  "}, program({kMovR0R2, kExit}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x3\n");
}

TEST(Plugin, MemoryIsWritable) {
  const auto r = run_process({kPlugin, "00  "}, program({kStbR1Plus0, kLdxbR0R1Plus2, kExit}));
  // The store succeeds; the load at offset 2 of a 1-byte memory then faults.
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("pc 1"), std::string::npos) << r.out;
}

TEST(Plugin, RunsWithoutMemoryArgument) {
  const auto r = run_process({kPlugin}, program({kMovR0_42, kExit}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x2a\n");
}

TEST(Plugin, WithoutMemoryR1IsZero) {
  const auto r = run_process({kPlugin}, program({kMovR0_42, kMovR0R1, kExit}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x0\n");
}

TEST(Plugin, AcceptsEngineOptionAfterMemory) {
  const auto r = run_process({kPlugin, "aa  bb  11  ", "--engine", "interp", "--debug"},
                             program({kLdxbR0R1Plus2, kExit}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x11\n");
}

TEST(Plugin, AcceptsEmptyMemoryAndOptionsAsOneArgument) {
  const auto r = run_process({kPlugin, "", "--engine interp"}, program({kMovR0_42, kExit}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x2a\n");
}

TEST(Plugin, ReadsALargeProgramFromStdin) {
  // Far more than a pipe buffer, so stdin is written while the plugin reads it.
  std::string code;
  for (int i = 0; i < 50000; ++i)
    code += "07  00  00  00  01  00  00  00  ";  // add r0, 1
  code += kExit;
  const auto r = run_process({kPlugin}, code + "\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0xc350\n");
}

TEST(Plugin, PrintsR0AsUnpaddedLowercaseHex) {
  // lddw r0, 0xDEADBEEFCAFE
  const auto r = run_process(
      {kPlugin}, program({"18  00  00  00  fe  ca  ef  be  ", "00  00  00  00  ad  de  00  00  ", kExit}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0xdeadbeefcafe\n");
}

TEST(Plugin, RunTimeErrorExitsNonZeroWithOneLineNamingThePc) {
  const auto r = run_process({kPlugin}, program({kMovR0_42, kLdxwR0R1, kExit}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("pc 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("out-of-bounds read"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "error must be a single line: " << r.out;
}

TEST(Plugin, ValidationErrorExitsNonZero) {
  const auto r = run_process({kPlugin}, program({"ff  00  00  00  00  00  00  00  ", kExit}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("pc 0"), std::string::npos) << r.out;
}

TEST(Plugin, BadProgramHexExitsNonZero) {
  const auto r = run_process({kPlugin}, "b7 00 zz 00\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("zz"), std::string::npos) << r.out;
}

TEST(Plugin, BadMemoryHexExitsNonZero) {
  const auto r = run_process({kPlugin, "qq  "}, program({kMovR0_42, kExit}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("memory"), std::string::npos) << r.out;
}

TEST(Plugin, TruncatedSlotExitsNonZero) {
  const auto r = run_process({kPlugin}, "b7 00 00 00\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("multiple of"), std::string::npos) << r.out;
}

TEST(Plugin, UnknownEngineIsAnError) {
  const auto r = run_process({kPlugin, "--engine", "warp"}, program({kMovR0_42, kExit}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("unknown engine 'warp' (available: interp, jit, jit-bmi2, jit+blind, "
                       "jit+blind-bmi2, smt, kernel-host"),
            std::string::npos)
      << r.out;
}

TEST(Plugin, UnknownOptionIsAnError) {
  const auto r = run_process({kPlugin, "--frobnicate"}, program({kMovR0_42, kExit}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--frobnicate"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bpfdiff::cli::testing
