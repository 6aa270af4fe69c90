#pragma once
// Where a kernel campaign's time goes: for each kernel engine and program
// source, the wall time of its runs (host side, round trip included) and
// the time its executor reported (load, verification and test run in the
// kernel), as a histogram of per-program times and summed by verdict (the
// rejection reason for rejections). Measured last session: a few mutants
// that run the verifier into its complexity limit took most of the time;
// this table is how such a thing shows in every campaign report.
#include <array>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "oracle/kernel_compare.hpp"
#include "oracle/outcome.hpp"

namespace bpfdiff::cli {

// Upper bounds (seconds) of the histogram's buckets; the last is open.
inline constexpr std::array<double, 5> kKernelTimeBuckets = {0.001, 0.01, 0.1, 1.0, 10.0};

struct KernelTimeCell {
  uint64_t programs = 0;
  double wall_seconds = 0;      // around Engine::run on the host
  double executor_seconds = 0;  // the executor's own duration (in the guest for guest engines)
  // The requests as the engine waited for them (Outcome::request_ns): minus
  // the executor's time, the cost of asking (channel, agent, host
  // scheduling); wall minus this, the engine's own work on the host.
  double request_seconds = 0;
  // The executor's time by phase (ExecutorPhases), summed.
  oracle::kernel::ExecutorPhases phases;
  std::array<uint64_t, kKernelTimeBuckets.size() + 1> bucket_programs{};
  std::array<double, kKernelTimeBuckets.size() + 1> bucket_seconds{};
  // Wall seconds and programs by verdict: "accepted", "rejected: REASON",
  // "not comparable", ...
  std::map<std::string, std::pair<uint64_t, double>> by_verdict;
  // Programs the engine gave up on (abandoned: not judged, no verdict) and
  // their wall seconds, also counted in `programs` and `wall_seconds`: a
  // verifier busy past --guest-request-limit costs the campaign that long.
  uint64_t abandoned_programs = 0;
  double abandoned_seconds = 0;
};

class KernelTimeTally {
 public:
  // One program's run on a kernel engine: `wall_seconds` as the campaign
  // timed it, `kernel` the engine's outcome, `c` its comparison with ours.
  void add(const std::string& engine, const std::string& source, double wall_seconds,
           const oracle::Outcome& kernel, const oracle::KernelComparison& c);
  // One program's run the engine gave up on (kernel_finding.hpp's
  // abandoned_reason): its time, without a verdict.
  void add_abandoned(const std::string& engine, const std::string& source, double wall_seconds,
                     const oracle::Outcome& kernel);

  // Per engine, over every source.
  KernelTimeCell engine_total(const std::string& engine) const;
  const std::map<std::string, std::map<std::string, KernelTimeCell>>& cells() const { return cells_; }

  // report.json's "kernel_time": per engine, per source, with the histogram,
  // the five verdicts that cost most and the abandoned programs.
  nlohmann::ordered_json to_json() const;
  // A few summary lines per engine: share of time per source and of the
  // abandoned programs, the slow programs and what they were.
  std::string summary() const;

 private:
  // The time of one run, judged or not.
  KernelTimeCell& add_time(const std::string& engine, const std::string& source, double wall_seconds,
                           const oracle::Outcome& kernel);

  std::map<std::string, std::map<std::string, KernelTimeCell>> cells_;  // engine -> source -> cell
};

// The label of a bucket: "<1ms", "1-10ms", ..., ">=10s".
std::string kernel_time_bucket_label(std::size_t bucket);

}  // namespace bpfdiff::cli
