// Every corpus program (corpus/elf/*.c, compiled by the build) loads from its
// ELF object and gives its expected result on every engine of ours: the
// interpreter and each JIT option set. These are the README's `bpfdiff run`
// examples, run in-process.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "oracle/engine.hpp"
#include "tests/elf/elf_test_util.hpp"
#include "vm/elf/elf_loader.hpp"

namespace bpfdiff::elf {
namespace {

using test::corpus_object;
using test::read_bytes;

constexpr uint64_t kXdpDrop = 1;
constexpr uint64_t kXdpPass = 2;

struct CorpusCase {
  const char* name;     // test name
  const char* object;   // corpus/elf/<object>.c
  const char* section;  // the program's section
  vm::RunMode mode;
  const char* input;  // corpus/elf/inputs/<input>, or "" for none
  uint64_t r0;
};

const CorpusCase kCases[] = {
    {"PacketFilterDropsTcpToPort8080", "packet_filter", "xdp", vm::RunMode::Packet, "tcp-8080.bin", kXdpDrop},
    {"PacketFilterPassesTcpToPort80", "packet_filter", "xdp", vm::RunMode::Packet, "tcp-80.bin", kXdpPass},
    {"PacketFilterPassesUdpToPort8080", "packet_filter", "xdp", vm::RunMode::Packet, "udp-8080.bin",
     kXdpPass},
    {"PacketFilterSkipsIpOptions", "packet_filter", "xdp", vm::RunMode::Packet, "tcp-8080-ip-options.bin",
     kXdpDrop},
    {"PacketFilterPassesArp", "packet_filter", "xdp", vm::RunMode::Packet, "arp.bin", kXdpPass},
    {"PacketFilterPassesATruncatedTcpHeader", "packet_filter", "xdp", vm::RunMode::Packet,
     "tcp-8080-truncated.bin", kXdpPass},
    {"CounterCountsTheFirstByte", "counter", "xdp", vm::RunMode::Packet, "key-7.bin", 1},
    {"GlobalDataAndASubprogram", "global_data", "socket", vm::RunMode::NoData, "", 140},
    {"HelloReturnsZero", "hello", "kprobe/sys_clone", vm::RunMode::NoData, "", 0},
    {"FoobarFilterDropsFoobar", "foobar_filter", "xdp", vm::RunMode::Packet, "foobar.bin", kXdpDrop},
    {"FoobarFilterDropsFoobarInside", "foobar_filter", "xdp", vm::RunMode::Packet, "ffoobarbaz.bin",
     kXdpDrop},
    {"FoobarFilterPassesFoo", "foobar_filter", "xdp", vm::RunMode::Packet, "foo.bin", kXdpPass},
    {"FoobarFilterPassesFooba", "foobar_filter", "xdp", vm::RunMode::Packet, "fooba.bin", kXdpPass},
    {"FoobarFilterPassesBazbarfoo", "foobar_filter", "xdp", vm::RunMode::Packet, "bazbarfoo.bin", kXdpPass},
    // zlib.crc32(bytes(i & 0xff for i in range(512))) == 0x1c613576
    {"ChecksumIsTheCrc32OfThePacket", "checksum", "xdp", vm::RunMode::Packet, "bytes-512.bin", 0x1c613576},
};

std::vector<uint8_t> input_bytes(const char* name) {
  if (*name == '\0') return {};
  return read_bytes(std::string(BPFDIFF_ELF_CORPUS_SOURCE_DIR) + "/inputs/" + name);
}

vm::Program corpus_program(const char* object, const char* section) {
  auto o = load_elf(corpus_object(object));
  if (!o) throw std::runtime_error(o.error().message);
  auto p = program_in_section(*o, section);
  if (!p) throw std::runtime_error(p.error().message);
  return std::move(p).value();
}

oracle::Outcome run_on(const std::string& engine_name, const vm::Program& program, vm::RunMode mode,
                       std::vector<uint8_t> input) {
  auto engine = oracle::make_engine(engine_name);
  if (!engine) throw std::runtime_error(engine.error().message);
  oracle::EngineInput in;
  in.mode = mode;
  in.memory = std::move(input);
  return (*engine)->run(program, in);
}

const vm::MapSnapshot& snapshot(const oracle::Outcome& o, std::string_view name) {
  auto it =
      std::find_if(o.maps.begin(), o.maps.end(), [&](const vm::MapSnapshot& m) { return m.name == name; });
  if (it == o.maps.end()) throw std::runtime_error("no map " + std::string(name) + " in the outcome");
  return *it;
}

uint64_t u64_of(const std::vector<uint8_t>& bytes, std::size_t at = 0) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data() + at, std::min<std::size_t>(8, bytes.size() - at));
  return v;
}

class CorpusResult : public ::testing::TestWithParam<std::tuple<CorpusCase, std::string>> {};

