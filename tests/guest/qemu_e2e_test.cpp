// End to end: a real guest (scripts/build-guest.sh's image under QEMU) runs
// programs with the kernel JIT and the kernel interpreter, rejects what its
// verifier rejects, and survives a kernel panic and a hang: each becomes a
// finding on disk and the guest comes back from its snapshot. A verifier
// still busy at the pool's abandon time is no finding.
// Skipped, with the reason, when the image has not been built or QEMU is
// missing.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "oracle/kernel/guest/guest_service.hpp"
#include "tests/support/read_text.hpp"

namespace bpfdiff::oracle::kernel::guest {
namespace {

namespace fs = std::filesystem;

using test_support::read_text;

class QemuGuest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    GuestServiceOptions o;
    if (auto available = guest_engines_available(o); !available) {
      skip_reason_ = available.error().message;
      return;
    }
    findings_ = fs::temp_directory_path() / ("bpfdiff-e2e-findings-" + std::to_string(::getpid()));
    o.findings_dir = findings_.string();
    o.accel = Accel::Tcg;  // KVM does not boot these guests here; its probe would only cost time
    o.extra_cmdline = kFaultsAllowedArg;
    auto started = GuestService::start(o);
    if (!started) {
      start_error_ = started.error().message;
      return;
    }
    service_ = std::move(*started).release();
  }
  static void TearDownTestSuite() {
    delete service_;
    service_ = nullptr;
    std::error_code ec;
    fs::remove_all(findings_, ec);
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_NE(service_, nullptr) << start_error_;
  }
  static GuestPool& pool() { return service_->pool(); }

  static inline GuestService* service_ = nullptr;
  static inline std::string skip_reason_;
  static inline std::string start_error_;
  static inline fs::path findings_;
};

KernelRequest program(std::vector<isa::RawInsn> insns, std::vector<uint8_t> memory, uint32_t flags) {
  KernelRequest r;
  r.flags = flags | kWantLogOnReject;
  r.program = std::move(insns);
  r.memory = std::move(memory);
  return r;
}

TEST_F(QemuGuest, HelloNamesTheKernel) {
  EXPECT_FALSE(pool().kernel_release().empty());
  EXPECT_GT(pool().stats().last_boot_ms, 0);
}

TEST_F(QemuGuest, RunsProgramsWithTheKernelJitAndInterpreter) {
  for (uint32_t flags : {0u, static_cast<uint32_t>(kJitDisable)}) {
    SCOPED_TRACE(flags ? "kernel interpreter" : "kernel JIT");
    // r0 = 0x1122334455667788 ^ 0xff; exit: all 64 bits must come back.
    KernelResponse r = pool().execute(program(
        {{0x18, 0, 0, 0, 0x55667788}, {0, 0, 0, 0, 0x11223344}, {0xa7, 0, 0, 0, 0xff}, {0x95, 0, 0, 0, 0}},
        {}, flags));
    ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
    EXPECT_EQ(r.regs[0], 0x1122334455667788ull ^ 0xff);
    EXPECT_EQ(r.kernel_release, pool().kernel_release());
    // Memory: *(u32 *)(r1 + 4) = *(u32 *)r1 + 1; r0 = r2 (its length).
    KernelResponse m = pool().execute(program(
        {{0x61, 3, 1, 0, 0}, {0x07, 3, 0, 0, 1}, {0x63, 1, 3, 4, 0}, {0xbf, 0, 2, 0, 0}, {0x95, 0, 0, 0, 0}},
        {41, 0, 0, 0, 0, 0, 0, 0}, flags));
    ASSERT_EQ(m.verdict, KernelVerdict::Accepted) << m.log;
    EXPECT_EQ(m.memory, (std::vector<uint8_t>{41, 0, 0, 0, 42, 0, 0, 0}));
    EXPECT_EQ(m.regs[0], 8u);
  }
}

TEST_F(QemuGuest, VerifierRejectionComesBackWithItsLog) {
  // An endless loop: the verifier refuses it.
  KernelResponse r =
      pool().execute(program({{0xb7, 0, 0, 0, 0}, {0x05, 0, 0, -1, 0}, {0x95, 0, 0, 0, 0}}, {}, 0));
  EXPECT_EQ(r.verdict, KernelVerdict::Rejected) << r.log;
  EXPECT_FALSE(r.log.empty());
}

