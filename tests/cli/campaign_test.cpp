// The campaign (`bpfdiff fuzz`) in pieces -- state and its JSON, the work
// plan, fuzzer status parsing, crash titles, the report -- and whole, run
// in process over a stand-in fuzzer (fake_libfuzzer.sh) that behaves like a
// libFuzzer binary, so the runner, crash securing, restart, triage, resume
// and report writing are exercised in a few seconds without a fuzz build.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "fuzz/campaign/campaign.hpp"
#include "fuzz/campaign/campaign_report.hpp"
#include "fuzz/campaign/campaign_state.hpp"
#include "fuzz/campaign/campaign_triage.hpp"
#include "fuzz/campaign/coverage_summary.hpp"
#include "fuzz/campaign/fuzzer_status.hpp"
#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(CampaignState, RoundTripsThroughJson) {
  CampaignState s;
  s.engine = "afl";
  s.fuzz_seconds_before = 12.5;
  s.sessions.push_back({60, 30, 2, false, {{"interp_raw", 60, 30}, {"jit_decode", 60, 29}}});
  s.targets["interp_raw"] = {1000, 30, 55, 70, 12, 1};
  s.samples.push_back({5, "interp_raw", 100, 50, 10});
  s.crashes.push_back({"crashes/interp_raw/crash-1", "interp_raw", true, "k"});
  s.findings.push_back(
      {"k", "title", "interp_raw", "invariant", "findings/k/input", 2, "m", 40, 4, "cmd", "bin"});
  auto back = campaign_state_from_json(nlohmann::json::parse(to_json(s).dump()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json(*back), to_json(s));
  EXPECT_NE(back->open_session(), nullptr);
  EXPECT_NE(back->crash("crashes/interp_raw/crash-1"), nullptr);
  EXPECT_NE(back->finding("k"), nullptr);
}

TEST(CampaignState, RejectsMalformedState) {
  EXPECT_FALSE(campaign_state_from_json(nlohmann::json::parse(R"({"version": 2})")));
  EXPECT_FALSE(campaign_state_from_json(nlohmann::json::parse(R"({"sessions": [{"jobs": "x"}]})")));
}

TEST(CampaignState, SavesAtomicallyAndLoadsBack) {
  TempDir dir;
  CampaignState s;
  s.targets["t"].execs = 7;
  ASSERT_TRUE(save_campaign_state(s, dir.path()));
  auto back = load_campaign_state(dir.path());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->targets["t"].execs, 7u);
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "state.json");  // no temporary left behind
  auto fresh = load_campaign_state(dir.path() + "/nothing-here");
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(fresh->sessions.empty());
}

TEST(PlanWork, EnoughJobsGiveEveryTargetWholeJobs) {
  const auto items = plan_work({"a", "b"}, 3, 60);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].target, "a");
  EXPECT_EQ(items[1].target, "b");
  EXPECT_EQ(items[2].target, "a");
  for (const WorkItem& w : items)
    EXPECT_EQ(w.seconds, 60);
}

TEST(PlanWork, FewerJobsShareTheJobSecondsEqually) {
  const auto items = plan_work({"a", "b", "c", "d"}, 2, 60);
  ASSERT_EQ(items.size(), 4u);
  double total = 0;
  for (const WorkItem& w : items) {
    EXPECT_DOUBLE_EQ(w.seconds, 30);
    total += w.seconds;
  }
  EXPECT_DOUBLE_EQ(total, 120);
  EXPECT_TRUE(plan_work({}, 2, 60).empty());
}

TEST(JobSeconds, OnScheduleAJobFuzzesItsItemsWholeShare) {
  EXPECT_DOUBLE_EQ(job_seconds(60, 10, 2, 0, 12), 12);
  EXPECT_DOUBLE_EQ(job_seconds(60, 1, 2, 0, 12), 12);  // never more than the item's own share
}

