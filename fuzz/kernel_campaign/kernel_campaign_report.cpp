#include "fuzz/kernel_campaign/kernel_campaign_report.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz/findings/atomic_file.hpp"
#include "oracle/kernel_compare.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

std::string slug(std::string_view text) {
  std::string out;
  for (char ch : text)
    out += (ch == ' ' || ch == '/' || ch == ':') ? '-' : ch;
  return out;
}

// The ten most frequent reasons, most frequent first.
json top_reasons(const std::map<std::string, uint64_t>& counts) {
  std::vector<std::pair<uint64_t, std::string>> sorted;
  for (const auto& [reason, n] : counts)
    sorted.emplace_back(n, reason);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  json out = json::array();
  for (std::size_t i = 0; i < sorted.size() && i < 10; ++i)
    out.push_back({{"reason", sorted[i].second}, {"count", sorted[i].first}});
  return out;
}

}  // namespace

json kernel_campaign_findings_json(const std::vector<KernelCampaignFinding>& findings) {
  json out = json::array();
  for (const KernelCampaignFinding& f : findings) {
    out.push_back({{"signature", f.signature},
                   {"kind", f.kind},
                   {"dir", f.dir},
                   {"count", f.count},
                   {"hits_this_session", f.hits_this_session},
                   {"first_iteration", f.first_iteration},
                   {"known_kernel_bug", f.known_bug}});
  }
  return out;
}

Result<void> write_kernel_campaign_report(const KernelCampaignOptions& options,
                                          const CampaignCoverage& coverage, KernelCampaignResult& result) {
  json j;
  j["kind"] = "kernel campaign";
  j["seed"] = result.seed;
  j["engines"] = result.engines;
  j["reference"] = result.reference;
  j["isa_version"] = static_cast<int>(options.isa_version);
  j["programs"] = result.programs;
  j["total_programs"] = result.total_programs;
  j["seconds"] = result.seconds;
  j["programs_per_second"] = result.seconds > 0 ? static_cast<double>(result.programs) / result.seconds : 0.0;
  j["interrupted"] = result.interrupted;
  json per_engine = json::object();
  for (const auto& [name, t] : result.throughput) {
    per_engine[name] = {{"runs", t.runs}, {"seconds", t.seconds}, {"runs_per_second", t.per_second()}};
  }
  j["throughput"] = std::move(per_engine);
  j["ours_disagree"] = result.ours_disagree;
  j["programs_with_maps"] = result.with_maps;
  j["programs_with_map_helper_calls"] = result.with_map_calls;
  j["programs_with_helper_calls"] = result.with_helper_calls;
  j["map_programs_agreed"] = result.maps_agreed;
  json kernels = json::object();
  for (const auto& [name, tally] : result.tallies) {
    json k;
    k["release"] = result.kernel_releases[name];
    k["programs"] = tally.total();
    for (oracle::KernelAgreement kind :
         {oracle::KernelAgreement::Agree, oracle::KernelAgreement::BothRejected,
          oracle::KernelAgreement::KernelRejected, oracle::KernelAgreement::NotComparable,
          oracle::KernelAgreement::WeRejected, oracle::KernelAgreement::VerifierSoundness,
          oracle::KernelAgreement::Mismatch}) {
      k[slug(oracle::to_string(kind))] = tally.count(kind);
    }
    // Agreement over the programs both sides ran and whose state compares.
    const uint64_t comparable = tally.count(oracle::KernelAgreement::Agree) +
                                tally.count(oracle::KernelAgreement::WeRejected) +
                                tally.count(oracle::KernelAgreement::VerifierSoundness) +
                                tally.count(oracle::KernelAgreement::Mismatch);
    k["acceptance_percent"] = tally.acceptance_percent();
    k["agreement_percent"] = comparable == 0
                                 ? 0.0
                                 : 100.0 * static_cast<double>(tally.count(oracle::KernelAgreement::Agree)) /
                                       static_cast<double>(comparable);
    k["top_rejection_reasons"] = top_reasons(tally.rejections());
    k["not_comparable_reasons"] = top_reasons(tally.not_comparable());
    kernels[name] = std::move(k);
  }
  j["kernels"] = std::move(kernels);
  j["mix"] = {{"verifier_stress_share", options.verifier_stress_share}, {"mutate_rate", options.mutate_rate}};
  json sources = json::object();
  for (const auto& [source, per_kernel] : result.source_tallies) {
    json sj = json::object();
    for (const auto& [name, tally] : per_kernel) {
      sj[name] = {{"programs", tally.total()},
                  {"acceptance_percent", tally.acceptance_percent()},
                  {"agree", tally.count(oracle::KernelAgreement::Agree)},
                  {"kernel-rejects", tally.count(oracle::KernelAgreement::KernelRejected)},
                  {"not-comparable", tally.count(oracle::KernelAgreement::NotComparable)},
                  {"top_rejection_reasons", top_reasons(tally.rejections())}};
    }
    sources[source] = std::move(sj);
  }
  j["sources"] = std::move(sources);
  j["kernel_time"] = result.kernel_time.to_json();
  j["guest"] = {{"restarts", result.guest_restarts}, {"failures", result.guest_failures}};
  j["not_judged"] = {{"by_reason", result.not_judged},
                     {"too_slow_iterations", result.too_slow_iterations},
                     {"guest_request_limit_seconds", options.guest_request_limit_seconds}};
  j["kernel_batch"] = options.kernel_batch;
  j["findings"] = kernel_campaign_findings_json(result.findings);
  j["new_findings"] = result.new_findings;
  j["coverage"] = coverage.to_json();
  result.report_json = (fs::path(options.out) / "report.json").string();
  return write_json_atomically(result.report_json, j);
}

}  // namespace bpfdiff::cli
