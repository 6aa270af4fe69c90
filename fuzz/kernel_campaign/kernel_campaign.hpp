#pragma once
// `bpfdiff fuzz --engines interp,jit,kernel-qemu`: the kernel campaign. It
// runs in this process (a kernel engine is a pool of guests or bpf() here,
// not a libFuzzer binary): generate a program, run it on every named engine,
// compare ours with ours (oracle::compare) and each kernel with our reference
// (oracle::compare_with_kernel, tallied by oracle::KernelTally), write every
// finding to OUT/findings/<signature>/, show progress, end with a summary and
// OUT/report.json.
//
// A guest that panics, hangs or is killed mid-run costs one program: the
// pool writes the request and the console log to OUT/findings/guest/ before
// it restores the guest, the campaign records the program as a guest finding
// beside the other engines' outcomes, and goes on with the next program.
// Programs come from (seed, iteration), so OUT/kernel-state.json (rewritten
// atomically) is enough to resume, and a finding names its iteration.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/kernel_campaign/campaign_coverage.hpp"
#include "fuzz/kernel_campaign/kernel_time.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel_tally.hpp"
#include "vm/isa/table.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

struct KernelCampaignOptions {
  std::vector<std::string> engines;  // ours first (the first is the reference), kernel engines anywhere
  double minutes = 10;
  uint64_t max_programs = 0;  // 0: no limit; else stop after this many (or at --minutes, if sooner)
  // QEMU guests in the pool (kernel-qemu engines); one worker thread per
  // guest keeps each of them busy.
  std::size_t guests = 1;
  std::string out = "fuzz-campaign";
  uint64_t seed = 1;  // a new campaign's seed; a resumed one keeps its own
  std::size_t max_instructions = 64;
  // Instruction set of the generated programs. v3 by default: Debian 12's
  // own kernel (6.1, the default guest) rejects every v4 form (sdiv/smod,
  // movsx, bswap, sign-extending loads); a 6.12 guest takes v4.
  isa::IsaVersion isa_version = isa::IsaVersion::V3;
  double progress_seconds = 5;
  // The program mix (fuzz/kernel_mix.hpp): the share written by the
  // verifier-stressing generator (the rest kernel-friendly), and the share
  // of those that are mutants of programs the kernel accepted. Half and
  // half: the kernel-friendly half keeps every form's state compared, the
  // other half goes where the verifier is in doubt.
  double verifier_stress_share = 0.5;
  double mutate_rate = 0.25;
  // Predicate calls (each one run of ours and one of the kernel) spent
  // minimizing each new kernel finding (kernel_minimize.hpp); 0: none.
  std::size_t minimize_tests = 2000;
  // Of those, for a guest failure, at most this many runs that break the
  // guest again (each costs a guest restore, a hang its whole deadline),
  // the first being the program itself run again.
  std::size_t guest_minimize_failures = 16;
  // Ask the kernel engines for KCOV coverage of the verifier and the JIT
  // (guests built with --kcov give it; others say why not), and let it
  // choose the mutation corpus: programs reaching new edges
  // (campaign_coverage.hpp). Unguided, coverage is only measured.
  bool coverage = true;
  bool coverage_guided = true;
  // A guest request still busy after this long is abandoned: the program is
  // not judged on that engine and counted as "verifier too slow under TCG"
  // (a verifier walking to its 1M-instruction complexity limit takes
  // minutes there), never a finding. 0: the pool's default (600 s).
  double guest_request_limit_seconds = 60;
  // Programs a worker draws at once: ours run each, then each kernel engine
  // gets them as one batch, which a guest pool pipelines (the agent finds
  // the next request waiting instead of idling while the host reads an
  // answer and sends the next); then each is judged in order. 1: one
  // program at a time.
  std::size_t kernel_batch = 8;
};

// Whether `engines` names a kernel engine, i.e. whether `bpfdiff fuzz` runs
// the kernel campaign rather than the libFuzzer/AFL one.
bool names_kernel_engine(const std::vector<std::string>& engines);