TEST(JobSeconds, BehindScheduleEveryWaitingItemStillGetsATurn) {
  // 14 s left, 4 items waiting on 2 jobs: two turns of 7 s, less 3 s of start-up.
  EXPECT_DOUBLE_EQ(job_seconds(14, 4, 2, 3, 12), 4);
  // Almost out of time: a second, or what is left.
  EXPECT_DOUBLE_EQ(job_seconds(5, 4, 2, 3, 12), 1);
  EXPECT_DOUBLE_EQ(job_seconds(0.5, 1, 2, 3, 12), 0.5);
  EXPECT_DOUBLE_EQ(job_seconds(0, 1, 2, 0, 12), 0);
}

// The main job's one-minute campaign: 10 targets on 2 jobs, every job taking
// 3 s to start. Asking each for the plan's 12 s ran the minute out after four
// turns (two targets had none); the start-up learnt from the first turn makes
// the five turns fit.
TEST(JobSeconds, TenTargetsOnTwoJobsAllRunInOneMinuteDespiteSlowStarts) {
  const std::vector<std::string> targets = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  std::vector<WorkItem> items = plan_work(targets, 2, 60);
  constexpr double kStartup = 3;
  double now = 0, learnt = 0;
  std::size_t next = 0;
  while (next < items.size()) {  // a turn: both jobs start together
    double longest = 0;
    for (int job = 0; job < 2 && next < items.size(); ++job) {
      const double asked = job_seconds(60 - now, items.size() - next, 2, learnt, items[next].remaining());
      ASSERT_GE(asked, 1) << "item " << next << " at " << now << " s";
      items[next++].done = asked + kStartup;
      longest = std::max(longest, asked);
    }
    now += longest + kStartup;
    learnt = kStartup;
  }
  EXPECT_LE(now, 60.0 + 1e-9);
}

