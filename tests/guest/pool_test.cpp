// The guest pool against a fake VMM process (fake_vmm_main.cpp): requests are
// served from several threads; a panic, a hang or an oops becomes a finding
// on disk and the guest comes back (from the snapshot when there is one,
// else by a cold boot); a guest that cannot come back is retired.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oracle/kernel/guest/guest_pool.hpp"
#include "tests/support/read_text.hpp"

namespace bpfdiff::oracle::kernel::guest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class FakeVmm : public Vmm {
 public:
  bool snapshots = true;
  std::atomic<bool> fail_boot{false};
  std::string describe() const override { return "fake vmm"; }
  std::vector<std::string> boot_command(const GuestPaths& p) const override {
    std::vector<std::string> argv = {FAKE_VMM_PATH, "--socket", p.agent_socket(), "--console",
                                     p.console_log()};
    if (fail_boot) argv.push_back("--fail-boot");
    return argv;
  }
  std::vector<std::string> restore_command(const GuestPaths& p) const override {
    if (!snapshots) return {};
    auto argv = boot_command(p);
    argv.insert(argv.end(), {"--restore", p.snapshot()});
    return argv;
  }
  Result<void> save_snapshot(const GuestPaths& p, ChildProcess&, Clock::time_point) const override {
    std::ofstream(p.snapshot()) << "fake snapshot\n";
    return {};
  }
  bool exit_means_panic(int status) const override { return status == 1; }
};

using test_support::read_text;

KernelRequest request_with_imm(int32_t imm) {
  KernelRequest r;
  r.program = {{0xb7, 0, 0, 0, imm}, {0x95, 0, 0, 0, 0}};
  r.memory = {1, 2, 3, 4};
  return r;
}
constexpr int32_t kPanicImm = 0x7a4e1c;
constexpr int32_t kHangImm = 0x4a46;
constexpr int32_t kOopsImm = 0x0095;
constexpr int32_t kWarnImm = 0x5741;   // fake_vmm: a WARNING on the console, then an answer
constexpr int32_t kKasanImm = 0x4b41;  // fake_vmm: a KASAN report, then an answer
constexpr int32_t kBusyImm = 0xb5b5;   // fake_vmm: busy for good, heartbeats going on

class GuestPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bpfdiff-pool-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    vmm_ = std::make_shared<FakeVmm>();
  }
  void TearDown() override {
    pool_.reset();
    fs::remove_all(dir_);
  }
  PoolConfig config(std::size_t guests) {
    PoolConfig c;
    c.guests = guests;
    c.work_dir = (dir_ / "work").string();
    c.findings_dir = (dir_ / "findings").string();
    c.timeouts.boot = 20s;
    c.timeouts.restore = 20s;
    c.timeouts.request = 500ms;
    return c;
  }
  void start(std::size_t guests) {
    auto pool = GuestPool::start(vmm_, config(guests));
    ASSERT_TRUE(pool) << pool.error().message;
    pool_ = std::move(*pool);
  }
  void expect_serves() {
    KernelResponse r = pool_->execute(request_with_imm(1));
    ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
    EXPECT_EQ(r.regs[0], 2u);
    EXPECT_EQ(r.memory, (std::vector<uint8_t>{1, 2, 3, 4}));
  }
  nlohmann::json only_finding(std::string& path) {
    const PoolStats s = pool_->stats();
    EXPECT_EQ(s.findings.size(), 1u);
    if (s.findings.empty()) return {};
    path = s.findings[0];
    EXPECT_TRUE(fs::exists(path + "/finding.json")) << path;
    return nlohmann::json::parse(read_text(path + "/finding.json"), nullptr, false);
  }

  fs::path dir_;
  std::shared_ptr<FakeVmm> vmm_;
  std::unique_ptr<GuestPool> pool_;
};

TEST_F(GuestPoolTest, ServesRequestsFromSeveralThreads) {
  ASSERT_NO_FATAL_FAILURE(start(2));
  EXPECT_EQ(pool_->kernel_release(), "fake-1.0");
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        KernelResponse r = pool_->execute(request_with_imm(i));
        if (r.verdict == KernelVerdict::Accepted && r.regs[0] == 2) ++good;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(good.load(), 100);
  const PoolStats s = pool_->stats();
  EXPECT_EQ(s.requests, 100u);
  EXPECT_EQ(s.cold_boots, 2u);
  EXPECT_EQ(s.failures, 0u);
}

