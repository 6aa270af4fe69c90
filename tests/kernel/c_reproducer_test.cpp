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

TEST_F(CReproducerTest, ARefusedProgramPrintsTheVerifierLog) {
  CReproducerInput in = sum_of_memory();
  in.program = {{0x24, 0, 0, 0, 9216}};  // mul32 r0, 9216: falls off its end
  const Ran ran = build_and_run(in);
  EXPECT_EQ(ran.status, 2) << ran.output;
  EXPECT_NE(ran.output.find("BPF_PROG_LOAD"), std::string::npos) << ran.output;
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