TEST(CampaignSummary, ATargetThatGotNoTurnIsSaidToBeNotRun) {
  CampaignResult r;
  r.state.targets["ran"].execs = 100;
  r.state.targets["ran"].seconds = 10;
  r.state.targets["late"];
  const std::string summary = format_campaign_summary(r);
  EXPECT_NE(summary.find("late                   not run: the time ran out before its turn"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("ran                    100"), std::string::npos) << summary;
}

TEST(FuzzerStatus, ParsesTheLastLibFuzzerStatusLine) {
  const auto s = parse_libfuzzer_output(
      "INFO: Seed: 1\n#2\tINITED cov: 22 ft: 23 corp: 1/1b exec/s: 0 rss: 30Mb\n"
      "#4096\tpulse  cov: 812 ft: 1520 corp: 92/3402b lim: 4 exec/s: 2048 rss: 61Mb\nDone 4096 runs\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->execs, 4096u);
  EXPECT_EQ(s->coverage, 812u);
  EXPECT_EQ(s->features, 1520u);
  EXPECT_EQ(s->corpus, 92u);
  EXPECT_EQ(s->exec_per_sec, 2048u);
  EXPECT_FALSE(parse_libfuzzer_output("INFO: Loaded 1 modules\n#hash\n"));
}

TEST(FuzzerStatus, ParsesAflStats) {
  const auto s = parse_afl_stats(
      "start_time        : 1\nexecs_done        : 123456\nexecs_per_sec     : 2345.67\n"
      "corpus_count      : 88\nsaved_crashes     : 2\nedges_found       : 999\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->execs, 123456u);
  EXPECT_EQ(s->exec_per_sec, 2345u);
  EXPECT_EQ(s->corpus, 88u);
  EXPECT_EQ(s->crashes, 2u);
  EXPECT_EQ(s->coverage, 999u);
  EXPECT_FALSE(parse_afl_stats("nothing: here\n"));
}

TEST(FuzzerStatus, ParsesTheLastRowOfAflPlotDataByColumnName) {
  const auto s = parse_afl_plot_data(
      "# relative_time, cycles_done, cur_item, corpus_count, pending_total, pending_favs, map_size, "
      "saved_crashes, saved_hangs, max_depth, execs_per_sec, total_execs, edges_found\n"
      "1, 0, 0, 5, 5, 1, 0.50%, 0, 0, 1, 100.00, 500, 40\n"
      "6, 0, 3, 9, 7, 1, 0.70%, 1, 0, 2, 1500.50, 9000, 77\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->execs, 9000u);
  EXPECT_EQ(s->exec_per_sec, 1500u);
  EXPECT_EQ(s->corpus, 9u);
  EXPECT_EQ(s->crashes, 1u);
  EXPECT_EQ(s->coverage, 77u);
  EXPECT_FALSE(parse_afl_plot_data("# relative_time, total_execs\n"));
}

TEST(CrashTitle, ComesFromTheFindingLineTheSanitizerOrTheArtifactKind) {
  EXPECT_EQ(title_from_output("x\n==bpfdiff== FINDING: interp: budget overrun\n123\n", 134, "crash-1").title,
            "interp: budget overrun");
  const CrashTitle asan = title_from_output(
      "SUMMARY: AddressSanitizer: heap-buffer-overflow /work/vm/a.cpp:12:3 in bpfdiff::f()\n", 1, "crash-2");
  EXPECT_EQ(asan.kind, "sanitizer");
  EXPECT_EQ(asan.title, "AddressSanitizer: heap-buffer-overflow in bpfdiff::f()");
  EXPECT_EQ(title_from_output("", 0, "timeout-3").kind, "timeout");
  EXPECT_EQ(title_from_output("", 0, "oom-3").kind, "oom");
  EXPECT_EQ(title_from_output("", 0, "crash-4").title, "does not reproduce");
  EXPECT_EQ(
      title_from_output("==bpfdiff== FINDING: divergence interp vs smt: r0 at add_imm\n", 134, "crash-5")
          .kind,
      "divergence");
  EXPECT_EQ(generic_finding_key("interp_raw", "interp: budget overrun"), "interp_raw.interp__budget_overrun");
}

TEST(CampaignReport, HtmlIsSelfContainedWithPlotsAndEscapedText) {
  CampaignState s;
  s.targets["t<1>"] = {1000, 10, 50, 60, 5, 1};
  s.samples = {{0, "t<1>", 0, 0, 0}, {5, "t<1>", 500, 40, 3}, {10, "t<1>", 1000, 50, 5}};
  s.findings.push_back({"k", "divergence interp vs jit: r0 at add32_imm", "t<1>", "divergence", "f", 1,
                        "m.data", 30, 3, "bpfdiff repro m.data", ""});
  CampaignReport r{&s, std::nullopt, "no coverage build", "out"};
  const std::string html = campaign_report_html(r);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_NE(html.find("t&lt;1&gt;"), std::string::npos);
  EXPECT_EQ(html.find("t<1>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);  // nothing fetched
  EXPECT_NE(html.find("30 &rarr; 3"), std::string::npos);
  const auto j = campaign_report_json(r);
  EXPECT_EQ(j["totals"]["execs"], 1000);
  EXPECT_DOUBLE_EQ(j["targets"]["t<1>"]["exec_per_sec"].get<double>(), 100.0);
  EXPECT_EQ(j["findings"].size(), 1u);
  EXPECT_TRUE(j["coverage"].is_null());
}

TEST(CoverageSummary, KeepsTheProjectsFilesRelativeToItsRoot) {
  const auto j = nlohmann::json::parse(R"({"data": [{"files": [
      {"filename": "/src/vm/a.cpp", "summary": {"lines": {"count": 10, "covered": 5},
                                                "functions": {"count": 2, "covered": 1},
                                                "regions": {"count": 4, "covered": 4}}},
      {"filename": "/usr/include/c++/12/vector", "summary": {"lines": {"count": 100, "covered": 1}}},
      {"filename": "/src/build/gen.cpp", "summary": {"lines": {"count": 7, "covered": 7}}},
      {"filename": "/src/fuzz/b.cpp", "summary": {"lines": {"count": 10, "covered": 10}}}]}]})");
  auto s = parse_llvm_cov_export(j, "/src");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->files.size(), 2u);
  EXPECT_EQ(s->files[0].file, "fuzz/b.cpp");
  EXPECT_EQ(s->files[1].file, "vm/a.cpp");
  EXPECT_EQ(s->lines.count, 20u);
  EXPECT_EQ(s->lines.covered, 15u);
  EXPECT_DOUBLE_EQ(s->lines.percent(), 75.0);
  EXPECT_FALSE(parse_llvm_cov_export(nlohmann::json::parse("{}"), "/src"));
}

TEST(Campaign, DiscoversTargetsButNotReplayBinaries) {
  TempDir dir;
  fs::create_directories(dir.path() + "/fuzz");
  for (const char* name : {"fuzz_b", "fuzz_a", "fuzz_a_replay", "other"}) {
    const std::string p = dir.write(std::string("fuzz/") + name, "#!/bin/sh\n");
    ::chmod(p.c_str(), 0755);
  }
  dir.write("fuzz/fuzz_not_executable", "");
  EXPECT_EQ(discover_targets(dir.path()), (std::vector<std::string>{"a", "b"}));
}

TEST(Campaign, SaysWhatToBuildWhenThereAreNoTargets) {
  TempDir dir;
  CampaignOptions o;
  o.build_dir = dir.path();
  o.out = dir.path() + "/out";
  auto r = run_campaign(o, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cmake --preset fuzz"), std::string::npos) << r.error().message;
}

class FakeCampaign : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(build.path() + "/fuzz");
    const fs::path bin = fs::path(build.path()) / "fuzz" / "fuzz_fake";
    fs::copy_file(BPFDIFF_FAKE_FUZZER, bin);
    fs::permissions(bin, fs::perms::owner_all);
    options.build_dir = build.path();
    options.out = out.path() + "/campaign";
    options.source_root = out.path();  // no seeds, no dictionaries
    options.minutes = 3.0 / 60;
    options.jobs = 1;
    options.progress_seconds = 0.5;
    options.coverage = false;
  }

  Result<CampaignResult> run() {
    return run_campaign(options, [this](const std::string& line) { lines.push_back(line); });
  }

  TempDir build, out;
  CampaignOptions options;
  std::vector<std::string> lines;
};