// Seams for tests: where engines come from, what happens after each program.
struct KernelCampaignHooks {
  std::function<Result<std::unique_ptr<oracle::Engine>>(const std::string& name)> make_engine;
  // Guest pool counters for progress and the report; none without guests.
  std::function<std::optional<std::pair<uint64_t, uint64_t>>()> guest_restarts_and_failures;
  std::function<void(uint64_t programs_done)> after_program;
  // Which names are kernel engines (kernel rules, tallies); default: the
  // names of oracle::kernel_engine_names().
  std::function<bool(const std::string& name)> is_kernel_engine;
  // Called once the campaign's deadline is known: kernel requests still in
  // flight then are abandoned (not judged, never a finding), so the campaign
  // ends on time whatever the guests are busy with.
  std::function<void(std::chrono::steady_clock::time_point deadline)> abandon_kernel_requests_from;
};
KernelCampaignHooks default_kernel_campaign_hooks(const KernelCampaignOptions& options);

struct EngineThroughput {
  uint64_t runs = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(runs) / seconds : 0; }
};

struct KernelCampaignFinding {
  std::string signature;
  std::string kind;                // "divergence", "mismatch", "verifier soundness", "guest failure", ...
  std::string dir;                 // OUT/findings/<signature>
  uint64_t count = 0;              // programs that hit it, all sessions
  uint64_t hits_this_session = 0;  // of them in this session (a resumed session starts at 0)
  uint64_t first_iteration = 0;
  // The known kernel bug it is (oracle/known_kernel_bugs.hpp), or empty.
  std::string known_bug;
};

struct KernelCampaignResult {
  std::string out;
  uint64_t seed = 0;
  uint64_t programs = 0;        // run this session
  uint64_t total_programs = 0;  // over all sessions
  double seconds = 0;
  std::vector<std::string> engines;
  std::string reference;
  std::map<std::string, oracle::KernelTally> tallies;  // per kernel engine, against the reference
  // The same per program source ("kernel-friendly", "verifier-stress",
  // "verifier-stress-mutant"), then per kernel engine.
  std::map<std::string, std::map<std::string, oracle::KernelTally>> source_tallies;
  std::map<std::string, EngineThroughput> throughput;
  // Where the kernel engines' time went (per source, per program, per verdict).
  KernelTimeTally kernel_time;
  uint64_t ours_disagree = 0;  // programs on which our engines disagreed
  // Programs with maps, with map helper calls (lookup/update/delete), with
  // any helper call; and of those with maps, how many a kernel accepted and
  // agreed on (map contents compared).
  uint64_t with_maps = 0;
  uint64_t with_map_calls = 0;
  uint64_t with_helper_calls = 0;
  uint64_t maps_agreed = 0;
  uint64_t guest_restarts = 0;
  uint64_t guest_failures = 0;
  // Programs a kernel engine did not judge (its request was abandoned), by
  // why: "deadline" (in flight at the campaign's end) or "too slow" (busy
  // past --guest-request-limit: the verifier too slow under TCG), and the
  // iterations of the slow ones (the first 100), to look at with `repro`.
  std::map<std::string, uint64_t> not_judged;
  std::vector<uint64_t> too_slow_iterations;
  std::map<std::string, std::string> kernel_releases;
  std::vector<KernelCampaignFinding> findings;  // every signature, all sessions
  uint64_t new_findings = 0;                    // signatures first seen this session
  // Whether this session's programs hit a finding that is not a known
  // kernel bug: what makes `bpfdiff fuzz` exit 1. Findings of earlier
  // sessions are still listed, but one this session did not hit again does
  // not fail it: the run that found it failed already, and a finding the
  // current build no longer produces (a fixed false alarm, say) must not
  // fail every later run of the same --out.
  bool hit_unknown_findings() const;
  // Verifier/JIT edges reached this session, the corpus size and the edges
  // over time (empty timeline: nothing was traced).
  uint64_t coverage_edges = 0;
  uint64_t corpus = 0;
  std::vector<CoveragePoint> coverage_timeline;
  std::string coverage_summary;  // the summary's coverage lines
  bool interrupted = false;
  std::string report_json;
};

// Runs (or resumes) the campaign in options.out. Fails on setup errors: no
// engine of ours or no kernel engine named, an engine that cannot be made
// (with its "unavailable" reason), an unusable OUT.
Result<KernelCampaignResult> run_kernel_campaign(const KernelCampaignOptions& options,
                                                 const std::function<void(const std::string&)>& progress,
                                                 const KernelCampaignHooks& hooks);

// What `bpfdiff fuzz` prints at the end.
std::string format_kernel_campaign_summary(const KernelCampaignResult& result);

}  // namespace bpfdiff::cli
