// What `bpfdiff fuzz` prints when a kernel campaign ends: throughput per
// engine, verdict tallies per kernel and program source, where the kernel
// time went, guest restarts, coverage and the findings.
#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/kernel_campaign/kernel_campaign.hpp"

namespace bpfdiff::cli {

std::string format_kernel_campaign_summary(const KernelCampaignResult& r) {
  std::string out = r.interrupted ? "kernel campaign: interrupted; run the same command again to resume\n"
                                  : "kernel campaign: done\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %llu programs in %.1f s (%.1f/s); %llu over all sessions; seed %llu\n",
                static_cast<unsigned long long>(r.programs), r.seconds,
                r.seconds > 0 ? static_cast<double>(r.programs) / r.seconds : 0.0,
                static_cast<unsigned long long>(r.total_programs), static_cast<unsigned long long>(r.seed));
  out += line;
  out += "  reference " + r.reference + "; our engines disagreed on " + std::to_string(r.ours_disagree) +
         " programs\n";
  out += "  maps in " + std::to_string(r.with_maps) + " programs (a kernel ran and agreed on " +
         std::to_string(r.maps_agreed) + "), map helper calls in " + std::to_string(r.with_map_calls) +
         ", helper calls in " + std::to_string(r.with_helper_calls) + "\n";
  for (const auto& [name, t] : r.throughput) {
    std::snprintf(line, sizeof line, "  %-22s %8llu runs  %9.1f runs/s\n", name.c_str(),
                  static_cast<unsigned long long>(t.runs), t.per_second());
    out += line;
  }
  for (const auto& [name, tally] : r.tallies) {
    const auto release = r.kernel_releases.find(name);
    out += "  " + name + " (" + (release == r.kernel_releases.end() ? "?" : release->second) + ") vs " +
           r.reference + ": " + tally.summary(5);
  }
  for (const auto& [source, per_kernel] : r.source_tallies) {
    for (const auto& [name, tally] : per_kernel) {
      std::snprintf(line, sizeof line, "  %s programs on %s: %llu, accepted %.1f%%", source.c_str(),
                    name.c_str(), static_cast<unsigned long long>(tally.total()), tally.acceptance_percent());
      out += line;
      std::vector<std::pair<uint64_t, std::string>> reasons;
      for (const auto& [reason, n] : tally.rejections())
        reasons.emplace_back(n, reason);
      std::sort(reasons.begin(), reasons.end(),
                [](const auto& a, const auto& b) { return a.first > b.first; });
      for (std::size_t i = 0; i < reasons.size() && i < 3; ++i)
        out += (i == 0 ? "; rejected: " : ", ") + reasons[i].second + " x" + std::to_string(reasons[i].first);
      out += "\n";
    }
  }
  out += r.kernel_time.summary();
  if (r.guest_restarts > 0 || r.guest_failures > 0) {
    out += "  guests: " + std::to_string(r.guest_failures) + " failures, " +
           std::to_string(r.guest_restarts) + " restarts\n";
  }
  if (!r.not_judged.empty()) {
    // Programs a kernel engine gave up on: not judged there, never findings.
    out += "  not judged on a kernel engine:";
    for (const auto& [why, n] : r.not_judged) {
      out += " " + std::to_string(n) + " " +
             (why == "too slow" ? std::string("verifier too slow under TCG (busy past --guest-request-limit)")
              : why == "deadline" ? std::string("abandoned at the campaign's deadline")
                                  : why) +
             ";";
    }
    out.back() = '\n';
    if (!r.too_slow_iterations.empty()) {
      out += "    slow iterations:";
      for (std::size_t i = 0; i < r.too_slow_iterations.size() && i < 10; ++i)
        out += " " + std::to_string(r.too_slow_iterations[i]);
      out += r.too_slow_iterations.size() > 10 ? " ... (report.json lists up to 100)\n" : "\n";
    }
  }
  out += r.coverage_summary;
  const auto known = std::count_if(r.findings.begin(), r.findings.end(),
                                   [](const KernelCampaignFinding& f) { return !f.known_bug.empty(); });
  const auto earlier_only =
      std::count_if(r.findings.begin(), r.findings.end(),
                    [](const KernelCampaignFinding& f) { return f.hits_this_session == 0; });
  out += "  findings: " + std::to_string(r.findings.size()) + " (" + std::to_string(r.new_findings) + " new";
  if (earlier_only > 0) out += "; " + std::to_string(earlier_only) + " not hit again in this session";
  if (known > 0) out += "; " + std::to_string(known) + " of them known kernel bugs";
  out += ")\n";
  for (const KernelCampaignFinding& f : r.findings) {
    out += "    " + f.signature + "  x" + std::to_string(f.count) + "  " + f.dir;
    out += f.hits_this_session == 0 ? "  (earlier sessions only)\n" : "\n";
    if (!f.known_bug.empty())
      out += "      a known kernel bug: corpus/kernel-findings/" + f.known_bug + "/README.md\n";
  }
  out += "  report: " + r.report_json + "\n";
  return out;
}

}  // namespace bpfdiff::cli