TEST_F(FakeCampaign, RunsTriagesAndReports) {
  auto r = run();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->interrupted);
  const CampaignState& s = r->state;
  ASSERT_EQ(s.crashes.size(), 1u);
  EXPECT_TRUE(s.crashes[0].triaged);
  EXPECT_TRUE(fs::exists(fs::path(options.out) / s.crashes[0].file));
  ASSERT_EQ(s.findings.size(), 1u);
  EXPECT_EQ(s.findings[0].title, "fake: boom");
  EXPECT_EQ(s.findings[0].kind, "invariant");
  EXPECT_TRUE(fs::exists(fs::path(options.out) / s.findings[0].first_input));
  // The job restarted after the crash and fuzzed on.
  EXPECT_GT(s.targets.at("fake").execs, 1000u);
  EXPECT_FALSE(s.samples.empty());
  EXPECT_TRUE(s.sessions.back().complete);
  bool progress = false;
  for (const std::string& l : lines)
    progress = progress || l.find("execs") != std::string::npos;
  EXPECT_TRUE(progress);
  EXPECT_NE(slurp(r->report_html).find("<svg"), std::string::npos);
  EXPECT_NE(slurp(r->report_html).find("fake: boom"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(slurp(r->report_json))["findings"].size() == 1);
  EXPECT_NE(format_campaign_summary(*r).find("fake: boom"), std::string::npos);
}

