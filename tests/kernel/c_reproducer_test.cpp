// The standalone C reproducers, compiled with the system's C compiler and
// run against this machine's kernel: they agree with RFC 9669 when the
// expectation is right and say which register or byte differs when it is
// not. Skips without bpf() or without a C compiler.
#include "oracle/kernel/c_reproducer.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "oracle/kernel/kernel_executor.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

struct Ran {
  int status = -1;
  std::string output;
};

class CReproducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static const Result<void> probe = probe_kernel();
    if (!probe) GTEST_SKIP() << "bpf() unavailable: " << probe.error().message;
    if (std::system("cc --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no C compiler (cc)";
    dir_ = std::filesystem::temp_directory_path() /
           ("bpfdiff-repro-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  Ran build_and_run(const CReproducerInput& input) {
    auto source = c_reproducer(input);
    EXPECT_TRUE(source.ok()) << source.error().message;
    if (!source.ok()) return {};
    const std::string c = (dir_ / "repro.c").string();
    const std::string bin = (dir_ / "repro").string();
    const std::string out = (dir_ / "out.txt").string();
    std::ofstream(c) << *source;
    const std::string build = "cc -O2 -Wall -Werror -o " + bin + " " + c + " 2>" + out;
    EXPECT_EQ(std::system(build.c_str()), 0) << "does not compile:\n" << slurp(out) << "\n" << *source;
    const int status = std::system((bin + " >" + out + " 2>&1").c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out)};
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static std::vector<isa::RawInsn> assemble(const std::string& text) {
    auto p = text::assemble(text);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? p->slots : std::vector<isa::RawInsn>{};
  }

  std::filesystem::path dir_;
};

CReproducerInput sum_of_memory() {
  CReproducerInput in;
  in.title = "test: r0 = mem[0] + mem[4], mem[8] = r0";
  in.program = {};
  in.memory = {3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0};
  in.expected_regs[0] = 7;
  in.expected_memory = {3, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0};
  return in;
}

TEST_F(CReproducerTest, TheUnmodifiedFormAgreesWhenTheExpectationIsRight) {
  CReproducerInput in = sum_of_memory();
  in.program = assemble("ldxw r0, [r1+0]\nldxw r2, [r1+4]\nadd r0, r2\nstxw [r1+8], r0\nexit\n");
  const Ran ran = build_and_run(in);
  EXPECT_EQ(ran.status, 0) << ran.output;
  EXPECT_NE(ran.output.find("r0 = 0x7, RFC 9669 says 0x7"), std::string::npos) << ran.output;
}

TEST_F(CReproducerTest, ADifferenceIsNamedAndExitsOne) {
  CReproducerInput in = sum_of_memory();
  in.program = assemble("ldxw r0, [r1+0]\nldxw r2, [r1+4]\nadd r0, r2\nstxw [r1+8], r0\nexit\n");
  in.expected_regs[0] = 8;
  in.expected_memory[9] = 1;
  const Ran ran = build_and_run(in);
  EXPECT_EQ(ran.status, 1) << ran.output;
  EXPECT_NE(ran.output.find("r0 = 0x7, RFC 9669 says 0x8   <-- differs"), std::string::npos) << ran.output;
  EXPECT_NE(ran.output.find("memory[9] = 0x00, RFC 9669 says 0x01"), std::string::npos) << ran.output;
}

TEST_F(CReproducerTest, TheFullStateFormShowsEveryRegisterUnderEachWrapper) {
  for (uint32_t seed = 0; seed < kInstrumentationVariants; ++seed) {
    CReproducerInput in = sum_of_memory();
    // Pointer arithmetic on r1: only the full-state form can run this.
    in.program = assemble(
        "mov r6, r1\nadd r6, 4\nldxw r0, [r1+0]\nldxw r7, [r6+0]\nadd r0, r7\nstxw [r6+4], r0\n"
        "lsh r7, 40\nexit\n");
    in.full_state = true;
    in.instrumentation = instrumentation_for_seed(seed);
    in.expected_regs[7] = uint64_t{4} << 40;
    in.compare_regs = 0x081;  // r0 and r7 (r1 and r6 are pointers)
    const Ran ran = build_and_run(in);
    EXPECT_EQ(ran.status, 0) << describe(in.instrumentation) << "\n" << ran.output;
    EXPECT_NE(ran.output.find("r7 = 0x40000000000, RFC 9669 says 0x40000000000"), std::string::npos)
        << ran.output;
  }
}

// A map program reproduces alone: the reproducer creates its array (with
// its initial contents) and hash map and patches their fds in, in both forms.
TEST_F(CReproducerTest, AMapProgramsMapsAreCreatedAndFilledByTheReproducer) {
  // r0 = r6 = array[0] read twice (through a lookup and through a direct
  // value address) and added; hash[7] = r6 on the way.
  const std::vector<isa::RawInsn> program = assemble(
      "stw [r10-4], 0\nlddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\njeq r0, 0, +17\n"
      "ldxdw r6, [r0+0]\nlddw r2, map_value(0, 0)\nldxdw r3, [r2+0]\nadd r6, r3\n"
      "stdw [r10-16], 7\nstxdw [r10-24], r6\n"
      "lddw r1, map_idx(1)\nmov r2, r10\nadd r2, -16\nmov r3, r10\nadd r3, -24\nmov r4, 0\ncall 2\n"
      "mov r0, r6\nexit\nmov r0, 99\nexit\n");
  KernelMap array;
  array.type = kMapTypeArray;
  array.value_size = 16;
  array.max_entries = 1;  // a direct value address needs a single entry
  array.initial_values = {37, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  KernelMap hash;
  hash.type = kMapTypeHash;
  hash.key_size = 8;
  hash.value_size = 8;
  hash.max_entries = 4;
  for (bool full : {false, true}) {
    CReproducerInput in;
    in.title = "test: a map program";
    in.program = program;
    in.maps = {array, hash};
    in.full_state = full;
    in.instrumentation = instrumentation_for_seed(0);
    in.expected_regs[0] = 74;  // 37 + 37: the array's initial contents arrived
    in.expected_regs[6] = 74;
    in.compare_regs = full ? 0x41 : 1;
    in.compare_memory = false;
    const Ran ran = build_and_run(in);
    EXPECT_EQ(ran.status, 0) << (full ? "full state" : "unmodified") << "\n" << ran.output;
    EXPECT_NE(ran.output.find("r0 = 0x4a, RFC 9669 says 0x4a"), std::string::npos) << ran.output;
    // Without the initial contents the kernel computes 0: the maps are what the program sees.
    in.maps[0].initial_values.clear();
    const Ran empty = build_and_run(in);
    EXPECT_EQ(empty.status, 1) << empty.output;
    EXPECT_NE(empty.output.find("r0 = 0x0, RFC 9669 says 0x4a   <-- differs"), std::string::npos)
        << empty.output;
  }
}

// After the run the reproducer reads every map back (the array by index,
// the hash map key by key) and names each entry that differs from RFC
// 9669's contents, is missing in the kernel or is extra there.
TEST_F(CReproducerTest, MapsAreReadBackAndEachDifferingEntryIsNamed) {
  // array[0] bytes 8..15 = array[0] bytes 0..7 + 5; hash[7] = array[0]; r0 = 0.
  const std::vector<isa::RawInsn> program = assemble(
      "stw [r10-4], 0\nlddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\njeq r0, 0, +16\n"
      "ldxdw r6, [r0+0]\nmov r7, r6\nadd r7, 5\nstxdw [r0+8], r7\n"
      "stdw [r10-16], 7\nstxdw [r10-24], r6\n"
      "lddw r1, map_idx(1)\nmov r2, r10\nadd r2, -16\nmov r3, r10\nadd r3, -24\nmov r4, 0\ncall 2\n"
      "mov r0, 0\nexit\nmov r0, 99\nexit\n");
  KernelMap array;
  array.type = kMapTypeArray;
  array.value_size = 16;
  array.max_entries = 2;
  array.initial_values.assign(32, 0);
  array.initial_values[0] = 37;
  KernelMap hash;
  hash.type = kMapTypeHash;
  hash.key_size = 8;
  hash.value_size = 8;
  hash.max_entries = 4;
  auto le64 = [](uint64_t v) {
    std::vector<uint8_t> b(8);
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<uint8_t>(v >> (8 * i));
    return b;
  };
  std::vector<uint8_t> array_value0(16, 0), array_value1(16, 0);
  array_value0[0] = 37;
  array_value0[8] = 42;
  const std::vector<KernelMapEntry> array_after = {{{0, 0, 0, 0}, array_value0},
                                                   {{1, 0, 0, 0}, array_value1}};
  for (bool full : {false, true}) {
    SCOPED_TRACE(full ? "full state" : "unmodified");
    CReproducerInput in;
    in.title = "test: map contents";
    in.program = program;
    in.maps = {array, hash};
    in.full_state = full;
    in.instrumentation = instrumentation_for_seed(1);
    in.compare_regs = 1;
    in.compare_memory = false;
    in.compare_maps = true;
    in.expected_maps = {array_after, {{le64(7), le64(37)}}};
    const Ran ran = build_and_run(in);
    EXPECT_EQ(ran.status, 0) << ran.output;
    EXPECT_NE(ran.output.find("map 0 (array): 2 entries read back and compared"), std::string::npos)
        << ran.output;
    EXPECT_NE(ran.output.find("map 1 (hash): 1 entries read back and compared"), std::string::npos)
        << ran.output;

    // A wrong value in the array, a wrong hash value, and a hash key the kernel lacks.
    in.expected_maps[0][0].value[8] = 43;
    in.expected_maps[1][0].value = le64(38);
    in.expected_maps[1].push_back({le64(9), le64(1)});
    const Ran wrong = build_and_run(in);
    EXPECT_EQ(wrong.status, 1) << wrong.output;
    EXPECT_NE(wrong.output.find("map 0 key 00000000: value byte 8 differs"), std::string::npos)
        << wrong.output;
    EXPECT_NE(wrong.output.find("  kernel:   25000000000000002a00000000000000"), std::string::npos)
        << wrong.output;
    EXPECT_NE(wrong.output.find("  RFC 9669: 25000000000000002b00000000000000   <-- differs"),
              std::string::npos)
        << wrong.output;
    EXPECT_NE(wrong.output.find("map 1 key 0700000000000000: value byte 0 differs"), std::string::npos)
        << wrong.output;
    EXPECT_NE(wrong.output.find("map 1 key 0900000000000000 missing in the kernel, RFC 9669 says "
                                "0100000000000000   <-- differs"),
              std::string::npos)
        << wrong.output;

    // RFC 9669 leaving the hash map empty: the kernel's key is extra.
    in.expected_maps = {array_after, {}};
    const Ran extra = build_and_run(in);
    EXPECT_EQ(extra.status, 1) << extra.output;
    EXPECT_NE(extra.output.find("map 1 key 0700000000000000 = 2500000000000000, RFC 9669 has no such key"),
              std::string::npos)
        << extra.output;
  }
}

// A hash map's starting entries are inserted by the reproducer: the program
// returns key 3's value, which is there only if they were.
TEST_F(CReproducerTest, AHashMapsStartingEntriesAreInsertedByTheReproducer) {
  const std::vector<isa::RawInsn> program = assemble(
      "stw [r10-4], 3\nlddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\n"
      "jeq r0, 0, missing\nldxdw r0, [r0+0]\nexit\nmissing:\nmov r0, 99\nexit\n");
  KernelMap hash;
  hash.type = kMapTypeHash;
  hash.key_size = 4;
  hash.value_size = 8;
  hash.max_entries = 2;
  hash.initial_entries = {{{1, 0, 0, 0}, {11, 0, 0, 0, 0, 0, 0, 0}},
                          {{3, 0, 0, 0}, {33, 0, 0, 0, 0, 0, 0, 0}}};
  for (bool full : {false, true}) {
    SCOPED_TRACE(full ? "full state" : "unmodified");
    CReproducerInput in;
    in.title = "test: hash starting entries";
    in.program = program;
    in.maps = {hash};
    in.full_state = full;
    in.instrumentation = instrumentation_for_seed(2);
    in.compare_regs = 1;
    in.compare_memory = false;
    in.compare_maps = true;
    in.expected_regs[0] = 33;
    in.expected_maps = {hash.initial_entries};
    const Ran ran = build_and_run(in);
    EXPECT_EQ(ran.status, 0) << ran.output;
    EXPECT_NE(ran.output.find("r0 = 0x21, RFC 9669 says 0x21"), std::string::npos) << ran.output;
    EXPECT_NE(ran.output.find("map 0 (hash): 2 entries read back and compared"), std::string::npos)
        << ran.output;
  }
}

// A program that tail-calls itself: the reproducer loads the wrapped
// program as a raw tracepoint program, puts it in its own program array
// and shows the 33 tail calls the kernel takes.
TEST_F(CReproducerTest, AProgramThatTailCallsItselfReproducesInTheFullStateForm) {
  CReproducerInput in;
  in.title = "test: a self tail call";
  in.program = assemble(
      "ldxdw r6, [r1+0]\nadd r6, 1\nstxdw [r1+0], r6\nlddw r2, map_fd(0)\nmov r3, 0\ncall 12\n"
      "mov r0, r6\nexit\n");
  KernelMap progs;
  progs.type = kMapTypeProgArray;
  progs.value_size = 4;
  progs.max_entries = 2;
  progs.initial_values = {1, 0, 0, 0, 0, 0, 0, 0};  // index 0: the program itself
  in.maps = {progs};
  in.memory.assign(8, 0);
  in.expected_memory = {34, 0, 0, 0, 0, 0, 0, 0};
  in.expected_regs[0] = 34;
  in.expected_regs[6] = 34;
  in.compare_regs = 0x41;
  in.compare_maps = true;
  in.expected_maps = {{{{0, 0, 0, 0}, {0, 0, 0, 0}}}};  // skipped: a program array holds programs
  EXPECT_FALSE(c_reproducer(in).ok()) << "the unmodified form cannot hold a program array";
  for (uint32_t seed = 0; seed < kInstrumentationVariants; ++seed) {
    in.full_state = true;
    in.instrumentation = instrumentation_for_seed(seed);
    const Ran ran = build_and_run(in);
    EXPECT_EQ(ran.status, 0) << describe(in.instrumentation) << "\n" << ran.output;
    EXPECT_NE(ran.output.find("r0 = 0x22, RFC 9669 says 0x22"), std::string::npos) << ran.output;
  }
  in.expected_regs[0] = 1;  // as if no tail call were taken
  const Ran wrong = build_and_run(in);
  EXPECT_EQ(wrong.status, 1) << wrong.output;
  EXPECT_NE(wrong.output.find("r0 = 0x22, RFC 9669 says 0x1   <-- differs"), std::string::npos)
      << wrong.output;
}

// A tail call into another slot: the reproducer loads each piece
// (program_pieces.hpp) as a program of its own and puts the target's at
// the index our program array names.
TEST_F(CReproducerTest, ATailCallIntoAnotherSlotReproducesAsTwoKernelPrograms) {
  CReproducerInput in;
  in.title = "test: a tail call into another slot";
  in.program = assemble(
      "ldxdw r6, [r1+0]\nadd r6, 1\nstxdw [r1+0], r6\nlddw r2, map_fd(0)\nmov r3, 1\ncall 12\n"
      "mov r0, 99\nexit\n"
      "ldxdw r7, [r1+0]\nadd r7, 100\nstxdw [r1+0], r7\nmov r0, r7\nexit\n");
  KernelMap progs;
  progs.type = kMapTypeProgArray;
  progs.value_size = 4;
  progs.max_entries = 2;
  progs.initial_values = {1, 0, 0, 0, 10, 0, 0, 0};  // index 0: the program, 1: slot 9
  in.maps = {progs};
  in.memory.assign(8, 0);
  in.expected_memory = {101, 0, 0, 0, 0, 0, 0, 0};
  in.expected_regs[0] = 101;
  in.expected_regs[7] = 101;
  in.compare_regs = 0x81;
  in.full_state = true;
  for (uint32_t seed = 0; seed < kInstrumentationVariants; ++seed) {
    in.instrumentation = instrumentation_for_seed(seed);
    auto source = c_reproducer(in);
    ASSERT_TRUE(source.ok()) << source.error().message;
    EXPECT_NE(source->find("#define PIECES 2u"), std::string::npos);
    EXPECT_NE(source->find("the piece at slot s starts at prog[] index 9 -> "), std::string::npos);
    const Ran ran = build_and_run(in);
    EXPECT_EQ(ran.status, 0) << describe(in.instrumentation) << "\n" << ran.output;
    EXPECT_NE(ran.output.find("the piece at slot 9 exited"), std::string::npos) << ran.output;
    EXPECT_NE(ran.output.find("r0 = 0x65, RFC 9669 says 0x65"), std::string::npos) << ran.output;
    EXPECT_NE(ran.output.find("r7 = 0x65, RFC 9669 says 0x65"), std::string::npos)
        << "the target's epilogue exports r7\n"
        << ran.output;
  }
  in.expected_regs[0] = 99;  // as if the target were not taken
  const Ran wrong = build_and_run(in);
  EXPECT_EQ(wrong.status, 1) << wrong.output;
  EXPECT_NE(wrong.output.find("r0 = 0x65, RFC 9669 says 0x63   <-- differs"), std::string::npos)
      << wrong.output;
}

TEST_F(CReproducerTest, ARefusedProgramPrintsTheVerifierLog) {
  CReproducerInput in = sum_of_memory();
  in.program = {{0x24, 0, 0, 0, 9216}};  // mul32 r0, 9216: falls off its end
  const Ran ran = build_and_run(in);
  EXPECT_EQ(ran.status, 2) << ran.output;
  EXPECT_NE(ran.output.find("BPF_PROG_LOAD"), std::string::npos) << ran.output;
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
