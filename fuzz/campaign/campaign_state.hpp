#pragma once
// Everything a campaign (`bpfdiff fuzz`) remembers between runs, kept in
// OUT/state.json and rewritten atomically after every change that matters (a
// crash seen, a progress tick, a finding triaged): killing the campaign at
// any moment loses no finding, and running it again with the same --out
// picks up where it stopped.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/util/result.hpp"

namespace bpfdiff::cli {

// One piece of fuzzing work: run `target` for `seconds` on one job.
struct WorkItem {
  std::string target;
  double seconds = 0;
  double done = 0;  // seconds already fuzzed

  double remaining() const { return seconds > done ? seconds - done : 0; }
};

// One invocation of the campaign (a resumed one continues the same session).
struct Session {
  double planned_seconds = 0;  // wall-clock length asked for (--minutes)
  double elapsed_seconds = 0;  // wall-clock spent fuzzing so far
  unsigned jobs = 1;
  bool complete = false;  // fuzzing finished (merge, triage and report may still be due)
  std::vector<WorkItem> items;
};

// Running totals per target over all sessions.
struct TargetTotals {
  uint64_t execs = 0;  // of finished fuzzer processes
  double seconds = 0;  // job-seconds spent
  uint64_t coverage = 0;
  uint64_t features = 0;
  uint64_t corpus = 0;
  uint64_t crashes = 0;
};

// A point of the plots: where one target stood at campaign time `t`.
struct Sample {
  double t = 0;  // seconds of fuzzing since the campaign began, over all sessions
  std::string target;
  uint64_t execs = 0;
  uint64_t coverage = 0;
  uint64_t corpus = 0;
};

// A crash file a fuzzer left, as stored under OUT/crashes/<target>/.
struct CrashRecord {
  std::string file;  // relative to OUT
  std::string target;
  bool triaged = false;
  std::string signature;  // the finding it belongs to (its key), once triaged
};

// A distinct bug: every crash with the same signature is one finding.
struct FindingRecord {
  std::string key;    // file-safe signature
  std::string title;  // what the target printed / the divergence signature
  std::string target;
  std::string kind;         // "divergence", "invariant", "sanitizer", "timeout", "oom", "crash"
  std::string first_input;  // relative to OUT
  std::size_t count = 0;    // crashes with this signature
  std::string minimized;    // relative to OUT: the minimized .data or input; empty if none
  std::size_t original_slots = 0;
  std::size_t minimized_slots = 0;
  std::string repro_command;   // `bpfdiff repro ...`: every finding has one
  std::string replay_command;  // the target binary on the input, for crashes that are not divergences
};

struct CampaignState {
  int version = 1;
  std::string engine = "libfuzzer";  // or "afl"
  double fuzz_seconds_before = 0;    // campaign time of the earlier, complete sessions
  std::vector<Session> sessions;
  std::map<std::string, TargetTotals> targets;
  std::vector<Sample> samples;
  std::vector<CrashRecord> crashes;
  std::vector<FindingRecord> findings;

  // The session still running, if the last one was not complete.
  Session* open_session();
  const CrashRecord* crash(const std::string& file) const;
  FindingRecord* finding(const std::string& key);
};

// One finding as both state.json and report.json write it.
nlohmann::ordered_json to_json(const FindingRecord& finding);
nlohmann::ordered_json to_json(const CampaignState& state);
// The plot points, as the state file and report.json both list them.
nlohmann::ordered_json to_json(const std::vector<Sample>& samples);
Result<CampaignState> campaign_state_from_json(const nlohmann::json& j);

// OUT/state.json; a fresh state when there is none yet.
Result<CampaignState> load_campaign_state(const std::string& out_dir);
Result<void> save_campaign_state(const CampaignState& state, const std::string& out_dir);

// The work of a new session: with at least as many jobs as targets, every
// job fuzzes one target for the whole session (targets round-robin over the
// jobs); with fewer, every target gets an equal share of the job-seconds,
// run one after another on whichever job is free.
std::vector<WorkItem> plan_work(const std::vector<std::string>& targets, unsigned jobs, double seconds);

// How long the next job of an item may fuzz (its -max_total_time). A job's
// wall time is its fuzzing plus its start-up (a libFuzzer job loads ASan and
// its corpus first), which on a loaded machine can be a quarter of a short
// turn: asking for the plan's share would then run the session out of time
// before the last targets' turn (a one-minute campaign of 10 targets on 2
// jobs gave two of them no run at all). So each job gets an equal part of
// the wall time left among the `waiting` items (this one included), never
// more than the item's own `remaining` share, less the `startup` that jobs
// have been taking; at least a second, or what is left when that is less.
double job_seconds(double wall_left, std::size_t waiting, unsigned jobs, double startup, double remaining);

}  // namespace bpfdiff::cli
