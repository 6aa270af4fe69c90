// The executor against the running kernel. bpf() works as root on the
// project's machines and in CI (kernel 6.18); elsewhere every test skips
// with the probe's reason.
#include "oracle/kernel/kernel_executor.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include "oracle/kernel/rejection_reason.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

class KernelExecutorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static const Result<void> probe = probe_kernel();
    if (!probe) {
      skip_reason_ = probe.error().message;
      return;
    }
    auto e = KernelExecutor::create();
    if (!e) {
      skip_reason_ = e.error().message;
      return;
    }
    executor_ = std::move(e).value().release();
  }
  static void TearDownTestSuite() {
    delete executor_;
    executor_ = nullptr;
  }
  void SetUp() override {
    if (executor_ == nullptr) GTEST_SKIP() << "bpf() unavailable: " << skip_reason_;
  }

  KernelResponse run(const std::string& text, std::vector<uint8_t> memory = {},
                     uint32_t flags = kWantLogOnReject) {
    auto p = text::assemble(text);
    EXPECT_TRUE(p.ok()) << p.error().message;
    KernelRequest request;
    request.flags = flags;
    if (p.ok()) request.program = p->slots;
    request.memory = std::move(memory);
    return executor_->execute(request);
  }

  static KernelExecutor* executor_;
  static std::string skip_reason_;
};

KernelExecutor* KernelExecutorTest::executor_ = nullptr;
std::string KernelExecutorTest::skip_reason_;

// The response says how the kernel ran the program, as the kernel reports
// it: JIT-compiled exactly when this machine's bpf_jit_enable is not 0.
TEST_F(KernelExecutorTest, TheResponseSaysWhetherTheKernelJitCompiledTheProgram) {
  std::ifstream sysctl("/proc/sys/net/core/bpf_jit_enable");
  std::string enable;
  if (!(sysctl >> enable)) GTEST_SKIP() << "no /proc/sys/net/core/bpf_jit_enable";
  const KernelResponse r = run("mov r0, 1\nexit");
  ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
  EXPECT_EQ(r.jit, enable == "0" ? JitState::Interpreted : JitState::Jited) << "bpf_jit_enable=" << enable;
  const KernelResponse rejected = run("ldxdw r0, [r3+0]\nexit");
  ASSERT_EQ(rejected.verdict, KernelVerdict::Rejected) << rejected.log;
  EXPECT_EQ(rejected.jit, JitState::Unknown) << "nothing loaded";
}

TEST_F(KernelExecutorTest, ExportsAllTenRegistersWithTheirFull64Bits) {
  const KernelResponse r =
      run("lddw r0, 0x8000000000000001\n"
          "lddw r3, 0x123456789abcdef0\n"
          "mov r4, -1\n"
          "mov32 r5, -1\n"
          "mov r6, 6\nmov r7, 7\nmov r8, 8\nlddw r9, 0xfedcba9876543210\n"
          "exit\n");
  ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
  EXPECT_EQ(r.regs[0], 0x8000000000000001u);
  EXPECT_EQ(r.regs[1], 0u) << "no memory: r1 = 0";
  EXPECT_EQ(r.regs[2], 0u);
  EXPECT_EQ(r.regs[3], 0x123456789abcdef0u);
  EXPECT_EQ(r.regs[4], ~uint64_t{0});
  EXPECT_EQ(r.regs[5], 0xffffffffu);
  EXPECT_EQ(r.regs[6], 6u);
  EXPECT_EQ(r.regs[9], 0xfedcba9876543210u);
  EXPECT_EQ(r.regs_valid, 0x3ff);
  EXPECT_EQ(r.retval, 1u) << "the test run's retval is r0's low 32 bits";
  EXPECT_NE(r.frame_base, 0u);
  EXPECT_FALSE(r.kernel_release.empty());
}

TEST_F(KernelExecutorTest, MemoryIsReadAndWrittenAndPointersComeWithTheirBases) {
  const KernelResponse r =
      run("ldxw r3, [r1+0]\n"
          "add r3, r2\n"
          "stxw [r1+4], r3\n"
          "mov r6, r10\n"
          "add r6, -16\n"
          "mov r0, r1\n"
          "add r0, 2\n"
          "exit\n",
          {1, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd});
  ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
  EXPECT_EQ(r.memory, (std::vector<uint8_t>{1, 0, 0, 0, 9, 0, 0, 0}));
  EXPECT_EQ(r.regs[2], 8u) << "r2 = the memory's length";
  EXPECT_NE(r.memory_base, 0u);
  EXPECT_EQ(r.regs[1], r.memory_base);
  EXPECT_EQ(r.regs[0], r.memory_base + 2);
  EXPECT_EQ(r.regs[6], r.frame_base - 16);
}

