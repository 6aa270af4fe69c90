#include "fuzz/kernel_campaign/campaign_coverage.hpp"

#include <cstdio>

namespace bpfdiff::cli {

using oracle::kernel::CoverageState;
using oracle::kernel::KernelCoverage;

CampaignCoverage::Added CampaignCoverage::add(std::span<const KernelCoverage* const> coverages,
                                              bool accepted_and_agreed,
                                              const std::function<bool(std::size_t)>& keep_traced) {
  Added out;
  for (const KernelCoverage* c : coverages) {
    if (c == nullptr) continue;
    if (c->state == CoverageState::Unavailable && unavailable_note_.empty()) unavailable_note_ = c->note;
    if (c->state != CoverageState::Collected) continue;
    out.traced = true;
    out.edges += edges_.merge(c->new_edges);
    trace_pcs_ += c->trace_pcs;
    truncated_traces_ += c->truncated ? 1 : 0;
  }
  if (out.traced) ++traced_programs_;
  // Guidance needs this program's trace; without one (no KCOV, or a guest
  // failure that lost the response) it falls back to what a kernel accepted.
  if (guided_ && out.traced) {
    out.admit = keep_traced ? keep_traced(out.edges) : out.edges > 0;
  } else {
    // Guided on a kernel that traces, a program that came back without a
    // trace (given up on as too slow, or a guest failure lost its response)
    // still took its time: `keep_traced` hears of it with no edges, so an
    // entry whose mutants are given up on fades like one whose mutants are
    // slow (corpus_scheduler.hpp).
    if (guided_ && traced() && keep_traced) (void)keep_traced(0);
    out.admit = accepted_and_agreed;
  }
  corpus_ += out.admit ? 1 : 0;
  return out;
}

void CampaignCoverage::sample(double seconds, uint64_t programs) {
  if (!timeline_.empty() && timeline_.back().programs == programs) return;
  timeline_.push_back({seconds, programs, edges_.size(), corpus_});
}

std::string CampaignCoverage::progress() const {
  if (!traced()) return "";
  return "edges " + std::to_string(edges_.size()) + ", corpus " + std::to_string(corpus_);
}

std::string CampaignCoverage::summary() const {
  if (!traced()) {
    return "  verifier/JIT coverage: not traced" +
           (unavailable_note_.empty() ? std::string(" (no engine asked for it traces)")
                                      : " (" + unavailable_note_ + ")") +
           "; the corpus is the programs a kernel accepted\n";
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "  verifier/JIT coverage: %zu edges over %llu traced programs (%s); corpus %llu programs; "
                "%llu traces truncated\n",
                edges_.size(), static_cast<unsigned long long>(traced_programs_),
                guided_ ? "coverage-guided" : "unguided: corpus = accepted programs",
                static_cast<unsigned long long>(corpus_), static_cast<unsigned long long>(truncated_traces_));
  std::string out = line;
  if (scheduler_) {
    std::snprintf(line, sizeof line,
                  "  corpus scheduler: mutants %.0f%% of the programs at the end, typical program %.3f s, "
                  "%llu programs with new edges left out as too slow\n",
                  scheduler_->mutant_share * 100, scheduler_->typical_seconds,
                  static_cast<unsigned long long>(scheduler_->too_slow));
    out += line;
  }
  if (timeline_.empty()) return out;
  out += "  edges over time:";
  const std::size_t n = timeline_.size();
  const std::size_t shown = n < 8 ? n : 8;
  for (std::size_t k = 0; k < shown; ++k) {
    // Evenly spaced, always ending at the last point.
    const CoveragePoint& p = timeline_[(n - 1) * (k + 1) / shown];
    std::snprintf(line, sizeof line, " %.0fs/%llu programs: %llu;", p.seconds,
                  static_cast<unsigned long long>(p.programs), static_cast<unsigned long long>(p.edges));
    out += line;
  }
  out.back() = '\n';
  return out;
}

nlohmann::ordered_json CampaignCoverage::to_json() const {
  nlohmann::ordered_json j;
  j["traced"] = traced();
  j["guided"] = guided_;
  if (!unavailable_note_.empty()) j["unavailable"] = unavailable_note_;
  j["edges"] = edges_.size();
  j["traced_programs"] = traced_programs_;
  j["corpus"] = corpus_;
  j["trace_pcs"] = trace_pcs_;
  j["truncated_traces"] = truncated_traces_;
  if (scheduler_) {
    j["scheduler"] = {{"mutant_share", scheduler_->mutant_share},
                      {"typical_seconds", scheduler_->typical_seconds},
                      {"too_slow", scheduler_->too_slow}};
  }
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const CoveragePoint& p : timeline_)
    points.push_back(
        {{"seconds", p.seconds}, {"programs", p.programs}, {"edges", p.edges}, {"corpus", p.corpus}});
  j["timeline"] = std::move(points);
  return j;
}

}  // namespace bpfdiff::cli
