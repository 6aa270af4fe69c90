// End to end through the engine interface: kernel-qemu and kernel-qemu-interp
// made by oracle::make_engine run programs in a real guest and agree with our
// interpreter under the kernel rules; and a kernel campaign survives its
// guest being SIGKILLed mid-run: the program in flight becomes a finding on
// disk, the guest comes back from its snapshot, the campaign finishes with
// its report. Map programs (array and hash maps created in the guest with our
// initial contents, lookups, updates, atomic adds on values) agree, and a
// wrong initial content on our side is reported. One guest boot serves the
// whole suite (the shared service).
// Skipped, with the reason, without the image of scripts/build-guest.sh or QEMU.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fuzz/byte_source.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/kernel_campaign/kernel_campaign.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel/kernel_release.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/known_kernel_bugs.hpp"
#include "tests/support/map_defs.hpp"
#include "tests/support/map_error_programs.hpp"
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

  // Our interpreter runs `p`; each kernel engine (the guest's JIT and its
  // interpreter) must accept it and agree with ours, and `check` then looks
  // at that kernel's outcome.
  static void every_kernel_engine_accepts_and_agrees(
      const vm::Program& p, const std::function<void(const oracle::Engine*, const oracle::Outcome&)>& check) {
    const oracle::Outcome ours =
        std::move(oracle::make_engine("interp")).value()->run(p, oracle::EngineInput{});
    ASSERT_TRUE(ours.ok()) << ours.load_error;
    for (oracle::Engine* e : {jit_, interp_}) {
      const oracle::Outcome theirs = e->run(p, oracle::EngineInput{});
      ASSERT_TRUE(theirs.kernel) << e->name();
      ASSERT_EQ(theirs.kernel->verdict, oracle::kernel::KernelVerdict::Accepted)
          << e->name() << ": " << theirs.kernel->log;
      const oracle::KernelComparison c = oracle::compare_with_kernel(ours, theirs);
      EXPECT_EQ(c.kind, oracle::KernelAgreement::Agree)
          << e->name() << ": " << c.reason << (c.differences.empty() ? "" : to_string(c.differences[0]));
      check(e, theirs);
    }
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
  const vm::Program p = test_support::program_of(test_support::kUpdateAbsentKey);
  const oracle::EngineInput input;
  const oracle::Outcome ours = std::move(oracle::make_engine("interp")).value()->run(p, input);
  ASSERT_EQ(ours.regs[0], 0xfffffffffffffffeull);  // -ENOENT, a long
  const oracle::Outcome theirs = jit_->run(p, input);
  ASSERT_TRUE(theirs.kernel);
  ASSERT_EQ(theirs.kernel->verdict, oracle::kernel::KernelVerdict::Accepted) << theirs.kernel->log;
  const oracle::KernelComparison k = oracle::compare_with_kernel(ours, theirs);
  if (!oracle::kernel::kernel_release_at_least(theirs.kernel->release, 6, 4)) {
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

// Array value 1: [0..8) += 5 through the lookup pointer, then an atomic add
// of 3 on it and an atomic fetch-add32 of 2 on [8..12) (old value in r9);
// hash key 7 = the first word; hash value 7 then gets an atomic fetch-add of
// 10 through its own lookup (old value in r8); r0 = r8 + r9. No helper
// fails (see AFailedMapUpdateShowsTheKnownBugOnlyOnKernelsBeforeItsFix).
constexpr const char* kGuestMapProgram =
    "mov r6, 0\nmov r7, 0\nmov r8, 0\nmov r9, 0\n"
    "stw [r10-4], 1\n"
    "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\n"
    "jeq r0, 0, +30\n"
    "mov r7, r0\n"
    "ldxdw r6, [r7+0]\nadd r6, 5\nstxdw [r7+0], r6\n"
    "mov r1, 3\nlock add [r7+0], r1\n"
    "mov r9, 2\nlock fetch add32 [r7+8], r9\n"
    "ldxdw r6, [r7+0]\n"
    "stdw [r10-16], 7\nstxdw [r10-24], r6\n"
    "lddw r1, map_fd(1)\nmov r2, r10\nadd r2, -16\nmov r3, r10\nadd r3, -24\nmov r4, 0\ncall 2\n"
    "lddw r1, map_fd(1)\nmov r2, r10\nadd r2, -16\ncall 1\n"
    "jeq r0, 0, +2\n"
    "mov r8, 10\nlock fetch add [r0+0], r8\n"
    "mov r0, r8\nadd r0, r9\n"
    "exit\n"
    "mov r0, 99\nexit";

vm::Program guest_map_program() {
  auto assembled = text::assemble(kGuestMapProgram);
  EXPECT_TRUE(assembled.ok()) << assembled.error().message;
  vm::Program p = assembled.ok() ? *assembled : vm::Program{};
  std::vector<uint8_t> initial(32, 0);
  initial[16] = 40;  // value 1, first word
  initial[24] = 9;   // value 1, second word
  p.maps = {test_support::array_map("array", 16, 2, initial), test_support::hash_map("hash", 8, 8, 4)};
  return p;
}

TEST_F(KernelQemuEngines, MapProgramsWithLookupsUpdatesAndAtomicAddsAgree) {
  const vm::Program p = guest_map_program();
  every_kernel_engine_accepts_and_agrees(p, [](const oracle::Engine* e, const oracle::Outcome& theirs) {
    EXPECT_EQ(theirs.regs[0], 57u) << e->name() << ": 48 + 9";
    EXPECT_EQ(theirs.regs[9], 9u) << e->name() << ": the fetch-add32's old value";
    EXPECT_EQ(theirs.regs[8], 48u) << e->name() << ": the hash value before its fetch-add";
    ASSERT_EQ(theirs.maps.size(), 2u) << e->name();
    ASSERT_EQ(theirs.maps[0].entries.size(), 2u) << e->name();
    EXPECT_EQ(theirs.maps[0].entries[1].value[0], 48) << e->name() << ": 40 + 5 + 3";
    EXPECT_EQ(theirs.maps[0].entries[1].value[8], 11) << e->name() << ": 9 + 2";
    ASSERT_EQ(theirs.maps[1].entries.size(), 1u) << e->name();
    EXPECT_EQ(theirs.maps[1].entries[0].value[0], 58) << e->name() << ": 48 + 10";
    // The unmodified program ran too, and left the same contents.
    EXPECT_EQ(theirs.kernel->plain.verdict, oracle::kernel::KernelVerdict::Accepted) << e->name();
    EXPECT_EQ(theirs.kernel->plain_maps, theirs.maps) << e->name();
  });
}

TEST_F(KernelQemuEngines, AWrongInitialMapContentOnOurSideIsReported) {
  // The engine sends the program's maps to the guest; ours runs a copy with
  // one byte of a value the program never touches changed.
  const vm::Program p = guest_map_program();
  vm::Program skewed = p;
  skewed.maps[0].initial_values[3] = 1;
  const oracle::Outcome ours =
      std::move(oracle::make_engine("interp")).value()->run(skewed, oracle::EngineInput{});
  const oracle::Outcome theirs = jit_->run(p, oracle::EngineInput{});
  const oracle::KernelComparison c = oracle::compare_with_kernel(ours, theirs);
  EXPECT_EQ(c.kind, oracle::KernelAgreement::Mismatch) << c.reason;
  ASSERT_FALSE(c.differences.empty());
  EXPECT_EQ(c.differences[0].field, "maps[0].entries[0].value[3]");
}

// A hash map's starting entries travel to the agent (protocol 6) and are in
// the guest's map before each run: key 3 is found, key 4 inserted.
TEST_F(KernelQemuEngines, AHashMapsStartingEntriesAreInTheGuestsMap) {
  auto assembled = text::assemble(
      "stdw [r10-8], 3\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -8\ncall 1\n"
      "jeq r0, 0, missing\n"
      "ldxdw r6, [r0+0]\n"
      "stdw [r10-8], 4\nstxdw [r10-16], r6\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -8\nmov r3, r10\nadd r3, -16\nmov r4, 1\ncall 2\n"
      "mov r0, r6\nexit\n"
      "missing:\nmov r0, 99\nexit");
  ASSERT_TRUE(assembled.ok()) << assembled.error().message;
  vm::Program p = *assembled;
  p.maps = {test_support::hash_map("hash", 8, 8, 3,
                                   {{{3, 0, 0, 0, 0, 0, 0, 0}, {33, 0, 0, 0, 0, 0, 0, 0}},
                                    {{1, 0, 0, 0, 0, 0, 0, 0}, {11, 0, 0, 0, 0, 0, 0, 0}}})};
  every_kernel_engine_accepts_and_agrees(p, [](const oracle::Engine* e, const oracle::Outcome& theirs) {
    EXPECT_EQ(theirs.regs[0], 33u) << e->name();
    EXPECT_EQ(theirs.kernel->plain.retval, 33u) << e->name();
    ASSERT_EQ(theirs.maps.size(), 1u) << e->name();
    EXPECT_EQ(theirs.maps[0].entries.size(), 3u) << e->name() << ": two starting entries and key 4";
  });
}

TEST_F(KernelQemuEngines, GeneratedMapProgramsAgreeWithTheGuest) {
  fuzz::KernelFriendlyOptions opt;
  opt.map_program_rate = 1.0;
  opt.map_rate = 0.2;
  opt.isa_version = isa::IsaVersion::V3;  // the 6.1 guest's ISA
  const auto ours_engine = std::move(oracle::make_engine("interp")).value();
  int accepted = 0, with_map_calls = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    fuzz::ByteSource src(seed);
    const fuzz::GeneratedCase g = fuzz::generate_kernel_friendly(src, opt);
    ASSERT_FALSE(g.program.maps.empty()) << "seed " << seed;
    bool calls = false;
    for (const isa::RawInsn& i : g.program.slots)
      calls = calls || (i.opcode == 0x85 && i.src == 0 && i.imm >= 1 && i.imm <= 3);
    with_map_calls += calls;
    const oracle::EngineInput input = fuzz::engine_input(g);
    const oracle::Outcome ours = ours_engine->run(g.program, input);
    const oracle::Outcome theirs = jit_->run(g.program, input);
    const oracle::KernelComparison c = oracle::compare_with_kernel(ours, theirs);
    // A finding here must be a known kernel bug (on 6.1: failed map updates
    // and deletes zero-extended, corpus/kernel-findings/map-op-result-zero-extended).
    EXPECT_TRUE(!c.finding() || oracle::explain_with_known_bug(g.program, input, theirs) != nullptr)
        << "seed " << seed << ": " << c.reason << ": "
        << (c.differences.empty() ? "" : to_string(c.differences[0]));
    accepted += theirs.ok() && theirs.maps_observed;
  }
  EXPECT_GE(with_map_calls, 30);
  EXPECT_GE(accepted, 40) << "most generated map programs are accepted, their maps read back";
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
