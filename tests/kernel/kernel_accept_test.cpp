// The kernel-friendly generator against the running kernel (kernel-host):
// a fixed batch of 200 programs for each of the ISA versions it
// targets, must be accepted at 90% or more and agree with our interpreter.
// Skips with the probe's reason where bpf() is unavailable.
#include "fuzz/kernel_campaign/kernel_accept.hpp"

#include <gtest/gtest.h>

#include "oracle/kernel_host_engine.hpp"

namespace bpfdiff::cli {
namespace {

class KernelAcceptTest : public ::testing::TestWithParam<isa::IsaVersion> {
 protected:
  void SetUp() override {
    if (auto probe = oracle::kernel_host_available(); !probe) GTEST_SKIP() << probe.error().message;
  }
};

TEST_P(KernelAcceptTest, TwoHundredProgramsAreAcceptedAtNinetyPercentAndAgree) {
  AcceptOptions opt;
  opt.count = 200;
  opt.seed = 20'260'101;
  opt.isa_version = GetParam();
  auto report = measure_acceptance(opt);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->programs, 200u);
  EXPECT_EQ(report->unsupported, 0u);
  EXPECT_GE(report->acceptance_percent(), 90.0) << format_accept_report(*report, 5);
  EXPECT_TRUE(report->findings.empty()) << format_accept_report(*report, 5);
  uint64_t forms_accepted = 0;
  for (const FormCoverage& f : report->forms)
    forms_accepted += f.accepted > 0;
  EXPECT_GE(forms_accepted * 10, report->forms.size() * 9) << "most forms appear in accepted programs";
  const std::string text = format_accept_report(*report);
  EXPECT_NE(text.find("acceptance"), std::string::npos);
  EXPECT_EQ(accept_report_json(*report)["programs"], 200u);
}

INSTANTIATE_TEST_SUITE_P(IsaVersions, KernelAcceptTest,
                         ::testing::Values(isa::IsaVersion::V3, isa::IsaVersion::V4),
                         [](const auto& p) { return p.param == isa::IsaVersion::V3 ? "v3" : "v4"; });

TEST(KernelAccept, AnUnknownEngineIsAnError) {
  AcceptOptions opt;
  opt.engine = "no-such-kernel";
  auto report = measure_acceptance(opt);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("no-such-kernel"), std::string::npos);
}

}  // namespace
}  // namespace bpfdiff::cli
