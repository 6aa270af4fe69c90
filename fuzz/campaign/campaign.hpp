#pragma once
// `bpfdiff fuzz`, the fuzzing campaign, as a library: run the fuzz targets
// found in a build for a wall-clock budget on N jobs, show progress, keep
// every crash, then merge the corpora, triage the crashes and write the
// report. The command (cmd_fuzz.cpp) only parses options into these.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/campaign/campaign_state.hpp"
#include "fuzz/campaign/fuzzer_status.hpp"
#include "fuzz/campaign/subprocess.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

enum class FuzzEngine : uint8_t { LibFuzzer, Afl };
const char* to_string(FuzzEngine engine);  // "libfuzzer", "afl"

struct CampaignOptions {
  double minutes = 10;
  unsigned jobs = 1;
  std::vector<std::string> targets;  // empty: every target of the build
  FuzzEngine engine = FuzzEngine::LibFuzzer;
  std::string out = "fuzz-campaign";
  std::string build_dir;  // empty: build/fuzz or build/afl by engine
  std::string coverage_build_dir = "build/coverage";
  std::string source_root = ".";  // holds corpus/fuzz/<target> seeds and fuzz/dict/<target>.dict
  double progress_seconds = 5;
  bool triage = true;
  bool coverage = true;
  std::size_t max_minimize_tests = 5'000;
};

// The environment of an afl-fuzz job on `target`: AFL++'s settings for an
// unattended run and, for the targets whose inputs are raw instructions
// (interp_raw, interp_vs_jit_raw, jit_decode: those with the libFuzzer
// custom mutator), AFL_CUSTOM_MUTATOR_LIBRARY naming the build's
// fuzz/libbpfdiff_afl_mutator.so (absolute) and BPFDIFF_AFL_PREFIX -- when
// the module was built. The other targets read generator decisions, which
// an instruction-aware mutator would only garble.
Environment afl_environment(const std::string& build_dir, std::string_view target);

// Seconds one input of `target` may take before the fuzzer calls it a hang
// (libFuzzer -timeout; AFL++ -t where longer than its own): 10, except for
// interp_vs_kernel, whose kernel verifier legitimately works for seconds on
// a program it rejects at its 1M-instruction limit (about 2.4 s on an idle host, more than 10 under
// load in a sanitizer build: a 60-minute run reported two such "timeouts").
int input_timeout_seconds(std::string_view target);

// fuzz_<name> executables in DIR/fuzz (not the _replay ones), sorted by name.
std::vector<std::string> discover_targets(const std::string& build_dir);

// Where a campaign stands, for progress lines.
struct CampaignProgress {
  double elapsed = 0;  // seconds of this session
  double planned = 0;
  uint64_t execs = 0;       // over all targets, all sessions
  double exec_per_sec = 0;  // current, summed over running jobs
  uint64_t coverage = 0;    // summed over targets of each one's best
  uint64_t corpus = 0;
  std::size_t crashes = 0;
  std::vector<std::string> running;
};
std::string format_progress(const CampaignProgress& p);

struct CampaignResult {
  CampaignState state;
  bool interrupted = false;
  std::string report_html;  // paths
  std::string report_json;
  std::string coverage_note;
};

using ProgressSink = std::function<void(const std::string& line)>;

// Runs (or resumes) the campaign in options.out. Fails on setup errors
// (no targets, unusable --out); findings are in the result, not errors.
Result<CampaignResult> run_campaign(const CampaignOptions& options, const ProgressSink& progress);

// Asks a running campaign to stop at its next tick, as SIGINT does.
void request_campaign_stop();

// What `bpfdiff fuzz` prints at the end.
std::string format_campaign_summary(const CampaignResult& result);

}  // namespace bpfdiff::cli
