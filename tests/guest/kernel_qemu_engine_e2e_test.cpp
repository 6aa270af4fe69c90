// End to end through the engine interface: kernel-qemu and kernel-qemu-interp
// made by oracle::make_engine run programs in a real guest and agree with our
// interpreter under the kernel rules; and a kernel campaign survives its
// guest being SIGKILLed mid-run: the program in flight becomes a finding on
// disk, the guest comes back from its snapshot, the campaign finishes with
// its report. One guest boot serves the whole suite (the shared service).
// Skipped, with the reason, without the image of scripts/build-guest.sh or QEMU.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fuzz/kernel_campaign/kernel_campaign.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/known_kernel_bugs.hpp"
#include "tests/support/read_text.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff {
namespace {

namespace fs = std::filesystem;
namespace guest = oracle::kernel::guest;

using test_support::read_text;

// The QEMU processes this test process started (the pool's guests are its
// children): the only ones it may kill.
std::vector<pid_t> our_qemu_children() {
  std::vector<pid_t> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_text(entry.path() / "stat");
    const std::size_t open = stat.find('(');
    const std::size_t close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    const std::string comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid() && comm.rfind("qemu-system", 0) == 0) out.push_back(std::stoi(name));
  }
  return out;
}

class KernelQemuEngines : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    campaign_dir_ = fs::temp_directory_path() / ("bpfdiff-kq-e2e-" + std::to_string(::getpid()));
    guest::GuestServiceOptions o = guest::shared_guest_service_options();
    if (auto available = guest::guest_engines_available(o); !available) {
      skip_reason_ = available.error().message;
      return;
    }
    o.accel = guest::Accel::Tcg;  // KVM does not boot these guests here; its probe would only cost time
    o.guests = 1;
    o.use_daemon = false;  // this suite kills its own QEMU children; a user's daemon must not serve it
    o.findings_dir = (campaign_dir_ / "findings" / "guest").string();
    ASSERT_TRUE(guest::configure_shared_guest_service(o));
    auto jit = oracle::make_engine("kernel-qemu");
    if (!jit) {
      start_error_ = jit.error().message;
      return;
    }
    jit_ = std::move(jit).value().release();
    interp_ = std::move(oracle::make_engine("kernel-qemu-interp")).value().release();
  }
  static void TearDownTestSuite() {
    delete jit_;
    delete interp_;
    std::error_code ec;
    fs::remove_all(campaign_dir_, ec);
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_NE(jit_, nullptr) << start_error_;
  }

  static inline oracle::Engine* jit_ = nullptr;
  static inline oracle::Engine* interp_ = nullptr;
  static inline std::string skip_reason_;
  static inline std::string start_error_;
  static inline fs::path campaign_dir_;
};

vm::Program program(std::vector<isa::RawInsn> slots) {
  vm::Program p;
  p.slots = std::move(slots);
  return p;
}

TEST_F(KernelQemuEngines, RunLikeOurInterpreterWithTheKernelJitAndItsInterpreter) {
  // r0 = len * 3; mem[0] = r0; exit
  const vm::Program p =
      program({{0xbf, 0, 2, 0, 0}, {0x27, 0, 0, 0, 3}, {0x73, 1, 0, 0, 0}, {0x95, 0, 0, 0, 0}});
  oracle::EngineInput input;
  input.memory = {0, 0, 0, 0, 0};
  const oracle::Outcome ours = std::move(oracle::make_engine("interp")).value()->run(p, input);
  for (oracle::Engine* e : {jit_, interp_}) {
    const oracle::Outcome theirs = e->run(p, input);
    ASSERT_TRUE(theirs.kernel) << e->name();
    EXPECT_EQ(theirs.kernel->verdict, oracle::kernel::KernelVerdict::Accepted)
        << e->name() << ": " << theirs.kernel->log;
    EXPECT_EQ(theirs.regs[0], 15u) << e->name();
    EXPECT_EQ(theirs.memory[0], 15u) << e->name();
    EXPECT_FALSE(theirs.kernel->release.empty());
    const oracle::KernelComparison c = oracle::compare_with_kernel(ours, theirs);
    EXPECT_EQ(c.kind, oracle::KernelAgreement::Agree) << e->name() << ": " << c.reason;
  }
}