TEST_F(KernelExecutorTest, MapsAreReusedAcrossRequestsOfAnySize) {
  for (int round = 0; round < 3; ++round) {
    for (uint8_t size : {1, 3, 64, 3}) {
      std::vector<uint8_t> mem(size, static_cast<uint8_t>(round));
      const KernelResponse r = run("ldxb r0, [r1+0]\nadd r0, 1\nstxb [r1+0], r0\nexit\n", mem);
      ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
      mem[0] = static_cast<uint8_t>(round + 1);
      EXPECT_EQ(r.memory, mem);
    }
  }
}

TEST_F(KernelExecutorTest, ARejectionComesWithTheVerifierLog) {
  const KernelResponse r = run("ldxdw r0, [r3+0]\nexit\n");
  ASSERT_EQ(r.verdict, KernelVerdict::Rejected);
  EXPECT_EQ(r.errno_value, EACCES);
  EXPECT_NE(r.log.find("invalid mem access"), std::string::npos) << r.log;
  EXPECT_EQ(rejection_reason(r.log, r.errno_value), "R# invalid mem access 'scalar'");

  const KernelResponse quiet = run("ldxdw r0, [r3+0]\nexit\n", {}, 0);
  EXPECT_EQ(quiet.verdict, KernelVerdict::Rejected);
  EXPECT_TRUE(quiet.log.empty()) << "no log unless asked";
}

// A campaign only tallies a rejection's reason: with kReasonOnlyLog the
// reload prints the verifier's messages and statistics, not every
// instruction it walked, and the reason is the same.
TEST_F(KernelExecutorTest, AReasonOnlyLogHasTheReasonWithoutTheInstructionTrace) {
  std::string text;
  for (int i = 0; i < 50; ++i)
    text += "add r2, " + std::to_string(i + 1) + "\n";
  text += "ldxdw r0, [r3+0]\nexit\n";
  const KernelResponse full = run(text);
  const KernelResponse brief = run(text, {}, kWantLogOnReject | kReasonOnlyLog);
  ASSERT_EQ(full.verdict, KernelVerdict::Rejected);
  ASSERT_EQ(brief.verdict, KernelVerdict::Rejected);
  EXPECT_EQ(rejection_reason(brief.log, brief.errno_value), rejection_reason(full.log, full.errno_value))
      << brief.log;
  EXPECT_EQ(rejection_reason(brief.log, brief.errno_value), "R# invalid mem access 'scalar'");
  // Level 1 prints each instruction as "pc: (opcode) ..."; the add of 50 is one.
  EXPECT_NE(full.log.find("r2 += 50"), std::string::npos) << full.log.substr(0, 400);
  EXPECT_EQ(brief.log.find("r2 += 50"), std::string::npos) << brief.log;
  EXPECT_LT(brief.log.size(), full.log.size());
  // The reason came with the load itself: no second walk of the verifier.
  EXPECT_EQ(brief.phases.log_ns, 0u);
  EXPECT_GT(brief.phases.full_load_ns, 0u);
  EXPECT_GT(full.phases.log_ns, 0u) << "the whole log is a reload";
}

// The executor says where its time went, and the phases fit in it.
TEST_F(KernelExecutorTest, PhasesAccountForTheExecutorsTime) {
  const KernelResponse r = run("mov r0, 7\nexit\n");
  ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
  EXPECT_GT(r.phases.plain_load_ns, 0u);
  EXPECT_GT(r.phases.plain_run_ns, 0u);
  EXPECT_GT(r.phases.full_load_ns, 0u);
  EXPECT_GT(r.phases.full_run_ns, 0u);
  EXPECT_EQ(r.phases.log_ns, 0u);
  EXPECT_LE(r.phases.sum(), r.duration_ns);
}

// For a program our VM ran past its budget only the unmodified run is made:
// its verdict and return value, no full-state load.
TEST_F(KernelExecutorTest, UnmodifiedOnlySkipsTheFullStateRun) {
  const KernelResponse r = run("mov r0, 7\nexit\n", {}, kWantLogOnReject | kPlainOnly);
  EXPECT_EQ(r.plain.verdict, KernelVerdict::Accepted);
  EXPECT_EQ(r.plain.retval, 7u);
  EXPECT_EQ(r.verdict, KernelVerdict::Unsupported);
  EXPECT_TRUE(r.instrumentation.empty()) << "no wrapper was built";

  const KernelResponse rejected = run("ldxdw r0, [r3+0]\nexit\n", {}, kWantLogOnReject | kPlainOnly);
  EXPECT_EQ(rejected.plain.verdict, KernelVerdict::Rejected);
  EXPECT_EQ(rejected.verdict, KernelVerdict::Unsupported);
}

