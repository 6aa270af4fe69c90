// The kernel campaign's loop without a kernel: fake kernel engines whose
// verdicts are scripted, so the tallies, the findings on disk (atomic, one
// directory per signature, repeats counted), the guest-failure records, the
// report and resumption are checked exactly.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fuzz/kernel_campaign/kernel_campaign.hpp"
#include "fuzz/kernel_campaign/kernel_finding.hpp"
#include "fuzz/kernel_campaign/kernel_minimize.hpp"
#include "oracle/kernel_qemu_engine.hpp"
#include "oracle/known_kernel_bugs.hpp"
#include "tests/support/read_text.hpp"
#include "vm/isa/encode.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using test_support::read_text;

json read_json(const fs::path& path) {
  return json::parse(read_text(path));
}

// What the fake kernel does with the n-th program it is sent (1-based).
// KnownMapBug: the kernel behaves as Linux before 6.4 did for a JITed program,
// a failed map update/delete result zero-extended (oracle/known_kernel_bugs.hpp).
// AgreeByLuck: agrees, but the program reads stack bytes it never wrote, so
// a rerun could as well not (the kernel's stack is not zeroed).
enum class Script { Agree, AgreeByLuck, Reject, Mismatch, GuestDies, KnownMapBug };

// A kernel engine that runs our interpreter and reports its result as the
// kernel would, or rejects, disagrees or "dies" as scripted.
class FakeKernel final : public oracle::Engine {
 public:
  // `calls` outlives the engine (the campaign destroys its engines at the end).
  FakeKernel(std::function<Script(uint64_t)> script, fs::path record_dir, std::atomic<uint64_t>& calls)
      : Engine(oracle::default_helpers()),
        interp_(std::move(oracle::make_engine("interp")).value()),
        known_map_bug_(
            std::move(oracle::make_engine("interp", *oracle::known_kernel_bugs().at(0).emulation)).value()),
        script_(std::move(script)),
        record_dir_(std::move(record_dir)),
        calls_(calls) {}

  std::string_view name() const override { return "fake-kernel"; }

  oracle::Outcome run(const vm::Program& program, const oracle::EngineInput& input) override {
    const uint64_t call = ++calls_;
    oracle::Outcome out;
    out.engine = "fake-kernel";
    out.kernel = oracle::KernelOutcome{};
    out.kernel->release = "6.1.0-fake";
    out.memory = input.memory;
    switch (script_(call)) {
      case Script::Reject:
        out.kernel->verdict = oracle::kernel::KernelVerdict::Rejected;
        out.kernel->rejection_reason = call % 2 == 0 ? "R1 invalid mem access" : "unreachable insn";
        out.kernel->log = "0: (b7) r0 = 0\n" + out.kernel->rejection_reason + "\n";
        out.load_error = "rejected";
        return out;
      case Script::GuestDies: {
        // As the pool does: its own record first (with the console), then
        // a Failed response naming it.
        const fs::path record = record_dir_ / ("guest-died-" + std::to_string(call));
        fs::create_directories(record);
        std::ofstream(record / "console.log") << "[    1.0] Kernel panic - not syncing: fake\n";
        out.kernel->verdict = oracle::kernel::KernelVerdict::Failed;
        out.kernel->log = "guest failure: died: the VMM exited (status 137); finding " + record.string();
        out.load_error = out.kernel->log;
        return out;
      }
      case Script::Agree:
      case Script::AgreeByLuck:
      case Script::Mismatch:
      case Script::KnownMapBug:
        break;
    }
    const oracle::Outcome ours =
        (script_(call) == Script::KnownMapBug ? known_map_bug_ : interp_)->run(program, input);
    if (!ours.ok() && ours.error.kind != vm::ErrorKind::BudgetExhausted) {
      // A sound verifier refuses what would fault (here: the call depth).
      out.kernel->verdict = oracle::kernel::KernelVerdict::Rejected;
      out.kernel->rejection_reason = "fake: faults in our VM";
      out.load_error = "rejected";
      return out;
    }
    out.kernel->verdict = oracle::kernel::KernelVerdict::Accepted;
    out.loaded = ours.loaded;
    out.regs = ours.regs;
    out.memory = ours.memory;
    out.error = ours.error;
    if (script_(call) == Script::Mismatch) out.regs[0] ^= 1;
    if (script_(call) == Script::AgreeByLuck) out.kernel->uninitialized_stack_read = true;
    return out;
  }

 protected:
  Result<std::unique_ptr<oracle::Executor>> prepare_with(const vm::Program&, const vm::ExecLimits&,
                                                         const vm::HelperRegistry&) override {
    return make_error("fake-kernel loads per input");
  }

 private:
  std::unique_ptr<oracle::Engine> interp_;
  std::unique_ptr<oracle::Engine> known_map_bug_;
  std::function<Script(uint64_t)> script_;
  fs::path record_dir_;
  std::atomic<uint64_t>& calls_;
};

class KernelCampaignLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bpfdiff-kcampaign-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    // jit only where ours-vs-ours matters: its per-run mmap/mprotect makes
    // it the slow engine on a loaded machine.
    options_.engines = {"interp", "fake-kernel"};
    options_.out = dir_.string();
    options_.minutes = 60;  // the program count ends these runs
    options_.max_programs = 40;
    options_.max_instructions = 32;
    options_.progress_seconds = 1e9;
    // Kernel-friendly programs only (the fake's verdicts are scripted per
    // call); the mix has its own test.
    options_.verifier_stress_share = 0;
    options_.minimize_tests = 0;  // the fake's script counts calls; minimization has its own tests
  }
  void TearDown() override { fs::remove_all(dir_); }

  KernelCampaignHooks hooks(std::function<Script(uint64_t)> script) {
    KernelCampaignHooks h;
    h.make_engine = [this, script](const std::string& name) -> Result<std::unique_ptr<oracle::Engine>> {
      if (name == "fake-kernel") {
        return std::unique_ptr<oracle::Engine>(
            std::make_unique<FakeKernel>(script, dir_ / "findings" / "guest", fake_calls_));
      }
      if (name == "fake-kernel-fixed") {  // a second kernel that always runs like ours
        return std::unique_ptr<oracle::Engine>(std::make_unique<FakeKernel>(
            [](uint64_t) { return Script::Agree; }, dir_ / "findings" / "guest", fixed_calls_));
      }
      return oracle::make_engine(name);
    };
    h.is_kernel_engine = [](const std::string& name) {
      return name == "fake-kernel" || name == "fake-kernel-fixed";
    };
    return h;
  }

  Result<KernelCampaignResult> run(std::function<Script(uint64_t)> script) {
    return run_kernel_campaign(
        options_, [this](const std::string& line) { lines_.push_back(line); }, hooks(std::move(script)));
  }

  fs::path dir_;
  KernelCampaignOptions options_;
  std::atomic<uint64_t> fake_calls_{0};
  std::atomic<uint64_t> fixed_calls_{0};
  std::vector<std::string> lines_;
};

TEST_F(KernelCampaignLoop, TalliesEveryProgramByVerdict) {
  // Every third program is rejected, the rest agree.
  auto r = run([](uint64_t n) { return n % 3 == 0 ? Script::Reject : Script::Agree; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->programs, 40u);
  EXPECT_EQ(fake_calls_.load(), 40u);
  const oracle::KernelTally& t = r->tallies.at("fake-kernel");
  EXPECT_EQ(t.total(), 40u);
  const uint64_t rejected = t.count(oracle::KernelAgreement::KernelRejected);
  const uint64_t agree = t.count(oracle::KernelAgreement::Agree);
  const uint64_t not_comparable = t.count(oracle::KernelAgreement::NotComparable);
  EXPECT_GE(rejected, 13u);
  EXPECT_GE(agree, 20u);
  EXPECT_EQ(rejected + agree + not_comparable, 40u);
  EXPECT_NEAR(t.acceptance_percent(),
              100.0 * static_cast<double>(agree) / static_cast<double>(agree + rejected), 1e-9);
  EXPECT_TRUE(r->findings.empty());
  for (const auto& f : r->findings)
    ADD_FAILURE() << f.signature << " " << f.dir;
  EXPECT_EQ(r->ours_disagree, 0u);
  EXPECT_EQ(r->throughput.at("interp").runs, 40u);

  const json report = read_json(dir_ / "report.json");
  EXPECT_EQ(report["programs"], 40);
  EXPECT_EQ(report["reference"], "interp");
  EXPECT_EQ(report["kernels"]["fake-kernel"]["agree"], agree);
  EXPECT_EQ(report["kernels"]["fake-kernel"]["kernel-rejects"], rejected);
  EXPECT_EQ(report["kernels"]["fake-kernel"]["release"], "6.1.0-fake");
  EXPECT_DOUBLE_EQ(report["kernels"]["fake-kernel"]["agreement_percent"].get<double>(), 100.0);
  // The scripted reasons alternate with the call number: 3, 9, 15, ... are odd.
  std::map<std::string, int> reasons;
  for (const json& reason : report["kernels"]["fake-kernel"]["top_rejection_reasons"])
    reasons[reason["reason"].get<std::string>()] = reason["count"].get<int>();
  EXPECT_EQ(reasons["unreachable insn"], 7);
  EXPECT_EQ(reasons["R1 invalid mem access"], 6);
  EXPECT_EQ(reasons.size(), rejected == 13 ? 2u : 3u);
  EXPECT_TRUE(report["throughput"].contains("fake-kernel"));
  // Where the kernel's time went: every program of the kernel engine counted once.
  EXPECT_EQ(report["kernel_time"]["fake-kernel"]["programs"], 40);
  EXPECT_EQ(r->kernel_time.engine_total("fake-kernel").programs, 40u);
}

TEST_F(KernelCampaignLoop, AKnownKernelBugIsLabelledAndDoesNotCountAsNew) {
  // A kernel that zero-extends failed map results (the fake says it is 6.1):
  // every program where that shows is the known bug, under its own
  // signature, and nothing else is a finding.
  options_.max_programs = 1500;
  auto r = run([](uint64_t) { return Script::KnownMapBug; });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->findings.size(), 1u);
  const KernelCampaignFinding& f = r->findings[0];
  EXPECT_EQ(f.signature, "interp-vs-fake-kernel.known.map-op-result-zero-extended");
  EXPECT_EQ(f.known_bug, "map-op-result-zero-extended");
  EXPECT_GE(f.count, 1u);
  EXPECT_FALSE(r->hit_unknown_findings());
  const json finding = read_json(fs::path(f.dir) / "finding.json");
  EXPECT_EQ(finding["known_kernel_bug"]["id"], "map-op-result-zero-extended");
  EXPECT_EQ(finding["known_kernel_bug"]["evidence"], "corpus/kernel-findings/map-op-result-zero-extended");
  const json report = read_json(dir_ / "report.json");
  EXPECT_EQ(report["findings"][0]["known_kernel_bug"], "map-op-result-zero-extended");
  EXPECT_NE(format_kernel_campaign_summary(*r).find("1 of them known kernel bugs"), std::string::npos);
}