TEST_P(CorpusResult, MatchesTheExpectedR0) {
  const auto& [c, engine] = GetParam();
  const oracle::Outcome out =
      run_on(engine, corpus_program(c.object, c.section), c.mode, input_bytes(c.input));
  ASSERT_TRUE(out.loaded) << out.load_error;
  ASSERT_TRUE(out.ok()) << vm::describe(out.error);
  EXPECT_EQ(out.regs[0], c.r0);
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusResult,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::ValuesIn(oracle::engine_names())),
                         [](const auto& param) {
                           std::string engine = std::get<1>(param.param);
                           std::replace_if(
                               engine.begin(), engine.end(), [](char ch) { return !std::isalnum(ch); }, '_');
                           return std::string(std::get<0>(param.param).name) + "_" + engine;
                         });

class CorpusState : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusState, HelloPrintsThreeLines) {
  const auto out = run_on(GetParam(), corpus_program("hello", "kprobe/sys_clone"), vm::RunMode::NoData, {});
  ASSERT_TRUE(out.ok()) << out.load_error << vm::describe(out.error);
  EXPECT_EQ(out.trace, (std::vector<std::string>{"hello from C\n", "answer=42\n", "hello, world\n"}));
}

TEST_P(CorpusState, GlobalDataIsUpdatedInPlace) {
  const auto out = run_on(GetParam(), corpus_program("global_data", "socket"), vm::RunMode::NoData, {});
  ASSERT_TRUE(out.ok()) << out.load_error << vm::describe(out.error);
  const vm::MapSnapshot& data = snapshot(out, ".data");
  ASSERT_EQ(data.entries.size(), 1u);
  EXPECT_EQ(u64_of(data.entries[0].value), 140u);  // total
  const vm::MapSnapshot& bss = snapshot(out, ".bss");
  ASSERT_EQ(bss.entries.size(), 1u);
  EXPECT_EQ(u64_of(bss.entries[0].value), 1u);  // runs
}

TEST_P(CorpusState, CounterStoresTheKeyItSaw) {
  const auto out =
      run_on(GetParam(), corpus_program("counter", "xdp"), vm::RunMode::Packet, input_bytes("key-7.bin"));
  ASSERT_TRUE(out.ok()) << out.load_error << vm::describe(out.error);
  const vm::MapSnapshot& counts = snapshot(out, "counts");
  ASSERT_EQ(counts.entries.size(), 1u);
  EXPECT_EQ(counts.entries[0].key, (std::vector<uint8_t>{7, 0, 0, 0}));
  EXPECT_EQ(u64_of(counts.entries[0].value), 1u);
}

TEST_P(CorpusState, CounterKeepsCountingAcrossRunsOfOnePreparedProgram) {
  auto engine = oracle::make_engine(GetParam());
  ASSERT_TRUE(engine) << engine.error().message;
  auto executor = (*engine)->prepare(corpus_program("counter", "xdp"), vm::ExecLimits{});
  ASSERT_TRUE(executor) << executor.error().message;
  std::vector<uint8_t> packet = input_bytes("key-7.bin");
  for (uint64_t expected = 1; expected <= 3; ++expected) {
    const vm::RunResult r = (*executor)->run(vm::RunInput{vm::RunMode::Packet, packet});
    ASSERT_TRUE(r.ok()) << vm::describe(r.error);
    EXPECT_EQ(r.r0(), expected);
  }
}

TEST_P(CorpusState, FoobarFilterCountsItsVerdicts) {
  const auto out = run_on(GetParam(), corpus_program("foobar_filter", "xdp"), vm::RunMode::Packet,
                          input_bytes("ffoobarbaz.bin"));
  ASSERT_TRUE(out.ok()) << out.load_error << vm::describe(out.error);
  const vm::MapSnapshot& verdicts = snapshot(out, "verdicts");
  ASSERT_EQ(verdicts.entries.size(), 2u);
  EXPECT_EQ(u64_of(verdicts.entries[0].value), 0u);  // passed
  EXPECT_EQ(u64_of(verdicts.entries[1].value), 1u);  // dropped
}

TEST_P(CorpusState, TailCallsThroughAStaticallyFilledProgramArray) {
  auto o = load_elf(test::test_object("tail_calls"));
  ASSERT_TRUE(o) << o.error().message;
  auto program = program_named(*o, "entry");
  ASSERT_TRUE(program) << program.error().message;
  const auto out = run_on(GetParam(), *program, vm::RunMode::Packet, {1, 2, 3});
  ASSERT_TRUE(out.ok()) << out.load_error << vm::describe(out.error);
  EXPECT_EQ(out.regs[0], 22u);  // entry -> stage_one -> stage_two
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusState, ::testing::ValuesIn(oracle::engine_names()),
                         [](const auto& param) {
                           std::string engine = param.param;
                           std::replace_if(
                               engine.begin(), engine.end(), [](char ch) { return !std::isalnum(ch); }, '_');
                           return engine;
                         });

}  // namespace
}  // namespace bpfdiff::elf
