// A kernel request the guest pool gave up on (the campaign's deadline came
// while it was in flight, or the guest stayed busy past the request limit:
// a verifier walking to its complexity limit under TCG) is not judged: never
// a finding, never tallied, counted by why in the summary and the report
// (and its time in the kernel time), and what the other engines judged of
// the same program is kept.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fuzz/kernel_campaign/kernel_campaign.hpp"
#include "fuzz/kernel_campaign/kernel_finding.hpp"
#include "oracle/kernel/guest/guest_pool.hpp"
#include "tests/support/read_text.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
namespace guest = oracle::kernel::guest;

enum class Act { Agree, Mismatch, TooSlow, Deadline };

// A kernel that runs our interpreter and answers as scripted per call:
// like ours, with r0 off by one, or abandoned as the guest pool answers.
class ScriptedKernel final : public oracle::Engine {
 public:
  ScriptedKernel(std::string name, std::function<Act(uint64_t)> script, std::atomic<uint64_t>& calls)
      : Engine(oracle::default_helpers()),
        name_(std::move(name)),
        interp_(std::move(oracle::make_engine("interp")).value()),
        script_(std::move(script)),
        calls_(calls) {}

  std::string_view name() const override { return name_; }

  oracle::Outcome run(const vm::Program& program, const oracle::EngineInput& input) override {
    const Act act = script_(++calls_);
    oracle::Outcome out;
    out.engine = name_;
    out.kernel = oracle::KernelOutcome{};
    out.kernel->release = "6.1.0-fake";
    out.memory = input.memory;
    if (act == Act::TooSlow || act == Act::Deadline) {
      out.kernel->verdict = oracle::kernel::KernelVerdict::Failed;
      out.kernel->log =
          std::string(guest::kAbandonedPrefix) +
          std::string(act == Act::TooSlow ? guest::kAbandonedTooSlow : guest::kAbandonedAtDeadline) +
          ": still busy after 60000 ms (60 busy heartbeats, past the limit)";
      out.load_error = out.kernel->log;
      return out;
    }
    const oracle::Outcome ours = interp_->run(program, input);
    if (!ours.ok()) {
      out.kernel->verdict = oracle::kernel::KernelVerdict::Rejected;
      out.kernel->rejection_reason = "fake: faults in our VM";
      out.load_error = "rejected";
      return out;
    }
    out.kernel->verdict = oracle::kernel::KernelVerdict::Accepted;
    out.loaded = ours.loaded;
    out.regs = ours.regs;
    out.memory = ours.memory;
    if (act == Act::Mismatch) out.regs[0] ^= 1;
    return out;
  }

 protected:
  Result<std::unique_ptr<oracle::Executor>> prepare_with(const vm::Program&, const vm::ExecLimits&,
                                                         const vm::HelperRegistry&) override {
    return make_error("the scripted kernel loads per input");
  }

 private:
  std::string name_;
  std::unique_ptr<oracle::Engine> interp_;
  std::function<Act(uint64_t)> script_;
  std::atomic<uint64_t>& calls_;
};

class AbandonedRequests : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bpfdiff-kabandon-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    options_.engines = {"interp", "kernel-a"};
    options_.out = dir_.string();
    options_.minutes = 60;  // the program count ends these runs
    options_.max_programs = 30;
    options_.max_instructions = 32;
    options_.progress_seconds = 1e9;
    options_.verifier_stress_share = 0;
    options_.minimize_tests = 0;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<KernelCampaignResult> run(
      std::function<Act(uint64_t)> a, std::function<Act(uint64_t)> b = [](uint64_t) { return Act::Agree; }) {
    KernelCampaignHooks h;
    h.make_engine = [&, a, b](const std::string& name) -> Result<std::unique_ptr<oracle::Engine>> {
      if (name == "kernel-a")
        return std::unique_ptr<oracle::Engine>(std::make_unique<ScriptedKernel>(name, a, a_calls_));
      if (name == "kernel-b")
        return std::unique_ptr<oracle::Engine>(std::make_unique<ScriptedKernel>(name, b, b_calls_));
      return oracle::make_engine(name);
    };
    h.is_kernel_engine = [](const std::string& name) { return name == "kernel-a" || name == "kernel-b"; };
    h.abandon_kernel_requests_from = [this](std::chrono::steady_clock::time_point deadline) {
      ++deadlines_set_;
      deadline_ = deadline;
      kernel_calls_when_set_ = a_calls_.load();
    };
    return run_kernel_campaign(
        options_, [](const std::string&) {}, h);
  }

  fs::path dir_;
  KernelCampaignOptions options_;
  std::atomic<uint64_t> a_calls_{0};
  std::atomic<uint64_t> b_calls_{0};
  int deadlines_set_ = 0;
  std::chrono::steady_clock::time_point deadline_{};
  uint64_t kernel_calls_when_set_ = 99;
};

