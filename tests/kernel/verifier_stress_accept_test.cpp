// The verifier-stressing generator against the host kernel: a share of its
// programs must be accepted and a share rejected (aimed at 30 to 70%), the
// accepted ones holding most patterns; the mutation mode makes mutants of
// accepted programs. Skips where bpf() cannot be used.
#include <gtest/gtest.h>

#include "fuzz/kernel_campaign/kernel_accept.hpp"
#include "fuzz/verifier_stress.hpp"
#include "oracle/kernel/kernel_executor.hpp"

namespace bpfdiff::cli {
namespace {

class VerifierStressOnHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto probe = oracle::kernel::probe_kernel(); !probe) {
      GTEST_SKIP() << "bpf() unusable: " << probe.error().message;
    }
  }
};

TEST_F(VerifierStressOnHost, TheKernelAcceptsSomeAndRejectsSomeAcrossMostPatterns) {
  AcceptOptions opt;
  opt.generator = "verifier-stress";
  opt.count = 200;
  auto report = measure_acceptance(opt);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_GT(report->acceptance_percent(), 20.0);
  EXPECT_LT(report->acceptance_percent(), 90.0);
  ASSERT_EQ(report->patterns.size(), fuzz::kNumStressPatterns);
  std::size_t accepted_patterns = 0;
  for (const auto& [generated, accepted] : report->patterns)
    accepted_patterns += accepted > 0 ? 1 : 0;
  EXPECT_GE(accepted_patterns, fuzz::kNumStressPatterns - 4);
}

// Map value pointers: the verifier accepts some programs holding them and
// rejects others (null checks it cannot follow, offsets it cannot bound),
// and every accepted one agrees with our VM.
TEST_F(VerifierStressOnHost, MapValueProgramsAreAcceptedSomeRejectedSomeAndAgree) {
  AcceptOptions opt;
  opt.generator = "verifier-stress";
  opt.count = 300;
  auto report = measure_acceptance(opt);
  ASSERT_TRUE(report) << report.error().message;
  const auto [generated, accepted] =
      report->patterns[static_cast<std::size_t>(fuzz::StressPattern::MapValue)];
  EXPECT_GE(generated, 50u);
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, generated);
  for (const AcceptFinding& f : report->findings)
    ADD_FAILURE() << f.seed << ": " << f.kind << " " << f.title;
}

// Hash maps: the kernel creates each empty, as our VM does; some programs
// holding the pattern are accepted, some rejected (lookups used without a
// null check), and every accepted one agrees with our VM, the map contents
// after the run included.
TEST_F(VerifierStressOnHost, HashMapProgramsAreAcceptedSomeRejectedSomeAndAgreeOnTheirContents) {
  AcceptOptions opt;
  opt.generator = "verifier-stress";
  opt.count = 300;
  opt.seed = 5000;
  auto report = measure_acceptance(opt);
  ASSERT_TRUE(report) << report.error().message;
  const auto [generated, accepted] = report->patterns[static_cast<std::size_t>(fuzz::StressPattern::HashMap)];
  EXPECT_GE(generated, 50u);
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, generated);
  EXPECT_GT(report->agreement["agree"], 0u);
  for (const AcceptFinding& f : report->findings)
    ADD_FAILURE() << f.seed << ": " << f.kind << " " << f.title;
}

TEST_F(VerifierStressOnHost, TheMutationModeRunsMutantsOfAcceptedPrograms) {
  AcceptOptions opt;
  opt.generator = "verifier-stress";
  opt.count = 100;
  opt.mutate_rate = 0.5;
  auto report = measure_acceptance(opt);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_GT(report->mutants, 20u);
  EXPECT_LE(report->mutants_accepted, report->mutants);
}

TEST_F(VerifierStressOnHost, WithCheckStatesEveryAcceptedProgramIsReplayedAgainstItsLog) {
  AcceptOptions opt;
  opt.generator = "verifier-stress";
  opt.count = 60;
  opt.check_states = true;
  auto report = measure_acceptance(opt);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_GT(report->states_checked, 0u);
  EXPECT_LE(report->states_checked, report->accepted);
  for (const AcceptFinding& f : report->findings)
    ADD_FAILURE() << f.seed << ": " << f.kind << " " << f.title;
}

}  // namespace
}  // namespace bpfdiff::cli