// A log longer than the first buffer: from 6.4 the kernel keeps its tail,
// which holds the reason, so one load is enough (growing the buffer to fit
// used to cost a reload per doubling and tens of MiB, enough to run a small
// guest out of memory); older kernels still get the buffer grown.
TEST_F(KernelExecutorTest, ALogLongerThanTheBufferStillGivesTheReason) {
  std::string text;
  for (int i = 0; i < 4000; ++i)
    text += "add r2, " + std::to_string(i + 1) + "\n";
  text += "ldxdw r0, [r3+0]\nexit\n";
  const KernelResponse r = run(text);
  ASSERT_EQ(r.verdict, KernelVerdict::Rejected);
  EXPECT_EQ(rejection_reason(r.log, r.errno_value), "R# invalid mem access 'scalar'") << r.log.substr(0, 400);
  if (kernel_log_rotates(executor_->kernel_release())) {
    EXPECT_NE(r.log.find("(log rotated: the kernel kept its last"), std::string::npos);
    EXPECT_LT(r.log.size(), std::size_t{1} << 20) << "the tail is enough: no grown buffer";
  }
}

TEST(KernelLogRotates, FromLinux64On) {
  EXPECT_TRUE(kernel_log_rotates("6.18.44-cloud-amd64"));
  EXPECT_TRUE(kernel_log_rotates("6.12.118-bpfdiff-0f282225"));
  EXPECT_TRUE(kernel_log_rotates("6.4.0"));
  EXPECT_TRUE(kernel_log_rotates("7.0.1"));
  EXPECT_FALSE(kernel_log_rotates("6.3.13"));
  EXPECT_FALSE(kernel_log_rotates("6.1.0-50-cloud-amd64"));
  EXPECT_FALSE(kernel_log_rotates("5.15.0"));
  EXPECT_FALSE(kernel_log_rotates(""));
  EXPECT_FALSE(kernel_log_rotates("linux"));
}

TEST_F(KernelExecutorTest, OutOfBoundsMemoryIsTheVerifiersBusiness) {
  const KernelResponse r = run("ldxw r0, [r1+6]\nexit\n", {1, 2, 3, 4, 5, 6, 7, 8});
  ASSERT_EQ(r.verdict, KernelVerdict::Rejected);
  EXPECT_NE(r.log.find("invalid access to map value"), std::string::npos) << r.log;
}

TEST_F(KernelExecutorTest, SubprogramsReturnAndClobberedRegistersAreNotExported) {
  const KernelResponse r =
      run("mov r6, 20\n"
          "mov r1, 22\n"
          "call local add\n"
          "mov r2, 2\n"
          "exit\n"
          "add:\n"
          "mov r0, r1\n"
          "add r0, r6\n"
          "exit\n");
  // The callee reads r6, which is uninitialised in the verifier's new frame
  // (our VM would read the caller's 20): the kernel rejects, and says why.
  EXPECT_EQ(r.verdict, KernelVerdict::Rejected);
  EXPECT_NE(r.log.find("R6 !read_ok"), std::string::npos) << r.log;

  const KernelResponse ok =
      run("mov r6, 20\n"
          "mov r1, 22\n"
          "call local add\n"
          "mov r2, 2\n"
          "exit\n"
          "add:\n"
          "mov r0, r1\n"
          "add r0, 20\n"
          "exit\n");
  ASSERT_EQ(ok.verdict, KernelVerdict::Accepted) << ok.log;
  EXPECT_EQ(ok.regs[0], 42u);
  EXPECT_EQ(ok.regs[2], 2u);
  EXPECT_EQ(ok.regs[6], 20u);
  EXPECT_EQ(ok.regs_valid, 0x3c5) << "r0, r2 and r6..r9";
}

TEST_F(KernelExecutorTest, EveryExitOfTheEntryReachesTheEpilogue) {
  const char* program =
      "jeq r2, 4, +2\n"
      "mov r0, 1\n"
      "exit\n"
      "mov r0, 2\n"
      "exit\n";
  EXPECT_EQ(run(program, {0, 0, 0, 0}).regs[0], 2u);
  EXPECT_EQ(run(program, {0, 0}).regs[0], 1u);
}

TEST_F(KernelExecutorTest, UnsupportedProgramsSayWhy) {
  const KernelResponse r = run("call 6\nexit\n");
  EXPECT_EQ(r.verdict, KernelVerdict::Unsupported);
  EXPECT_NE(r.log.find("helper calls"), std::string::npos) << r.log;
  KernelRequest empty;
  EXPECT_EQ(executor_->execute(empty).verdict, KernelVerdict::Unsupported);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