TEST_F(GuestPoolTest, PanicIsWrittenAsAFindingThenTheSnapshotIsRestored) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  const KernelRequest crash = request_with_imm(kPanicImm);
  KernelResponse r = pool_->execute(crash);
  EXPECT_EQ(r.verdict, KernelVerdict::Failed);
  EXPECT_NE(r.log.find("guest failure: panic"), std::string::npos) << r.log;
  std::string path;
  const auto j = only_finding(path);
  EXPECT_EQ(j.value("kind", ""), "panic");
  EXPECT_EQ(j.value("kernel_release", ""), "fake-1.0");
  EXPECT_EQ(j.value("vmm_exit_status", -1), 1);
  EXPECT_NE(read_text(path + "/console.log").find("Kernel panic"), std::string::npos);
  const std::string program = read_text(path + "/program.bin");
  const auto expected = isa::encode_slots(crash.program);
  EXPECT_EQ(std::vector<uint8_t>(program.begin(), program.end()), expected);
  EXPECT_EQ(read_text(path + "/memory.bin"), std::string("\x01\x02\x03\x04"));
  expect_serves();
  const PoolStats s = pool_->stats();
  EXPECT_EQ(s.restores, 1u);
  EXPECT_EQ(s.cold_boots, 1u);
  EXPECT_NE(read_text((dir_ / "work/guest-0/console.log").string()).find("fake kernel restored"),
            std::string::npos);
}

TEST_F(GuestPoolTest, HangTimesOutBecomesAFindingAndTheGuestComesBack) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  KernelResponse r = pool_->execute(request_with_imm(kHangImm));
  EXPECT_EQ(r.verdict, KernelVerdict::Failed);
  EXPECT_NE(r.log.find("guest failure: hang"), std::string::npos) << r.log;
  std::string path;
  EXPECT_EQ(only_finding(path).value("kind", ""), "hang");
  expect_serves();
}

// A guest that keeps answering "busy" past the request limit is a slow
// verifier, not a broken kernel: the request is abandoned, not judged and
// no finding, and the guest is restored for the next one.
TEST_F(GuestPoolTest, BusyPastTheRequestLimitIsAbandonedNotAFinding) {
  PoolConfig c = config(1);
  c.timeouts.request = 2s;  // silence: heartbeats come every 100 ms, even on a loaded host
  c.timeouts.request_limit = 3s;
  auto pool = GuestPool::start(vmm_, c);
  ASSERT_TRUE(pool) << pool.error().message;
  pool_ = std::move(*pool);
  KernelResponse r = pool_->execute(request_with_imm(kBusyImm));
  EXPECT_EQ(r.verdict, KernelVerdict::Failed);
  EXPECT_EQ(r.log.rfind(std::string(kAbandonedPrefix) + std::string(kAbandonedTooSlow) + ": ", 0), 0u)
      << r.log;
  EXPECT_NE(r.log.find("past the limit"), std::string::npos) << r.log;
  const PoolStats s = pool_->stats();
  EXPECT_EQ(s.abandoned, 1u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_TRUE(s.findings.empty());
  EXPECT_FALSE(fs::exists(dir_ / "findings"));
  expect_serves();
}

// At the pool's abandon time a busy request in flight is given up on (the
// campaign's end), and later requests are not run at all.
TEST_F(GuestPoolTest, AbandonTimeEndsARequestInFlightAndRefusesLaterOnes) {
  PoolConfig c = config(1);
  c.timeouts.request = 2s;
  c.timeouts.request_limit = 600s;
  auto pool = GuestPool::start(vmm_, c);
  ASSERT_TRUE(pool) << pool.error().message;
  pool_ = std::move(*pool);
  pool_->abandon_from(Clock::now() + 700ms);
  KernelResponse r = pool_->execute(request_with_imm(kBusyImm));
  EXPECT_EQ(r.verdict, KernelVerdict::Failed);
  const std::string at_deadline = std::string(kAbandonedPrefix) + std::string(kAbandonedAtDeadline) + ": ";
  EXPECT_EQ(r.log.rfind(at_deadline, 0), 0u) << r.log;
  KernelResponse later = pool_->execute(request_with_imm(1));
  EXPECT_EQ(later.verdict, KernelVerdict::Failed);
  EXPECT_EQ(later.log.rfind(at_deadline, 0), 0u) << later.log;
  const PoolStats s = pool_->stats();
  EXPECT_EQ(s.abandoned, 2u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_TRUE(s.findings.empty());
  EXPECT_EQ(pool_->live_guests(), 1u);  // restored, not retired
}

TEST_F(GuestPoolTest, OopsOnTheConsoleAfterAnAnswerIsAFinding) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  KernelResponse r = pool_->execute(request_with_imm(kOopsImm));
  EXPECT_EQ(r.verdict, KernelVerdict::Failed);
  EXPECT_NE(r.log.find("guest failure: oops"), std::string::npos) << r.log;
  std::string path;
  const auto j = only_finding(path);
  EXPECT_EQ(j.value("kind", ""), "oops");
  EXPECT_TRUE(j.value("agent_answered", false));
  expect_serves();
}

TEST_F(GuestPoolTest, WarnInKernelLogIsAFindingNamedByItsReport) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  KernelResponse r = pool_->execute(request_with_imm(kWarnImm));
  EXPECT_EQ(r.verdict, KernelVerdict::Failed);
  EXPECT_NE(r.log.find("guest failure: warning: kernel log: WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c"),
            std::string::npos)
      << r.log;
  std::string path;
  const auto j = only_finding(path);
  EXPECT_NE(fs::path(path).filename().string().rfind("guest-warning-", 0), std::string::npos) << path;
  EXPECT_EQ(j.value("kind", ""), "oops");
  EXPECT_EQ(j.value("kernel_report", ""), "warning");
  EXPECT_EQ(j.value("kernel_report_title", ""),
            "WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:18987 do_check+0x1e/0x20");
  EXPECT_TRUE(j.value("agent_answered", false));
  // Recorded with the program that was running, before the restore.
  const std::string program = read_text(path + "/program.bin");
  ASSERT_EQ(program.size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(program[4]), 0x41);  // the imm of the first slot
  EXPECT_EQ(static_cast<uint8_t>(program[5]), 0x57);
  EXPECT_NE(read_text(path + "/console.log").find("WARNING: CPU: 0"), std::string::npos);
  EXPECT_NE(read_text((dir_ / "work/guest-0/console.log").string()).find("fake kernel restored"),
            std::string::npos);
  expect_serves();
}

