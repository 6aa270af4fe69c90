// Coverage guidance of the kernel campaign without a guest: the admission
// rule of CampaignCoverage, and the campaign over a KernelEngine whose
// executor plays a KCOV guest (a program's "trace" is its opcodes), so the
// edges, the corpus and the timeline in report.json are checked exactly.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fuzz/kernel_campaign/campaign_coverage.hpp"
#include "fuzz/kernel_campaign/kernel_campaign.hpp"
#include "oracle/kernel_engine.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using oracle::kernel::CoverageState;
using oracle::kernel::KernelCoverage;

KernelCoverage collected(std::vector<uint32_t> edges) {
  KernelCoverage c;
  c.state = CoverageState::Collected;
  c.trace_pcs = edges.size();
  c.new_edges = std::move(edges);
  return c;
}

TEST(CampaignCoverage, GuidedAdmitsExactlyTheProgramsThatAddAnEdge) {
  CampaignCoverage cov(true);
  const KernelCoverage a = collected({1, 2, 3});
  const KernelCoverage again = collected({2, 3});  // another guest, or a restored one, repeats edges
  const KernelCoverage more = collected({3, 4});
  const KernelCoverage* one[] = {&a};
  EXPECT_TRUE(cov.add(one, false).admit);  // rejected, but new edges: kept
  const KernelCoverage* two[] = {&again};
  const auto repeat = cov.add(two, true);
  EXPECT_TRUE(repeat.traced);
  EXPECT_EQ(repeat.edges, 0u);
  EXPECT_FALSE(repeat.admit);  // accepted, nothing new: not kept
  const KernelCoverage* three[] = {&again, &more};
  EXPECT_EQ(cov.add(three, false).edges, 1u);
  EXPECT_EQ(cov.edges(), 4u);
  EXPECT_EQ(cov.corpus(), 2u);
}

TEST(CampaignCoverage, WithoutATraceTheCorpusIsWhatAKernelAccepted) {
  CampaignCoverage cov(true);
  KernelCoverage none;  // kernel-host, or a request without kWantCoverage
  KernelCoverage no_kcov;
  no_kcov.state = CoverageState::Unavailable;
  no_kcov.note = "/sys/kernel/debug/kcov: No such file or directory";
  const KernelCoverage* both[] = {&none, &no_kcov};
  EXPECT_TRUE(cov.add(both, true).admit);
  EXPECT_FALSE(cov.add(both, false).admit);
  EXPECT_FALSE(cov.traced());
  EXPECT_NE(cov.summary().find("not traced (/sys/kernel/debug/kcov: No such file"), std::string::npos)
      << cov.summary();
  EXPECT_EQ(cov.progress(), "");
}

// A program given up on as too slow comes back without its trace; once the
// kernel is known to trace, guidance still hears of it (no edges), so the
// scheduler can charge its time to the entry it was mutated from.
TEST(CampaignCoverage, GuidedTellsTheSchedulerOfAProgramThatLostItsTrace) {
  CampaignCoverage cov(true);
  std::vector<std::size_t> told;
  const auto keep = [&](std::size_t edges) {
    told.push_back(edges);
    return edges > 0;
  };
  KernelCoverage lost;  // an abandoned request: no coverage came back
  const KernelCoverage* untraced[] = {&lost};
  EXPECT_FALSE(cov.add(untraced, false, keep).admit);
  EXPECT_TRUE(told.empty());  // nothing traced yet: maybe a kernel without KCOV
  const KernelCoverage first = collected({1, 2});
  const KernelCoverage* traced[] = {&first};
  EXPECT_TRUE(cov.add(traced, true, keep).admit);
  EXPECT_FALSE(cov.add(untraced, false, keep).admit);
  EXPECT_TRUE(cov.add(untraced, true, keep).admit);  // without a trace, what a kernel accepted
  EXPECT_EQ(told, (std::vector<std::size_t>{2, 0, 0}));
}

TEST(CampaignCoverage, UnguidedCountsEdgesButKeepsAcceptedPrograms) {
  CampaignCoverage cov(false);
  const KernelCoverage a = collected({1, 2});
  const KernelCoverage* one[] = {&a};
  const auto added = cov.add(one, false);
  EXPECT_EQ(added.edges, 2u);
  EXPECT_FALSE(added.admit);
  const KernelCoverage b = collected({});
  const KernelCoverage* other[] = {&b};
  EXPECT_TRUE(cov.add(other, true).admit);
  EXPECT_EQ(cov.edges(), 2u);
}

TEST(CampaignCoverage, TimelineSamplesOncePerProgramCountAndTheSummaryEndsAtTheLast) {
  CampaignCoverage cov(true);
  const KernelCoverage a = collected({1, 2});
  const KernelCoverage* one[] = {&a};
  cov.add(one, false);
  cov.sample(1.0, 1);
  cov.sample(2.0, 1);  // no program since: no new point
  const KernelCoverage b = collected({5});
  const KernelCoverage* other[] = {&b};
  cov.add(other, false);
  cov.sample(3.0, 2);
  ASSERT_EQ(cov.timeline().size(), 2u);
  EXPECT_EQ(cov.timeline()[1].edges, 3u);
  EXPECT_EQ(cov.timeline()[1].corpus, 2u);
  EXPECT_NE(cov.summary().find("3s/2 programs: 3\n"), std::string::npos) << cov.summary();
  const auto j = cov.to_json();
  EXPECT_EQ(j["edges"], 3);
  EXPECT_EQ(j["timeline"].size(), 2u);
}