TEST_F(KernelCampaignLoop, TwoKernelsApartBecauseOfAKnownBugAreThatBug) {
  options_.engines = {"interp", "fake-kernel", "fake-kernel-fixed"};
  options_.max_programs = 1500;
  auto r = run([](uint64_t) { return Script::KnownMapBug; });
  ASSERT_TRUE(r) << r.error().message;
  std::vector<std::string> signatures;
  for (const KernelCampaignFinding& f : r->findings)
    signatures.push_back(f.signature);
  std::sort(signatures.begin(), signatures.end());
  EXPECT_EQ(signatures,
            (std::vector<std::string>{"fake-kernel-vs-fake-kernel-fixed.known.map-op-result-zero-extended",
                                      "interp-vs-fake-kernel.known.map-op-result-zero-extended"}));
  EXPECT_FALSE(r->hit_unknown_findings());
}

TEST_F(KernelCampaignLoop, AMismatchBesideAKnownBugIsStillNew) {
  options_.max_programs = 1500;
  auto r = run([](uint64_t n) { return n % 50 == 7 ? Script::Mismatch : Script::KnownMapBug; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->hit_unknown_findings());
  bool known = false;
  for (const KernelCampaignFinding& f : r->findings) {
    known = known || !f.known_bug.empty();
    if (f.known_bug.empty()) {
      EXPECT_EQ(f.signature.find(".known."), std::string::npos) << f.signature;
    }
  }
  EXPECT_TRUE(known);
}

TEST(KernelTimeTally, SumsTimePerSourceBucketAndVerdict) {
  KernelTimeTally t;
  oracle::Outcome k;
  k.kernel = oracle::KernelOutcome{};
  k.kernel->duration_ns = 1'000'000;
  oracle::KernelComparison agree;
  agree.kind = oracle::KernelAgreement::Agree;
  oracle::KernelComparison too_big;
  too_big.kind = oracle::KernelAgreement::KernelRejected;
  too_big.reason = "BPF program is too large. Processed # insn";
  for (int i = 0; i < 8; ++i)
    t.add("kernel-host", "kernel-friendly", 0.0005, k, agree);
  t.add("kernel-host", "verifier-stress-mutant", 2.0, k, too_big);
  const KernelTimeCell total = t.engine_total("kernel-host");
  EXPECT_EQ(total.programs, 9u);
  EXPECT_DOUBLE_EQ(total.wall_seconds, 2.004);
  EXPECT_DOUBLE_EQ(total.executor_seconds, 0.009);
  EXPECT_EQ(total.bucket_programs[0], 8u);  // <1ms
  EXPECT_EQ(total.bucket_programs[4], 1u);  // 1-10s
  EXPECT_EQ(kernel_time_bucket_label(4), "1-10s");
  EXPECT_EQ(total.by_verdict.at("rejected: " + too_big.reason).first, 1u);
  const auto j = t.to_json();
  EXPECT_EQ(j["kernel-host"]["sources"]["verifier-stress-mutant"]["programs"], 1);
  // The costliest verdict comes first.
  EXPECT_EQ(j["kernel-host"]["costliest_verdicts"][0]["verdict"], "rejected: " + too_big.reason);
  const std::string summary = t.summary();
  EXPECT_NE(summary.find("99.8% of the time: 1 programs, rejected: BPF program is too large"),
            std::string::npos)
      << summary;
  EXPECT_TRUE(t.engine_total("kernel-qemu").programs == 0);
}

TEST(KernelTimeTally, SplitsEngineTimeIntoExecutorAskingAndHostWork) {
  KernelTimeTally t;
  oracle::Outcome k;
  k.kernel = oracle::KernelOutcome{};
  k.kernel->duration_ns = 6'000'000;  // 6 ms in the executor
  k.kernel->request_ns = 9'000'000;   // of a 9 ms request
  oracle::KernelComparison agree;
  agree.kind = oracle::KernelAgreement::Agree;
  for (int i = 0; i < 4; ++i)
    t.add("kernel-qemu", "kernel-friendly", 0.010, k, agree);  // of a 10 ms run
  const KernelTimeCell total = t.engine_total("kernel-qemu");
  EXPECT_DOUBLE_EQ(total.request_seconds, 0.036);
  EXPECT_DOUBLE_EQ(t.to_json()["kernel-qemu"]["request_seconds"].get<double>(), 0.036);
  const std::string summary = t.summary();
  EXPECT_NE(summary.find("asking: 0.0 s (30.0%) between the request and the executor"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("0.0 s (10.0%) on the host around the request"), std::string::npos) << summary;
}

TEST(KernelTimeTally, CountsAbandonedProgramsInTheTimeAndOnTheirOwnLine) {
  KernelTimeTally t;
  oracle::Outcome judged;
  judged.kernel = oracle::KernelOutcome{};
  oracle::KernelComparison agree;
  agree.kind = oracle::KernelAgreement::Agree;
  oracle::Outcome given_up = judged;
  given_up.kernel->verdict = oracle::kernel::KernelVerdict::Failed;
  t.add("kernel-qemu", "kernel-friendly", 20.0, judged, agree);
  t.add_abandoned("kernel-qemu", "verifier-stress-mutant", 60.0, given_up);
  t.add_abandoned("kernel-qemu", "verifier-stress-mutant", 20.0, given_up);
  const KernelTimeCell total = t.engine_total("kernel-qemu");
  EXPECT_EQ(total.programs, 3u);
  EXPECT_DOUBLE_EQ(total.wall_seconds, 100.0);
  EXPECT_EQ(total.abandoned_programs, 2u);
  EXPECT_DOUBLE_EQ(total.abandoned_seconds, 80.0);
  EXPECT_EQ(total.bucket_programs[5], 3u);  // >=10s
  // No verdict: only the judged program has one.
  ASSERT_EQ(total.by_verdict.size(), 1u);
  EXPECT_EQ(total.by_verdict.begin()->second.first, 1u);
  const auto j = t.to_json();
  EXPECT_EQ(j["kernel-qemu"]["abandoned"]["programs"], 2);
  EXPECT_DOUBLE_EQ(j["kernel-qemu"]["abandoned"]["seconds"].get<double>(), 80.0);
  EXPECT_EQ(j["kernel-qemu"]["sources"]["kernel-friendly"]["abandoned"]["programs"], 0);
  const std::string summary = t.summary();
  EXPECT_NE(summary.find("time on kernel-qemu: 100.0 s for 3 programs"), std::string::npos) << summary;
  EXPECT_NE(summary.find("abandoned (not judged)        2 programs     80.0 s (80.0%)"), std::string::npos)
      << summary;
  // Nothing abandoned, no such line.
  KernelTimeTally none;
  none.add("kernel-qemu", "kernel-friendly", 1.0, judged, agree);
  EXPECT_EQ(none.summary().find("abandoned"), std::string::npos) << none.summary();
}

TEST_F(KernelCampaignLoop, MixesTheGeneratorsAndReportsAcceptancePerSource) {
  options_.verifier_stress_share = 0.5;
  options_.mutate_rate = 0.5;
  options_.max_programs = 80;
  // Every fifth program is rejected; the verifier-stressing ones that would
  // fault in our VM are rejected by the fake too.
  auto r = run([](uint64_t n) { return n % 5 == 0 ? Script::Reject : Script::Agree; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->findings.empty());
  for (const auto& f : r->findings)
    ADD_FAILURE() << f.signature << " " << f.dir;
  uint64_t total = 0;
  for (const char* source : {"kernel-friendly", "verifier-stress", "verifier-stress-mutant"}) {
    ASSERT_TRUE(r->source_tallies.count(source)) << source;
    total += r->source_tallies.at(source).at("fake-kernel").total();
  }
  EXPECT_EQ(total, 80u);
  const json report = read_json(dir_ / "report.json");
  EXPECT_DOUBLE_EQ(report["mix"]["verifier_stress_share"].get<double>(), 0.5);
  uint64_t rejected = 0;
  for (const auto& [source, kernels] : report["sources"].items()) {
    const json& k = kernels["fake-kernel"];
    rejected += k["kernel-rejects"].get<uint64_t>();
    EXPECT_GE(k["acceptance_percent"].get<double>(), 0.0) << source;
    for (const json& reason : k["top_rejection_reasons"])
      EXPECT_GT(reason["count"].get<int>(), 0);
  }
  EXPECT_EQ(rejected, r->tallies.at("fake-kernel").count(oracle::KernelAgreement::KernelRejected));
  const std::string summary = format_kernel_campaign_summary(*r);
  EXPECT_NE(summary.find("verifier-stress programs on fake-kernel"), std::string::npos) << summary;
}

// Mutants are drawn from programs whose agreement a rerun would repeat: one
// that agreed only because the kernel's stale stack happened to match ours
// never feeds them, so the same seed draws the same programs.
TEST_F(KernelCampaignLoop, ProgramsThatAgreeByLuckAreNeverMutated) {
  options_.verifier_stress_share = 1;
  options_.mutate_rate = 1;
  options_.max_programs = 30;
  auto lucky = run([](uint64_t) { return Script::AgreeByLuck; });
  ASSERT_TRUE(lucky) << lucky.error().message;
  EXPECT_EQ(lucky->source_tallies.count("verifier-stress-mutant"), 0u);
  ASSERT_TRUE(lucky->source_tallies.count("verifier-stress"));
  EXPECT_EQ(lucky->source_tallies.at("verifier-stress").at("fake-kernel").total(), 30u);

  TearDown();
  SetUp();
  options_.verifier_stress_share = 1;
  options_.mutate_rate = 1;
  options_.max_programs = 30;
  auto agreeing = run([](uint64_t) { return Script::Agree; });
  ASSERT_TRUE(agreeing) << agreeing.error().message;
  ASSERT_TRUE(agreeing->source_tallies.count("verifier-stress-mutant"));
  EXPECT_GT(agreeing->source_tallies.at("verifier-stress-mutant").at("fake-kernel").total(), 0u);
}

TEST_F(KernelCampaignLoop, AFindingNamesTheGeneratorThatWroteIt) {
  options_.verifier_stress_share = 1;
  options_.mutate_rate = 0;
  options_.max_programs = 10;
  auto r = run([](uint64_t) { return Script::Mismatch; });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->findings.size(), 1u);
  EXPECT_EQ(read_json(fs::path(r->findings[0].dir) / "finding.json")["generator"], "verifier-stress");
}

TEST_F(KernelCampaignLoop, ANewKernelFindingIsMinimizedWhileTheKernelAcceptsItAndTheDifferenceStays) {
  options_.minimize_tests = 400;
  options_.max_programs = 3;
  // Every program the fake accepts differs in r0: the smallest one that our
  // VM runs cleanly (the fake rejects the rest) keeps the finding.
  auto r = run([](uint64_t) { return Script::Mismatch; });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->findings.size(), 1u);
  const fs::path d = r->findings[0].dir;
  const json finding = read_json(d / "finding.json");
  ASSERT_TRUE(finding.contains("minimized")) << finding.dump(2);
  const auto slots = finding["minimized"]["slots"].get<std::size_t>();
  EXPECT_LT(slots, finding["minimized"]["original_slots"].get<std::size_t>());
  EXPECT_LE(slots, 4u);
  EXPECT_GT(finding["minimized"]["tests"].get<std::size_t>(), 0u);
  EXPECT_TRUE(fs::exists(d / "original.raw"));
  EXPECT_EQ(finding["differences"][0]["field"], "r0");
  EXPECT_EQ(finding["class"], "unclassified") << "one kernel engine: no JIT/interpreter pair";
}

TEST_F(KernelCampaignLoop, AFindingIsClassifiedByTheSameKernelsJitAndInterpreter) {
  const auto classify = [this](bool interp_differs) {
    fs::remove_all(dir_);
    options_.engines = {"interp", "kernel-qemu", "kernel-qemu-interp"};
    options_.max_programs = 2;
    KernelCampaignHooks h;
    h.make_engine = [this,
                     interp_differs](const std::string& name) -> Result<std::unique_ptr<oracle::Engine>> {
      if (name == "kernel-qemu" || name == "kernel-qemu-interp") {
        const bool differs = name == "kernel-qemu" || interp_differs;
        return std::unique_ptr<oracle::Engine>(std::make_unique<FakeKernel>(
            [differs](uint64_t) { return differs ? Script::Mismatch : Script::Agree; },
            dir_ / "findings" / "guest", fake_calls_));
      }
      return oracle::make_engine(name);
    };
    h.is_kernel_engine = [](const std::string& name) { return name.rfind("kernel-", 0) == 0; };
    auto r = run_kernel_campaign(options_, nullptr, h);
    EXPECT_TRUE(r) << r.error().message;
    std::vector<std::string> signatures;
    for (const auto& f : r->findings)
      signatures.push_back(f.signature);
    return signatures;
  };
  const auto jit_only = classify(false);
  EXPECT_NE(std::find(jit_only.begin(), jit_only.end(), "interp-vs-kernel-qemu.mismatch.state.jit"),
            jit_only.end())
      << ::testing::PrintToString(jit_only);
  const auto both = classify(true);
  EXPECT_NE(std::find(both.begin(), both.end(), "interp-vs-kernel-qemu.mismatch.state.verifier-rewrite"),
            both.end())
      << ::testing::PrintToString(both);
  EXPECT_NE(
      std::find(both.begin(), both.end(), "interp-vs-kernel-qemu-interp.mismatch.state.verifier-rewrite"),
      both.end());
}

TEST(KernelMinimize, AHelperResultMustStayReducedToAConstant) {
  vm::Program p;
  p.slots = {isa::encode(isa::Form::call_helper, 0, 0, 0, 7), isa::encode(isa::Form::and_imm, 0, 0, 0, 0),
             isa::encode(isa::Form::exit, 0, 0, 0, 0)};
  EXPECT_TRUE(helper_results_reduced(p));
  p.slots[1] = isa::encode(isa::Form::and_imm, 0, 0, 0, 1);
  EXPECT_FALSE(helper_results_reduced(p));
  p.slots[1] = isa::encode(isa::Form::rsh_imm, 0, 0, 0, 40);
  EXPECT_TRUE(helper_results_reduced(p));
  p.slots[0].imm = 5;  // ktime: only >> 63 clears it
  EXPECT_FALSE(helper_results_reduced(p));
  p.slots.erase(p.slots.begin() + 1);
  EXPECT_FALSE(helper_results_reduced(p));
}

TEST_F(KernelCampaignLoop, WorkersShareTheProgramsAndTheCountsStayExact) {
  options_.guests = 3;  // three workers, each with its own engines
  auto r = run([](uint64_t n) { return n % 4 == 0 ? Script::Reject : Script::Agree; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->programs, 40u);
  EXPECT_EQ(fake_calls_.load(), 40u);
  EXPECT_EQ(r->throughput.at("interp").runs, 40u);
  const oracle::KernelTally& t = r->tallies.at("fake-kernel");
  EXPECT_EQ(t.total(), 40u);
  EXPECT_GE(t.count(oracle::KernelAgreement::KernelRejected), 10u);
  const json state = read_json(dir_ / "kernel-state.json");
  EXPECT_EQ(state["total_programs"], 40);
  EXPECT_EQ(state["next_iteration"].get<uint64_t>(), 40u);
}

TEST_F(KernelCampaignLoop, RunsEveryEngineOfOursBesideTheKernel) {
  options_.engines = {"interp", "jit", "fake-kernel"};
  options_.max_programs = 8;
  auto r = run([](uint64_t) { return Script::Agree; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->reference, "interp");
  EXPECT_EQ(r->throughput.at("jit").runs, 8u);
  EXPECT_EQ(r->ours_disagree, 0u);
  EXPECT_EQ(r->tallies.size(), 1u);  // jit is ours: compared with interp, not tallied as a kernel
}

TEST_F(KernelCampaignLoop, WritesEachSignatureOnceAndCountsRepeats) {
  auto r = run([](uint64_t n) { return n % 10 == 5 ? Script::Mismatch : Script::Agree; });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->findings.size(), 1u);
  const KernelCampaignFinding& f = r->findings.front();
  EXPECT_EQ(f.signature, "interp-vs-fake-kernel.mismatch.state")
      << "one finding however many registers differ";
  EXPECT_EQ(f.count, 4u);
  EXPECT_EQ(r->tallies.at("fake-kernel").count(oracle::KernelAgreement::Mismatch), 4u);
  const fs::path d = dir_ / "findings" / f.signature;
  ASSERT_EQ(fs::path(f.dir), d);
  for (const char* file : {"finding.json", "case.data", "input.raw", "outcomes.json"})
    EXPECT_TRUE(fs::exists(d / file)) << file;
  const json finding = read_json(d / "finding.json");
  EXPECT_EQ(finding["kind"], "mismatch");
  EXPECT_EQ(finding["differences"][0]["field"], "r0");
  EXPECT_EQ(finding["kernel_releases"]["fake-kernel"], "6.1.0-fake");
  EXPECT_NE(finding["repro"].get<std::string>().find("/case.data --budget"), std::string::npos);
  const json outcomes = read_json(d / "outcomes.json");
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0]["engine"], "interp");
  EXPECT_EQ(outcomes[1]["kernel"]["verdict"], "accepted");
  EXPECT_NE(read_text(d / "case.data").find("-- asm"), std::string::npos);
  // Built under a temporary name and renamed: nothing half-written is left.
  for (const auto& entry : fs::directory_iterator(dir_ / "findings"))
    EXPECT_NE(entry.path().filename().string().rfind(".tmp-", 0), 0u) << entry.path();
}

