// `bpfdiff fuzz`: the fuzzing campaign (see campaign.hpp).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/campaign/campaign.hpp"
#include "fuzz/kernel_campaign/kernel_campaign.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/run/input.hpp"

namespace bpfdiff::cli {
namespace {

struct FuzzCommandOptions {
  CampaignOptions campaign;
  std::string engine = "libfuzzer";
  bool json = false;
  bool no_triage = false;
  bool no_coverage = false;
  // --engines naming a kernel engine: the in-process kernel campaign.
  KernelCampaignOptions kernel;
  int isa_version = 3;
};

void progress_line(const std::string& line) {
  std::cerr << line << std::endl;
}

// What both campaign kinds print and return: report.json or the summary;
// exit 1 when interrupted or when there are findings.
int finish(bool json, const std::string& report_json, const std::string& summary, bool interrupted,
           bool findings) {
  if (json) {
    auto report = read_file(report_json);
    if (!report) return usage_error(report.error().message);
    std::cout << std::string(report->begin(), report->end());
  } else {
    std::cout << summary;
  }
  return interrupted || findings ? kExitRunFailed : kExitOk;
}

int run_fuzz(FuzzCommandOptions& opts) {
  if (!opts.kernel.engines.empty()) {
    if (!names_kernel_engine(opts.kernel.engines)) {
      return usage_error(
          "--engines is for the kernel campaign and names no kernel engine; the interp/JIT campaign runs the "
          "fuzz targets (--targets)");
    }
    // The options both kinds have are parsed once, into the campaign's.
    opts.kernel.minutes = opts.campaign.minutes;
    opts.kernel.out = opts.campaign.out;
    opts.kernel.progress_seconds = opts.campaign.progress_seconds;
    opts.kernel.isa_version = static_cast<isa::IsaVersion>(opts.isa_version);
    opts.kernel.minimize_tests = opts.campaign.max_minimize_tests;
    auto result = run_kernel_campaign(opts.kernel, progress_line, default_kernel_campaign_hooks(opts.kernel));
    if (!result) return usage_error(result.error().message);
    return finish(opts.json, result->report_json, format_kernel_campaign_summary(*result),
                  result->interrupted, result->hit_unknown_findings());
  }
  opts.campaign.engine = opts.engine == "afl" ? FuzzEngine::Afl : FuzzEngine::LibFuzzer;
  opts.campaign.triage = !opts.no_triage;
  opts.campaign.coverage = !opts.no_coverage;
  auto result = run_campaign(opts.campaign, progress_line);
  if (!result) return usage_error(result.error().message);
  return finish(opts.json, result->report_json, format_campaign_summary(*result), result->interrupted,
                !result->state.findings.empty());
}

}  // namespace

void add_fuzz_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<FuzzCommandOptions>();
  CLI::App* cmd = app.add_subcommand("fuzz", "Run a fuzzing campaign over the fuzz targets of a build.");
  cmd->footer(
      "Runs the fuzz targets found in BUILD/fuzz (fuzz_<target>; build them first with\n"
      "`cmake --preset fuzz && cmake --build --preset fuzz`, or the afl preset for --engine afl)\n"
      "for --minutes of wall-clock time on --jobs processes: with at least as many jobs as targets\n"
      "each job fuzzes one target throughout, otherwise the targets share the job-time in turns.\n"
      "Seeds come from corpus/fuzz/<target>, dictionaries from fuzz/dict/<target>.dict.\n"
      "A progress line goes to stderr every few seconds (executions, exec/s, coverage, corpus,\n"
      "crashes). Every crash file is moved into OUT/crashes/<target>/ and recorded in\n"
      "OUT/state.json (written atomically) before its job restarts. At the end the corpora are\n"
      "merged (libFuzzer -merge=1 / afl-cmin), every crash is triaged -- deduplicated by\n"
      "signature, minimized, with a reproducer command, in OUT/findings/<signature>/ -- the merged\n"
      "corpora are replayed by the coverage build (--coverage-build, `cmake --preset coverage`) for\n"
      "llvm-cov-14's source-coverage summary, and OUT/report.json and OUT/report.html (plots of\n"
      "executions and coverage over time) are written.\n"
      "Resumable: killed or interrupted (Ctrl-C), the same command with the same --out continues\n"
      "the session where it stopped; after a complete session it starts a new one on the saved\n"
      "corpora, findings and history.\n"
      "\n"
      "Kernel campaign: --engines naming a kernel engine (e.g. --engines interp,jit,kernel-qemu)\n"
      "runs in this process instead of the fuzz binaries: each generated program runs on every\n"
      "engine; ours are compared with the first of ours (everything must agree), each kernel\n"
      "with it under the kernel rules (a rejection is counted by reason, not a mismatch; a\n"
      "program the kernel accepts must not fault in ours and must leave the same registers and\n"
      "memory), and two kernel engines with each other. Every finding is written atomically to\n"
      "OUT/findings/<signature>/ (case.data, input.raw, outcomes.json, kernel logs, the guest\n"
      "console for guest failures; a guest's own record goes to OUT/findings/guest/ before it is\n"
      "restored). A guest that panics, hangs or is killed costs one program: the pool restores\n"
      "it from its snapshot and the campaign goes on. Progress lines give programs/s, the\n"
      "kernel's acceptance rate and the findings; OUT/report.json holds agreement, acceptance,\n"
      "top rejection reasons, throughput per engine and guest restarts. Programs come from\n"
      "(seed, iteration), kept in OUT/kernel-state.json: the same --out resumes.\n"
      "Exit status: 0 no findings, 1 findings (or interrupted), 2 bad usage or nothing to run.");
  cmd->add_option("--minutes", opts->campaign.minutes, "wall-clock length of the session")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--jobs", opts->campaign.jobs, "fuzzer processes at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--targets", opts->campaign.targets, "targets to run, comma-separated (default: all found)")
      ->delimiter(',');
  cmd->add_option("--engine", opts->engine, "libfuzzer or afl")
      ->check(CLI::IsMember({"libfuzzer", "afl"}))
      ->capture_default_str();
  cmd->add_option("--out", opts->campaign.out,
                  "campaign directory (state, corpora, crashes, findings, report)")
      ->capture_default_str();
  cmd->add_option("--build", opts->campaign.build_dir,
                  "build directory with the fuzz targets (default build/fuzz, build/afl)");
  cmd->add_option("--coverage-build", opts->campaign.coverage_build_dir, "coverage build directory")
      ->capture_default_str();
  cmd->add_option("--source", opts->campaign.source_root, "source tree (seeds, dictionaries)")
      ->capture_default_str();
  cmd->add_option("--progress", opts->campaign.progress_seconds, "seconds between progress lines")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-minimize-tests", opts->campaign.max_minimize_tests,
                  "candidates the minimizer tries per finding")
      ->capture_default_str();
  cmd->add_option("--engines", opts->kernel.engines,
                  "kernel campaign: engines, comma-separated, ours first (e.g. interp,jit,kernel-qemu)")
      ->delimiter(',');
  cmd->add_option("--guests", opts->kernel.guests,
                  "kernel campaign: QEMU guests in the pool, each kept busy by its own worker thread")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option(
         "--seed", opts->kernel.seed,
         "kernel campaign: seed of a new campaign (a resumed one keeps its own seed and ISA version)")
      ->capture_default_str();
  cmd->add_option("--max-programs", opts->kernel.max_programs,
                  "kernel campaign: stop after this many programs, or at --minutes (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-instructions", opts->kernel.max_instructions,
                  "kernel campaign: slots per generated program")
      ->check(CLI::Range(16, 4096))
      ->capture_default_str();
  cmd->add_option("--isa-version", opts->isa_version,
                  "kernel campaign: instruction set of the programs (3: what Debian 12's 6.1 kernel takes; "
                  "4 adds sdiv/smod, movsx, bswap, sign-extending loads, for 6.12 kernels)")
      ->check(CLI::Range(1, 4))
      ->capture_default_str();
  cmd->add_option("--verifier-stress", opts->kernel.verifier_stress_share,
                  "kernel campaign: share of programs from the verifier-stressing generator (the rest are "
                  "kernel-friendly)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option(
         "--mutate-rate", opts->kernel.mutate_rate,
         "kernel campaign: share of the verifier-stressing programs that are mutants of the corpus "
         "(programs that reached new verifier/JIT edges; without KCOV, programs the kernel accepted)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--guest-request-limit", opts->kernel.guest_request_limit_seconds,
                  "kernel campaign: seconds a guest may stay busy on one program (heartbeats going on) "
                  "before it is abandoned, not judged and counted as 'verifier too slow under TCG', never a "
                  "finding; it may be shorter than the 20 s silence that makes a guest hung (the agent "
                  "heartbeats every second while it works); 0: the pool's 600 s")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--kernel-batch", opts->kernel.kernel_batch,
                  "kernel campaign: programs each kernel engine gets at once; a guest runs them pipelined "
                  "(1: one request at a time)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_flag("!--no-kernel-coverage", opts->kernel.coverage,
                "kernel campaign: do not ask the guests for KCOV coverage of the verifier and JIT (a guest "
                "kernel built with scripts/build-guest.sh --kcov gives it)");
  cmd->add_flag("!--unguided", opts->kernel.coverage_guided,
                "kernel campaign: measure the coverage but keep the corpus of accepted programs instead of "
                "programs that reached new edges (to compare guidance with none)");
  cmd->add_flag("--no-triage", opts->no_triage, "leave crashes untriaged (a later run triages them)");
  cmd->add_flag("--no-coverage", opts->no_coverage, "skip the source-coverage summary");
  cmd->add_flag("--json", opts->json,
                "print report.json (totals, per-target exec/s, findings, samples) instead of the summary");
  cmd->callback([opts, &exit_code] { exit_code = run_fuzz(*opts); });
}

}  // namespace bpfdiff::cli