TEST_F(GuestPoolTest, AKasanReportIsAKasanFindingNotAPlainBug) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  KernelResponse r = pool_->execute(request_with_imm(kKasanImm));
  EXPECT_NE(r.log.find("guest failure: kasan: kernel log: BUG: KASAN: slab-out-of-bounds"), std::string::npos)
      << r.log;
  std::string path;
  EXPECT_EQ(only_finding(path).value("kernel_report", ""), "kasan");
  expect_serves();
}

TEST_F(GuestPoolTest, WithoutSnapshotsRecoveryIsAColdBoot) {
  vmm_->snapshots = false;
  ASSERT_NO_FATAL_FAILURE(start(1));
  (void)pool_->execute(request_with_imm(kPanicImm));
  expect_serves();
  const PoolStats s = pool_->stats();
  EXPECT_EQ(s.restores, 0u);
  EXPECT_EQ(s.cold_boots, 2u);
}

TEST_F(GuestPoolTest, UnreadableSnapshotFallsBackToAColdBoot) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  fs::remove(dir_ / "work/guest-0/snapshot.bin");
  (void)pool_->execute(request_with_imm(kPanicImm));
  expect_serves();
  const PoolStats s = pool_->stats();
  EXPECT_EQ(s.restores, 0u);
  EXPECT_EQ(s.cold_boots, 2u);
}

TEST_F(GuestPoolTest, InjectedFaultsAreHandledLikeRequestFailures) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  auto panic = pool_->inject_fault(FaultKind::Panic);
  ASSERT_TRUE(panic) << panic.error().message;
  EXPECT_TRUE(fs::exists(*panic + "/console.log"));
  auto hang = pool_->inject_fault(FaultKind::Hang);
  ASSERT_TRUE(hang) << hang.error().message;
  expect_serves();
  EXPECT_EQ(pool_->stats().failures, 2u);
}

TEST_F(GuestPoolTest, AGuestThatCannotComeBackIsRetired) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  vmm_->fail_boot = true;
  fs::remove(dir_ / "work/guest-0/snapshot.bin");
  KernelResponse r = pool_->execute(request_with_imm(kPanicImm));
  EXPECT_NE(r.log.find("guest failure: panic"), std::string::npos) << r.log;
  EXPECT_EQ(pool_->live_guests(), 0u);
  KernelResponse after = pool_->execute(request_with_imm(1));
  EXPECT_EQ(after.verdict, KernelVerdict::Failed);
  EXPECT_NE(after.log.find("no guest"), std::string::npos) << after.log;
  EXPECT_EQ(pool_->stats().findings.size(), 1u);  // the panic was still recorded
}

TEST_F(GuestPoolTest, PoolThatCannotBootSaysWhyWithTheConsole) {
  vmm_->fail_boot = true;
  auto pool = GuestPool::start(vmm_, config(1));
  ASSERT_FALSE(pool);
  EXPECT_NE(pool.error().message.find("boot failure"), std::string::npos) << pool.error().message;
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