TEST_F(KernelCampaignLoop, AGuestFailureIsAFindingWithItsConsoleAndTheCampaignGoesOn) {
  auto r = run([](uint64_t n) { return n == 7 ? Script::GuestDies : Script::Agree; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->programs, 40u);
  ASSERT_EQ(r->findings.size(), 1u);
  EXPECT_EQ(r->findings[0].signature, "fake-kernel.guest-died");
  EXPECT_EQ(r->findings[0].kind, "guest failure");
  const fs::path d = dir_ / "findings" / "fake-kernel.guest-died";
  EXPECT_NE(read_text(d / "console.log").find("Kernel panic"), std::string::npos);
  EXPECT_NE(read_text(d / "kernel-fake-kernel.log").find("guest failure: died"), std::string::npos);
  EXPECT_EQ(read_json(d / "finding.json")["guest_record"],
            (dir_ / "findings" / "guest" / "guest-died-7").string());
  // Not a mismatch: counted as not comparable (once, for the failure; a
  // program that runs out of our budget is not comparable either), the
  // others agree.
  const oracle::KernelTally& t = r->tallies.at("fake-kernel");
  uint64_t guest_failures = 0;
  for (const auto& [reason, n] : t.not_comparable())
    if (reason.rfind("failed: guest failure: died", 0) == 0) guest_failures += n;
  EXPECT_EQ(guest_failures, 1u);
  EXPECT_EQ(t.count(oracle::KernelAgreement::Agree) + t.count(oracle::KernelAgreement::NotComparable) +
                t.count(oracle::KernelAgreement::KernelRejected),
            40u);
  EXPECT_EQ(t.count(oracle::KernelAgreement::Mismatch), 0u);
}

TEST_F(KernelCampaignLoop, ResumesFromItsStateWithTheSameSeed) {
  options_.seed = 77;
  options_.max_programs = 10;
  auto first = run([](uint64_t n) { return n == 3 ? Script::Mismatch : Script::Agree; });
  ASSERT_TRUE(first) << first.error().message;
  const json state = read_json(dir_ / "kernel-state.json");
  EXPECT_EQ(state["seed"], 77);
  EXPECT_EQ(state["total_programs"], 10);
  const uint64_t next = state["next_iteration"].get<uint64_t>();
  EXPECT_EQ(next, 10u);

  options_.seed = 1;  // a resumed campaign keeps its own seed
  // The fake counts its calls over both sessions: 13 is the second one's third.
  auto second = run([](uint64_t n) { return n == 13 ? Script::Mismatch : Script::Agree; });
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->seed, 77u);
  EXPECT_EQ(second->total_programs, 20u);
  EXPECT_GE(read_json(dir_ / "kernel-state.json")["next_iteration"].get<uint64_t>(), next + 10);
  ASSERT_EQ(second->findings.size(), 1u);
  EXPECT_EQ(second->findings[0].count, 2u);  // seen again in the second session, still one directory
  EXPECT_EQ(second->findings[0].hits_this_session, 1u);
  EXPECT_EQ(second->new_findings, 0u);
  EXPECT_TRUE(second->hit_unknown_findings());
}

