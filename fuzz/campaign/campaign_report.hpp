#pragma once
// The campaign's report: OUT/report.json for scripts and OUT/report.html, one
// self-contained page (inline CSS and SVG, no scripts, nothing fetched) with
// executions and coverage over time per target, the findings with their
// reproducers and the source-coverage summary.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/campaign/campaign_state.hpp"
#include "fuzz/campaign/coverage_summary.hpp"

namespace bpfdiff::cli {

struct CampaignReport {
  const CampaignState* state = nullptr;
  std::optional<CoverageSummary> coverage;
  std::string coverage_note;  // why there is no coverage, when there is none
  std::string out_dir;
};

// {"engine", "fuzz_seconds", "sessions", "totals": {"execs", "exec_per_sec",
// "findings", "crashes"}, "targets": {name: {"execs", "seconds",
// "exec_per_sec", "coverage", "features", "corpus", "crashes"}}, "findings":
// [...], "samples": [...], "coverage": {...} | null, "coverage_note"}
nlohmann::ordered_json campaign_report_json(const CampaignReport& report);

std::string campaign_report_html(const CampaignReport& report);

struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

// A line chart as an <svg> element: axes with a few round ticks, one
// polyline per series in distinct colours, a legend.
std::string svg_line_chart(const std::string& title, const std::vector<ChartSeries>& series,
                           const std::string& x_label, const std::string& y_label);

// Escapes &, <, >, " and ' for HTML text and attributes.
std::string html_escape(const std::string& s);

}  // namespace bpfdiff::cli
