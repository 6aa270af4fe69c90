#pragma once
// The kernel campaign's verifier/JIT coverage (oracle/kernel/kernel_coverage.hpp):
// the union of the KCOV edges every guest reported, which programs join the
// mutation corpus, and the edges over time for the report.
//
// Guided (the default), a program joins the corpus when a kernel engine
// traced it reaching an edge no earlier program reached, whatever the
// verdict: a rejection on a new path is as worth mutating as an acceptance
// (the campaign lets its CorpusScheduler have the last word: a program too
// slow next to the typical one is not kept).
// Unguided, or when no engine could trace (a guest kernel without KCOV,
// kernel-host), the corpus is the programs a kernel accepted and that
// agreed, as before coverage existed; the edges are still counted when they
// are there, so the two modes compare on one measure.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oracle/kernel/kernel_coverage.hpp"

namespace bpfdiff::cli {

struct CoveragePoint {
  double seconds = 0;
  uint64_t programs = 0;
  uint64_t edges = 0;
  uint64_t corpus = 0;
};

class CampaignCoverage {
 public:
  explicit CampaignCoverage(bool guided) : guided_(guided) {}

  struct Added {
    bool traced = false;    // some kernel engine traced this program
    std::size_t edges = 0;  // edges new to the campaign
    bool admit = false;     // the program joins the mutation corpus
  };
  // One program: the coverage each kernel engine returned with it, and
  // whether a kernel accepted it with outcomes that agree. Guided and
  // traced, `keep_traced` (when given) decides whether the program joins the
  // corpus, told the edges it added; without it, any new edge does. Guided,
  // once some program was traced, a program without a trace is told to
  // `keep_traced` as adding no edge (its time still counts).
  Added add(std::span<const oracle::kernel::KernelCoverage* const> coverages, bool accepted_and_agreed,
            const std::function<bool(std::size_t new_edges)>& keep_traced = {});
  // A point of the timeline (taken at each progress line and at the end).
  void sample(double seconds, uint64_t programs);
  // Guided: what the corpus scheduler did (fuzz/corpus_scheduler.hpp), for
  // the summary and report.json.
  struct SchedulerNote {
    double mutant_share = 0;  // at the end
    double typical_seconds = 0;
    uint64_t too_slow = 0;  // programs with new edges left out as too slow
  };
  void note_scheduler(const SchedulerNote& note) { scheduler_ = note; }

  bool guided() const { return guided_; }
  bool traced() const { return traced_programs_ > 0; }
  std::size_t edges() const { return edges_.size(); }
  uint64_t corpus() const { return corpus_; }
  const std::vector<CoveragePoint>& timeline() const { return timeline_; }

  // "edges 1234, corpus 56" for the progress line; empty while nothing was traced.
  std::string progress() const;
  // The summary's lines: total, mode, and the edges at up to eight points in time.
  std::string summary() const;
  nlohmann::ordered_json to_json() const;

 private:
  bool guided_;
  oracle::kernel::EdgeSet edges_;
  uint64_t corpus_ = 0;
  uint64_t traced_programs_ = 0;
  uint64_t truncated_traces_ = 0;
  uint64_t trace_pcs_ = 0;
  std::string unavailable_note_;  // the first reason a guest gave for no coverage
  std::vector<CoveragePoint> timeline_;
  std::optional<SchedulerNote> scheduler_;
};

}  // namespace bpfdiff::cli