TEST_F(AbandonedRequests, AreNeitherFindingsNorTalliedAndAreCountedByWhy) {
  // Every 3rd call too slow, every 5th (not 3rd) abandoned at the deadline.
  auto r = run([](uint64_t n) {
    return n % 3 == 0 ? Act::TooSlow : n % 5 == 0 ? Act::Deadline : Act::Agree;
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->programs, 30u);
  EXPECT_TRUE(r->findings.empty());
  for (const auto& f : r->findings)
    ADD_FAILURE() << f.signature;
  EXPECT_EQ(r->not_judged.at("too slow"), 10u);
  EXPECT_EQ(r->not_judged.at("deadline"), 4u);  // 5, 10, 20, 25
  EXPECT_EQ(r->too_slow_iterations.size(), 10u);
  EXPECT_EQ(r->tallies.at("kernel-a").total(), 16u);

  const std::string summary = format_kernel_campaign_summary(*r);
  EXPECT_NE(summary.find("10 verifier too slow under TCG"), std::string::npos) << summary;
  EXPECT_NE(summary.find("4 abandoned at the campaign's deadline"), std::string::npos) << summary;
  const json report = json::parse(test_support::read_text(dir_ / "report.json"));
  EXPECT_EQ(report["not_judged"]["by_reason"]["too slow"], 10);
  EXPECT_EQ(report["not_judged"]["too_slow_iterations"].size(), 10u);
  EXPECT_EQ(report["findings"].size(), 0u);
  // Their time is the kernel engine's time too, on a line of its own.
  EXPECT_EQ(r->kernel_time.engine_total("kernel-a").programs, 30u);
  EXPECT_EQ(r->kernel_time.engine_total("kernel-a").abandoned_programs, 14u);
  EXPECT_EQ(report["kernel_time"]["kernel-a"]["abandoned"]["programs"], 14);
  EXPECT_NE(summary.find("abandoned (not judged)"), std::string::npos) << summary;
}

TEST_F(AbandonedRequests, WhatAnotherKernelJudgedOfTheSameProgramIsKept) {
  // kernel-a is always given up on; kernel-b disagrees with ours on r0.
  options_.engines = {"interp", "kernel-a", "kernel-b"};
  options_.max_programs = 5;
  auto r = run([](uint64_t) { return Act::TooSlow; }, [](uint64_t) { return Act::Mismatch; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->not_judged.at("too slow"), 5u);
  EXPECT_EQ(r->tallies.count("kernel-a"), 0u);
  ASSERT_EQ(r->findings.size(), 1u);
  EXPECT_NE(r->findings[0].signature.find("interp-vs-kernel-b"), std::string::npos)
      << r->findings[0].signature;
  EXPECT_EQ(r->findings[0].count, 5u);
  for (const auto& f : r->findings)
    EXPECT_EQ(f.signature.find("kernel-a"), std::string::npos) << f.signature;
}

TEST_F(AbandonedRequests, TheDeadlineIsHandedToTheKernelEnginesBeforeTheFirstProgram) {
  const auto before = std::chrono::steady_clock::now();
  auto r = run([](uint64_t) { return Act::Agree; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(deadlines_set_, 1);
  EXPECT_EQ(kernel_calls_when_set_, 0u);
  // --minutes 60 from the campaign's start, which is after `before`.
  EXPECT_GE(deadline_ - before, std::chrono::minutes(60));
}

TEST(AbandonedReason, ReadsTheWordAfterThePrefixAndNothingElse) {
  oracle::Outcome o;
  EXPECT_EQ(abandoned_reason(o), "");
  o.kernel = oracle::KernelOutcome{};
  o.kernel->verdict = oracle::kernel::KernelVerdict::Failed;
  o.kernel->log = "guest abandoned: too slow: still busy after 1 ms";
  EXPECT_EQ(abandoned_reason(o), "too slow");
  o.kernel->log = "guest failure: hang: no reply within the deadline; finding /x";
  EXPECT_EQ(abandoned_reason(o), "");
  EXPECT_TRUE(is_guest_failure(o));
  o.kernel->verdict = oracle::kernel::KernelVerdict::Accepted;
  o.kernel->log = "guest abandoned: deadline: x";
  EXPECT_EQ(abandoned_reason(o), "");
}

}  // namespace
}  // namespace bpfdiff::cli