// A KCOV guest in miniature: each program's trace is its opcodes (as PCs),
// edges are reported once per "agent", like the real one.
class FakeKcovGuest {
 public:
  oracle::kernel::KernelResponse operator()(const oracle::kernel::KernelRequest& request) {
    ++requests;
    oracle::kernel::KernelResponse r;
    r.verdict = oracle::kernel::KernelVerdict::Rejected;
    r.plain.verdict = oracle::kernel::KernelVerdict::Rejected;
    r.log = "fake: rejected\n";
    r.kernel_release = "6.12-fake-kcov";
    if ((request.flags & oracle::kernel::kWantCoverage) == 0) return r;
    ++traced_requests;
    std::vector<uint64_t> pcs;
    for (const isa::RawInsn& insn : request.program)
      pcs.push_back(0xffffffff81000000ull + insn.opcode * 16u);
    r.coverage.state = CoverageState::Collected;
    r.coverage.trace_pcs = pcs.size();
    oracle::kernel::new_edges_of_trace(pcs, reported, r.coverage.new_edges);
    return r;
  }
  oracle::kernel::EdgeSet reported;
  uint64_t requests = 0;
  uint64_t traced_requests = 0;
};

class CoverageCampaign : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bpfdiff-kcov-campaign-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    options_.engines = {"interp", "fake-kcov"};
    options_.out = dir_.string();
    options_.minutes = 60;
    options_.max_programs = 60;
    options_.max_instructions = 32;
    options_.progress_seconds = 0;  // a timeline point after every program
    options_.minimize_tests = 0;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<KernelCampaignResult> run() {
    KernelCampaignHooks h;
    h.make_engine = [this](const std::string& name) -> Result<std::unique_ptr<oracle::Engine>> {
      if (name == "fake-kcov")
        return std::unique_ptr<oracle::Engine>(std::make_unique<oracle::KernelEngine>(
            oracle::default_helpers(), "fake-kcov", 0u,
            [this](const oracle::kernel::KernelRequest& r) { return guest_(r); }));
      return oracle::make_engine(name);
    };
    h.is_kernel_engine = [](const std::string& name) { return name == "fake-kcov"; };
    return run_kernel_campaign(options_, nullptr, h);
  }

  nlohmann::json report() {
    std::ifstream in(dir_ / "report.json");
    return nlohmann::json::parse(in);
  }

  fs::path dir_;
  KernelCampaignOptions options_;
  FakeKcovGuest guest_;
};

TEST_F(CoverageCampaign, ReportsTheUnionOfEdgesTheCorpusAndEdgesOverPrograms) {
  auto r = run();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(guest_.traced_requests, 60u);
  // Every edge the fake agent reported reached the campaign once.
  EXPECT_EQ(r->coverage_edges, guest_.reported.size());
  EXPECT_GT(r->corpus, 0u);
  EXPECT_LT(r->corpus, 60u);  // later programs repeat earlier opcode pairs
  const auto j = report();
  EXPECT_EQ(j["coverage"]["traced"], true);
  EXPECT_EQ(j["coverage"]["guided"], true);
  EXPECT_EQ(j["coverage"]["edges"], guest_.reported.size());
  // The corpus scheduler chose the mutants and says how.
  ASSERT_TRUE(j["coverage"].contains("scheduler")) << j["coverage"].dump();
  EXPECT_GE(j["coverage"]["scheduler"]["mutant_share"].get<double>(), 0.1);
  EXPECT_LE(j["coverage"]["scheduler"]["mutant_share"].get<double>(), 0.7);
  const auto& timeline = j["coverage"]["timeline"];
  ASSERT_GE(timeline.size(), 2u);
  EXPECT_EQ(timeline.back()["programs"], 60);
  EXPECT_EQ(timeline.back()["edges"], guest_.reported.size());
  for (std::size_t i = 1; i < timeline.size(); ++i)
    EXPECT_LE(timeline[i - 1]["edges"].get<uint64_t>(), timeline[i]["edges"].get<uint64_t>());
  const std::string summary = format_kernel_campaign_summary(*r);
  EXPECT_NE(summary.find("verifier/JIT coverage: " + std::to_string(guest_.reported.size()) + " edges"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("corpus scheduler: mutants "), std::string::npos) << summary;
}

TEST_F(CoverageCampaign, WithoutCoverageNoRequestAsksForATrace) {
  options_.coverage = false;
  auto r = run();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(guest_.requests, 60u);
  EXPECT_EQ(guest_.traced_requests, 0u);
  EXPECT_EQ(r->coverage_edges, 0u);
  EXPECT_EQ(report()["coverage"]["traced"], false);
  EXPECT_NE(format_kernel_campaign_summary(*r).find("verifier/JIT coverage: not traced"), std::string::npos);
}

TEST_F(CoverageCampaign, UnguidedMeasuresTheSameEdgesWithTheAcceptedCorpus) {
  options_.coverage_guided = false;
  auto r = run();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->coverage_edges, guest_.reported.size());
  EXPECT_EQ(r->corpus, 0u);  // the fake rejects everything, so nothing is accepted
  EXPECT_EQ(report()["coverage"]["guided"], false);
  EXPECT_FALSE(report()["coverage"].contains("scheduler"));
}

}  // namespace
}  // namespace bpfdiff::cli