TEST_F(FakeCampaign, AnInterruptedSessionResumesWhereItStopped) {
  options.minutes = 4.0 / 60;
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    request_campaign_stop();
  });
  auto first = run();
  stopper.join();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->interrupted);
  ASSERT_EQ(first->state.sessions.size(), 1u);
  EXPECT_FALSE(first->state.sessions[0].complete);
  const double spent = first->state.sessions[0].elapsed_seconds;
  EXPECT_GT(spent, 0.5);
  EXPECT_LT(spent, 3.5);
  EXPECT_EQ(first->state.crashes.size(), 1u);  // secured even though nothing was triaged
  EXPECT_FALSE(first->state.crashes[0].triaged);

  options.minutes = 100;  // ignored: the open session keeps its plan
  auto second = run();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->interrupted);
  ASSERT_EQ(second->state.sessions.size(), 1u);
  EXPECT_TRUE(second->state.sessions[0].complete);
  EXPECT_DOUBLE_EQ(second->state.sessions[0].planned_seconds, 4.0);
  EXPECT_EQ(second->state.findings.size(), 1u);
  bool resumed = false;
  for (const std::string& l : lines)
    resumed = resumed || l.find("resuming") != std::string::npos;
  EXPECT_TRUE(resumed);

  // A completed session: the next run is a new one on the same corpus and findings.
  options.minutes = 1.0 / 60;
  auto third = run();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->state.sessions.size(), 2u);
  EXPECT_EQ(third->state.findings.size(), 1u);
  EXPECT_GE(third->state.fuzz_seconds_before, 5.0);
}

std::optional<std::string> env_value(const Environment& env, const std::string& name) {
  for (const auto& [key, value] : env) {
    if (key == name) return value;
  }
  return std::nullopt;
}

TEST(InputTimeout, TheKernelTargetWaitsForAVerifierWalkingToItsLimit) {
  EXPECT_EQ(input_timeout_seconds("interp_vs_kernel"), 60);
  for (const char* target : {"interp_raw", "interp_vs_jit_gen", "smt_vs_engines", "elf_loader", "elf_gen"})
    EXPECT_EQ(input_timeout_seconds(target), 10) << target;
}

TEST(AflEnvironment, RawTargetsGetTheCustomMutatorOfTheBuild) {
  TempDir build;
  fs::create_directories(build.path() + "/fuzz");
  // Without the module, afl-fuzz must still start: no custom mutator then.
  EXPECT_FALSE(env_value(afl_environment(build.path(), "interp_vs_jit_raw"), "AFL_CUSTOM_MUTATOR_LIBRARY"));
  build.write("fuzz/libbpfdiff_afl_mutator.so", "module");
  const std::string library = fs::absolute(build.path() + "/fuzz/libbpfdiff_afl_mutator.so").string();
  for (const char* target : {"interp_raw", "interp_vs_jit_raw", "jit_decode"}) {
    const Environment env = afl_environment(build.path(), target);
    EXPECT_EQ(env_value(env, "AFL_CUSTOM_MUTATOR_LIBRARY"), library) << target;
    EXPECT_EQ(env_value(env, "BPFDIFF_AFL_PREFIX"), std::string(target) == "jit_decode" ? "1" : "0")
        << target;
    EXPECT_EQ(env_value(env, "AFL_NO_UI"), "1") << target;
  }
  // Generator decisions are not instructions: those targets keep AFL++'s own mutations.
  for (const char* target :
       {"interp_vs_jit_gen", "interp_vs_jit_insn", "elf_loader", "elf_gen", "asm_roundtrip"}) {
    const Environment env = afl_environment(build.path(), target);
    EXPECT_FALSE(env_value(env, "AFL_CUSTOM_MUTATOR_LIBRARY")) << target;
    EXPECT_EQ(env_value(env, "AFL_NO_UI"), "1") << target;
  }
}

}  // namespace
}  // namespace bpfdiff::cli::testing