TEST_F(KernelCampaignLoop, AFindingOfAnEarlierSessionAloneDoesNotFailTheNextOne) {
  // Session one finds a mismatch (the run fails); session two, on the same
  // --out, finds nothing: the finding stays listed, but the run passes.
  options_.max_programs = 10;
  auto first = run([](uint64_t n) { return n == 3 ? Script::Mismatch : Script::Agree; });
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->hit_unknown_findings());

  auto second = run([](uint64_t) { return Script::Agree; });
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_EQ(second->findings.size(), 1u);
  EXPECT_EQ(second->findings[0].count, 1u);
  EXPECT_EQ(second->findings[0].hits_this_session, 0u);
  EXPECT_FALSE(second->hit_unknown_findings());
  const std::string summary = format_kernel_campaign_summary(*second);
  EXPECT_NE(summary.find("1 not hit again in this session"), std::string::npos) << summary;
  EXPECT_NE(summary.find("(earlier sessions only)"), std::string::npos) << summary;
  EXPECT_EQ(read_json(dir_ / "report.json")["findings"][0]["hits_this_session"], 0);
}

TEST_F(KernelCampaignLoop, RefusesEngineListsWithoutBothSides) {
  options_.engines = {"interp", "jit"};
  auto no_kernel = run([](uint64_t) { return Script::Agree; });
  ASSERT_FALSE(no_kernel);
  EXPECT_NE(no_kernel.error().message.find("no kernel engine"), std::string::npos);
  options_.engines = {"fake-kernel"};
  EXPECT_FALSE(run([](uint64_t) { return Script::Agree; }));
  options_.engines = {"interp", "fake-kernel", "interp"};
  auto twice = run([](uint64_t) { return Script::Agree; });
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("twice"), std::string::npos);
}