// corpus/kernel-findings/map-op-result-zero-extended: on a kernel older than
// the fix (the default image is Debian 12's 6.1) the JIT returns a failed map
// update's -ENOENT zero-extended, the comparison reports it and the known-bug
// emulation explains it; on a newer kernel everything agrees.
TEST_F(KernelQemuEngines, AFailedMapUpdateShowsTheKnownBugOnlyOnKernelsBeforeItsFix) {
  const char* source = R"(-- map-def hash
type hash
key_size 4
value_size 16
max_entries 3
-- asm
stw [r10-8], 0
lddw r1, map_idx(0)
mov r2, r10
add r2, -8
stdw [r10-24], 0
stdw [r10-16], 0
mov r3, r10
add r3, -24
mov r4, 2
call 2
exit
)";
  auto test = text::parse_data_test(source);
  ASSERT_TRUE(test) << test.error().message;
  auto assembled = text::assemble(test->asm_source);
  ASSERT_TRUE(assembled) << assembled.error().message;
  vm::Program p = std::move(assembled).value();
  p.maps = test->maps;
  const oracle::EngineInput input;
  const oracle::Outcome ours = std::move(oracle::make_engine("interp")).value()->run(p, input);
  ASSERT_EQ(ours.regs[0], 0xfffffffffffffffeull);  // -ENOENT, a long
  const oracle::Outcome theirs = jit_->run(p, input);
  ASSERT_TRUE(theirs.kernel);
  ASSERT_EQ(theirs.kernel->verdict, oracle::kernel::KernelVerdict::Accepted) << theirs.kernel->log;
  const oracle::KernelComparison k = oracle::compare_with_kernel(ours, theirs);
  const auto [major, minor] = oracle::kernel_version(theirs.kernel->release);
  if (major == 6 && minor < 4) {
    EXPECT_EQ(theirs.regs[0], 0xfffffffeull) << theirs.kernel->release;
    EXPECT_EQ(k.kind, oracle::KernelAgreement::Mismatch);
    const oracle::KnownKernelBug* bug = oracle::explain_with_known_bug(p, input, theirs);
    ASSERT_NE(bug, nullptr);
    EXPECT_EQ(bug->id, "map-op-result-zero-extended");
  } else {
    EXPECT_EQ(k.kind, oracle::KernelAgreement::Agree) << theirs.kernel->release << ": " << k.reason;
  }
  // The kernel's interpreter calls the helper itself and keeps the sign.
  const oracle::Outcome interpreted = interp_->run(p, input);
  ASSERT_TRUE(interpreted.kernel);
  if (interpreted.kernel->verdict == oracle::kernel::KernelVerdict::Accepted) {
    EXPECT_EQ(oracle::compare_with_kernel(ours, interpreted).kind, oracle::KernelAgreement::Agree)
        << interpreted.kernel->release;
  }
}

TEST_F(KernelQemuEngines, ReportTheVerifiersRejectionWithItsReason) {
  // r0 = *(u64 *)(r3 + 0) with r3 never written.
  const vm::Program p = program({{0x79, 0, 3, 0, 0}, {0x95, 0, 0, 0, 0}});
  const oracle::Outcome theirs = jit_->run(p, oracle::EngineInput{});
  ASSERT_TRUE(theirs.kernel);
  EXPECT_EQ(theirs.kernel->verdict, oracle::kernel::KernelVerdict::Rejected);
  EXPECT_FALSE(theirs.loaded);
  EXPECT_FALSE(theirs.kernel->rejection_reason.empty());
  EXPECT_NE(theirs.kernel->log.find("R3"), std::string::npos) << theirs.kernel->log;
}

TEST_F(KernelQemuEngines, ACampaignSurvivesItsGuestBeingKilled) {
  cli::KernelCampaignOptions options;
  options.engines = {"interp", "jit", "kernel-qemu"};
  options.out = campaign_dir_.string();
  options.minutes = 30;  // the program count ends the run
  options.max_programs = 30;
  options.progress_seconds = 1e9;
  cli::KernelCampaignHooks hooks = cli::default_kernel_campaign_hooks(options);
  std::vector<pid_t> killed;
  hooks.after_program = [&](uint64_t done) {
    if (done != 10) return;
    killed = our_qemu_children();
    for (pid_t pid : killed)
      ::kill(pid, SIGKILL);
  };
  auto r = cli::run_kernel_campaign(options, nullptr, hooks);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(killed.size(), 1u);
  EXPECT_EQ(r->programs, 30u);  // it went on after the kill

  // The program in flight when the guest went down is a guest finding,
  // with the pool's own record (written before the restore) beside it.
  const auto guest_finding = std::find_if(r->findings.begin(), r->findings.end(), [](const auto& f) {
    return f.signature.rfind("kernel-qemu.guest-", 0) == 0;
  });
  ASSERT_NE(guest_finding, r->findings.end());
  EXPECT_EQ(guest_finding->count, 1u);
  const fs::path dir = guest_finding->dir;
  for (const char* file : {"finding.json", "outcomes.json", "input.raw", "case.data"})
    EXPECT_TRUE(fs::exists(dir / file)) << dir / file;
  const auto finding = nlohmann::json::parse(read_text(dir / "finding.json"));
  // Killed from outside: the same program runs fine when tried again.
  EXPECT_EQ(finding.value("reproduced", true), false) << finding.dump(2);
  const std::string record = finding.value("guest_record", "");
  ASSERT_FALSE(record.empty());
  EXPECT_TRUE(fs::exists(fs::path(record) / "program.bin")) << record;
  EXPECT_EQ(fs::path(record).parent_path(), campaign_dir_ / "findings" / "guest");

  EXPECT_GE(r->guest_failures, 1u);
  EXPECT_GE(r->guest_restarts, 1u);
  const auto report = nlohmann::json::parse(read_text(campaign_dir_ / "report.json"));
  EXPECT_EQ(report["programs"], 30);
  EXPECT_GE(report["guest"]["restarts"].get<int>(), 1);
  // The programs after the restore were judged by the kernel again.
  const oracle::KernelTally& tally = r->tallies.at("kernel-qemu");
  EXPECT_EQ(tally.total(), 30u);
  EXPECT_GE(tally.count(oracle::KernelAgreement::Agree) +
                tally.count(oracle::KernelAgreement::KernelRejected) +
                tally.count(oracle::KernelAgreement::BothRejected),
            15u);
}

}  // namespace
}  // namespace bpfdiff
