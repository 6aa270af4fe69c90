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

TEST_F(CReproducerTest, ARefusedProgramPrintsTheVerifierLog) {
  CReproducerInput in = sum_of_memory();
  in.program = {{0x24, 0, 0, 0, 9216}};  // mul32 r0, 9216: falls off its end
  const Ran ran = build_and_run(in);
  EXPECT_EQ(ran.status, 2) << ran.output;
  EXPECT_NE(ran.output.find("BPF_PROG_LOAD"), std::string::npos) << ran.output;
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
