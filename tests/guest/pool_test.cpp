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
  bool kernel_messages = true;  // false: an agent that cannot read /dev/kmsg (never pipelined)
  std::atomic<bool> fail_boot{false};
  std::string describe() const override { return "fake vmm"; }
  std::vector<std::string> boot_command(const GuestPaths& p) const override {
    std::vector<std::string> argv = {FAKE_VMM_PATH, "--socket", p.agent_socket(), "--console",
                                     p.console_log()};
    if (fail_boot) argv.push_back("--fail-boot");
    if (!kernel_messages) argv.push_back("--no-kmsg");
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
constexpr int32_t kCutImm = 0x9a27;    // fake_vmm: half a reply, then the guest is gone

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

  // A batch whose request i carries memory {i} (the fake answers with the
  // memory it got) and the first instruction's imm from `imms`.
  static std::vector<KernelRequest> batch_of(const std::vector<int32_t>& imms) {
    std::vector<KernelRequest> out;
    for (std::size_t i = 0; i < imms.size(); ++i) {
      KernelRequest r = request_with_imm(imms[i]);
      r.memory = {static_cast<uint8_t>(i)};
      out.push_back(std::move(r));
    }
    return out;
  }
  // The pool's answers to `requests`, checked to come once each, in order.
  std::vector<KernelResponse> run_batch(const std::vector<KernelRequest>& requests) {
    std::vector<KernelResponse> out;
    pool_->execute_batch(requests, [&](std::size_t i, KernelResponse&& r) {
      EXPECT_EQ(i, out.size()) << "answers out of order";
      out.push_back(std::move(r));
    });
    EXPECT_EQ(out.size(), requests.size());
    return out;
  }
  // Request i of a batch answered by the guest, not by a failure.
  static void expect_answered(const std::vector<KernelResponse>& r, std::size_t i) {
    ASSERT_LT(i, r.size());
    EXPECT_EQ(r[i].verdict, KernelVerdict::Accepted) << "request " << i << ": " << r[i].log;
    EXPECT_EQ(r[i].memory, (std::vector<uint8_t>{static_cast<uint8_t>(i)})) << "request " << i;
  }
  // The one finding is request i's: its program and memory.
  void expect_finding_of(const std::vector<KernelRequest>& requests, std::size_t i, const std::string& kind) {
    std::string path;
    const auto j = only_finding(path);
    EXPECT_EQ(j.value("kind", ""), kind);
    const std::string program = read_text(path + "/program.bin");
    EXPECT_EQ(std::vector<uint8_t>(program.begin(), program.end()), isa::encode_slots(requests[i].program));
    EXPECT_EQ(read_text(path + "/memory.bin"), std::string(1, static_cast<char>(i)));
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

namespace bpfdiff::oracle::kernel::guest {
namespace {

// A batch goes to one guest pipelined, and comes back whole and in order.
TEST_F(GuestPoolTest, BatchAnsweredWholeInOrder) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  const auto requests = batch_of({1, 2, 3, 4, 5, 6, 7, 8, 9});
  const auto r = run_batch(requests);
  for (std::size_t i = 0; i < requests.size(); ++i)
    expect_answered(r, i);
  const PoolStats s = pool_->stats();
  EXPECT_EQ(s.requests, requests.size());
  EXPECT_TRUE(s.findings.empty());
}

// The third program of a batch hangs while the fourth and fifth were sent
// behind it: the hang is the third's finding, the first two keep their
// answers, and the last two run on the restored guest.
TEST_F(GuestPoolTest, BatchHangInThirdIsItsFinding) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  const auto requests = batch_of({1, 1, kHangImm, 1, 1});
  const auto r = run_batch(requests);
  for (std::size_t i : {0u, 1u, 3u, 4u})
    expect_answered(r, i);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[2].verdict, KernelVerdict::Failed);
  EXPECT_NE(r[2].log.find("guest failure: hang"), std::string::npos) << r[2].log;
  expect_finding_of(requests, 2, "hang");
  EXPECT_EQ(pool_->stats().restores, 1u);
}

TEST_F(GuestPoolTest, BatchPanicInThirdIsItsFinding) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  const auto requests = batch_of({1, 1, kPanicImm, 1, 1});
  const auto r = run_batch(requests);
  for (std::size_t i : {0u, 1u, 3u, 4u})
    expect_answered(r, i);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_NE(r[2].log.find("guest failure: panic"), std::string::npos) << r[2].log;
  expect_finding_of(requests, 2, "panic");
}

// Half a reply and then nothing: the guest died running the third program.
TEST_F(GuestPoolTest, BatchCutReplyIsRunningsFinding) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  const auto requests = batch_of({1, 1, kCutImm, 1, 1});
  const auto r = run_batch(requests);
  for (std::size_t i : {0u, 1u, 3u, 4u})
    expect_answered(r, i);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_NE(r[2].log.find("guest failure: died"), std::string::npos) << r[2].log;
  expect_finding_of(requests, 2, "died");
}

// An oops while the third program ran, with the fourth already sent and
// maybe started: the kernel messages that came with the third's answer
// name it, not the program after it.
TEST_F(GuestPoolTest, BatchOopsIsItsMessagesFinding) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  const auto requests = batch_of({1, 1, kOopsImm, 1, 1});
  const auto r = run_batch(requests);
  for (std::size_t i : {0u, 1u, 3u, 4u})
    expect_answered(r, i);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_NE(r[2].log.find("guest failure: oops"), std::string::npos) << r[2].log;
  expect_finding_of(requests, 2, "oops");
}

// An agent that cannot read the kernel's messages is sent one request at a
// time, so the console after each answer is that request's alone.
TEST_F(GuestPoolTest, BatchWithoutKmsgNamesRightOne) {
  vmm_->kernel_messages = false;
  ASSERT_NO_FATAL_FAILURE(start(1));
  const auto requests = batch_of({1, kWarnImm, 1, 1});
  const auto r = run_batch(requests);
  for (std::size_t i : {0u, 2u, 3u})
    expect_answered(r, i);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_NE(r[1].log.find("guest failure: warning"), std::string::npos) << r[1].log;
  expect_finding_of(requests, 1, "oops");
}

// The abandon time comes while the second program keeps its guest busy:
// the first keeps its answer, the rest are abandoned, none is a finding.
TEST_F(GuestPoolTest, BatchAbandonTimeAbandonsRest) {
  PoolConfig c = config(1);
  c.timeouts.request = 2s;
  auto pool = GuestPool::start(vmm_, c);
  ASSERT_TRUE(pool) << pool.error().message;
  pool_ = std::move(*pool);
  pool_->abandon_from(Clock::now() + 700ms);
  const auto requests = batch_of({1, kBusyImm, 1});
  const auto r = run_batch(requests);
  expect_answered(r, 0);
  ASSERT_EQ(r.size(), 3u);
  for (std::size_t i : {1u, 2u})
    EXPECT_EQ(r[i].log.rfind(std::string(kAbandonedPrefix) + std::string(kAbandonedAtDeadline), 0), 0u)
        << r[i].log;
  EXPECT_TRUE(pool_->stats().findings.empty());
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