TEST(KernelCampaignEngines, NamesTheKernelEnginesItRunsInProcess) {
  EXPECT_TRUE(names_kernel_engine({"interp", "kernel-qemu"}));
  EXPECT_TRUE(names_kernel_engine({"kernel-qemu-interp", "interp"}));
  EXPECT_TRUE(names_kernel_engine({"interp", "kernel-host"}));
  EXPECT_FALSE(names_kernel_engine({"interp", "jit"}));
  const auto names = oracle::kernel_engine_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "kernel-qemu"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "kernel-qemu-interp"), names.end());
  // engine_names() stays our in-process engines (the interp-vs-JIT targets iterate it).
  for (const std::string& n : oracle::engine_names())
    EXPECT_EQ(n.rfind("kernel", 0), std::string::npos) << n;
}

TEST(KernelQemuEngine, SaysWhatIsMissingWhenThereIsNoImage) {
  ::setenv("BPFDIFF_GUEST_DIR", "/nonexistent/bpfdiff-guest", 1);
  for (const char* name : {"kernel-qemu", "kernel-qemu-interp"}) {
    auto engine = oracle::make_engine(name);
    ASSERT_FALSE(engine) << name;
    EXPECT_NE(engine.error().message.find(std::string(name) + " unavailable: "), std::string::npos)
        << engine.error().message;
    EXPECT_NE(engine.error().message.find("scripts/build-guest.sh"), std::string::npos)
        << engine.error().message;
  }
  ::unsetenv("BPFDIFF_GUEST_DIR");
}