TEST_F(QemuGuest, CoverageIsCollectedOrSaidUnavailableAndTheProgramRunsEitherWay) {
  // The default image is Debian's kernel (no KCOV); an image built with
  // --kcov traces. Either way the program's outcome is the same.
  KernelResponse r = pool().execute(program({{0xb7, 0, 0, 0, 5}, {0x95, 0, 0, 0, 0}}, {}, kWantCoverage));
  ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
  EXPECT_EQ(r.regs[0], 5u);
  if (r.coverage.state == CoverageState::Unavailable) {
    EXPECT_NE(r.coverage.note.find("--kcov"), std::string::npos) << r.coverage.note;
    EXPECT_TRUE(r.coverage.new_edges.empty());
  } else {
    EXPECT_EQ(r.coverage.state, CoverageState::Collected);
    EXPECT_GT(r.coverage.trace_pcs, 0u);
  }
}

TEST_F(QemuGuest, PanicIsAFindingAndTheGuestIsRestoredFromItsSnapshot) {
  const uint64_t restores = pool().stats().restores;
  auto finding = pool().inject_fault(FaultKind::Panic);
  ASSERT_TRUE(finding) << finding.error().message;
  EXPECT_NE(read_text(*finding + "/console.log").find("Kernel panic"), std::string::npos);
  EXPECT_NE(read_text(*finding + "/finding.json").find("\"panic\""), std::string::npos);
  EXPECT_EQ(pool().stats().restores, restores + 1);
  KernelResponse r = pool().execute(program({{0xb7, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}}, {}, 0));
  ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
  EXPECT_EQ(r.regs[0], 7u);
}

TEST_F(QemuGuest, HangIsAFindingAndTheGuestComesBack) {
  auto finding = pool().inject_fault(FaultKind::Hang);
  ASSERT_TRUE(finding) << finding.error().message;
  EXPECT_NE(read_text(*finding + "/finding.json").find("\"hang\""), std::string::npos);
  KernelResponse r = pool().execute(program({{0xb7, 0, 0, 0, 9}, {0x95, 0, 0, 0, 0}}, {}, kJitDisable));
  ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
  EXPECT_EQ(r.regs[0], 9u);
}

// A verifier walking a loop it cannot bound to its 1M-instruction limit
// (seconds natively, minutes under TCG: the guest sends busy heartbeats all
// along) is given up on at the pool's abandon time, as a campaign's end does:
// abandoned, not judged, no finding; the guest is restored and serves on.
TEST_F(QemuGuest, AVerifierBusyAtTheAbandonTimeIsAbandonedNotAFinding) {
  const PoolStats before = pool().stats();
  pool().abandon_from(Clock::now() + std::chrono::seconds(3));
  // r0 = 1; r1 = 10; loop: r0 *= r1; r1 += 1; if r1 > 1 goto loop; exit
  KernelResponse r = pool().execute(program({{0xb7, 0, 0, 0, 1},
                                             {0xb7, 1, 0, 0, 10},
                                             {0x2f, 0, 1, 0, 0},
                                             {0x07, 1, 0, 0, 1},
                                             {0x25, 1, 0, -3, 1},
                                             {0x95, 0, 0, 0, 0}},
                                            {}, 0));
  pool().abandon_from(Clock::time_point::max());
  EXPECT_EQ(r.verdict, KernelVerdict::Failed);
  EXPECT_EQ(r.log.rfind(std::string(kAbandonedPrefix) + std::string(kAbandonedAtDeadline), 0), 0u) << r.log;
  const PoolStats after = pool().stats();
  EXPECT_EQ(after.abandoned, before.abandoned + 1);
  EXPECT_EQ(after.failures, before.failures);
  EXPECT_EQ(after.findings.size(), before.findings.size());
  KernelResponse next = pool().execute(program({{0xb7, 0, 0, 0, 11}, {0x95, 0, 0, 0, 0}}, {}, 0));
  ASSERT_EQ(next.verdict, KernelVerdict::Accepted) << next.log;
  EXPECT_EQ(next.regs[0], 11u);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
