#pragma once
// OUT/report.json of a kernel campaign: throughput, verdict tallies per
// kernel and program source, kernel time, guest restarts, programs not
// judged, findings and coverage. Apart from the campaign loop
// (kernel_campaign.cpp) because it only reads the finished result and grew
// the loop's file past the project's size limit.
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/kernel_campaign/campaign_coverage.hpp"
#include "fuzz/kernel_campaign/kernel_campaign.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

// The findings as kernel-state.json and report.json list them.
nlohmann::ordered_json kernel_campaign_findings_json(const std::vector<KernelCampaignFinding>& findings);

// Writes OUT/report.json (atomically) for the finished `result` of a campaign
// run with `options`, and sets result.report_json to its path. Names a
// kernel with no release known yet in result.kernel_releases (empty).
Result<void> write_kernel_campaign_report(const KernelCampaignOptions& options,
                                          const CampaignCoverage& coverage, KernelCampaignResult& result);

}  // namespace bpfdiff::cli