TEST(KernelFinding, AnExistingSignatureDirectoryIsLeftAsItIs) {
  const fs::path dir = fs::temp_directory_path() / ("bpfdiff-kfinding-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  KernelCase c;
  c.program.slots = {isa::RawInsn{0xb7, 0, 0, 0, 7}, isa::RawInsn{0x95, 0, 0, 0, 0}};
  c.input.memory = {1, 2, 3};
  oracle::Outcome o;
  o.engine = "interp";
  o.loaded = true;
  o.regs[0] = 7;
  c.outcomes = {o};
  KernelFindingRecord f;
  f.signature = "a-vs-b.mismatch.r0";
  f.kind = "mismatch";
  f.title = "first";
  auto first = write_kernel_finding(dir.string(), f, c, {"interp"});
  ASSERT_TRUE(first) << first.error().message;
  f.title = "second";
  auto second = write_kernel_finding(dir.string(), f, c, {"interp"});
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(read_json(fs::path(*first) / "finding.json")["title"], "first");
  EXPECT_NE(read_text(fs::path(*first) / "case.data").find("-- result\n0x7"), std::string::npos)
      << read_text(fs::path(*first) / "case.data");
  fs::remove_all(dir);
}

TEST(KernelFinding, AMismatchCarriesAStandaloneCReproducerOfTheFormThatShowsIt) {
  const fs::path dir = fs::temp_directory_path() / ("bpfdiff-kfinding-c-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  KernelCase c;
  c.program.slots = {isa::RawInsn{0xb7, 0, 0, 0, 7}, isa::RawInsn{0x95, 0, 0, 0, 0}};
  c.input.memory = {1, 2, 3};
  oracle::Outcome ours;
  ours.engine = "interp";
  ours.loaded = true;
  ours.regs[0] = 7;
  ours.memory = c.input.memory;
  oracle::Outcome kernel = ours;
  kernel.engine = "kernel-host";
  kernel.kernel = oracle::KernelOutcome{};
  c.outcomes = {ours, kernel};
  KernelFindingRecord f;
  f.signature = "interp-vs-kernel-host.mismatch.unmodified-state";
  f.kind = "mismatch";
  f.title = "r0 differs in the unmodified run";
  f.differences = {{"plain.r0.low32", "0x7", "0x8"}};
  auto written = write_kernel_finding(dir.string(), f, c, {"interp", "kernel-host"});
  ASSERT_TRUE(written) << written.error().message;
  const std::string source = read_text(fs::path(*written) / "repro.c");
  EXPECT_NE(source.find("BPF_PROG_TEST_RUN"), std::string::npos) << source;
  EXPECT_NE(read_json(fs::path(*written) / "finding.json")["c_reproducer"].get<std::string>().find("repro.c"),
            std::string::npos);

  // A finding that is not a state mismatch has nothing to print, so no repro.c.
  f.signature = "interp-vs-kernel-host.we-reject";
  f.kind = "we reject";
  auto other = write_kernel_finding(dir.string(), f, c, {"interp", "kernel-host"});
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_FALSE(fs::exists(fs::path(*other) / "repro.c"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bpfdiff::cli
