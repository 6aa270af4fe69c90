// `bpfdiff fuzz`: the fuzzing campaign (see campaign.hpp).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "oracle/cli/campaign.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/cli/input.hpp"

namespace bpfdiff::cli {
namespace {

struct FuzzCommandOptions {
  CampaignOptions campaign;
  std::string engine = "libfuzzer";
  bool json = false;
  bool no_triage = false;
  bool no_coverage = false;
};

int run_fuzz(FuzzCommandOptions& opts) {
  opts.campaign.engine = opts.engine == "afl" ? FuzzEngine::Afl : FuzzEngine::LibFuzzer;
  opts.campaign.triage = !opts.no_triage;
  opts.campaign.coverage = !opts.no_coverage;
  auto result = run_campaign(opts.campaign, [](const std::string& line) { std::cerr << line << std::endl; });
  if (!result) {
    std::cerr << "error: " << result.error().message << "\n";
    return kExitLoadFailed;
  }
  if (opts.json) {
    auto report = read_file(result->report_json);
    if (!report) {
      std::cerr << "error: " << report.error().message << "\n";
      return kExitLoadFailed;
    }
    std::cout << std::string(report->begin(), report->end());
  } else {
    std::cout << format_campaign_summary(*result);
  }
  if (result->interrupted) return kExitRunFailed;
  return result->state.findings.empty() ? kExitOk : kExitRunFailed;
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
  cmd->add_flag("--no-triage", opts->no_triage, "leave crashes untriaged (a later run triages them)");
  cmd->add_flag("--no-coverage", opts->no_coverage, "skip the source-coverage summary");
  cmd->add_flag("--json", opts->json,
                "print report.json (totals, per-target exec/s, findings, samples) instead of the summary");
  cmd->callback([opts, &exit_code] { exit_code = run_fuzz(*opts); });
}

}  // namespace bpfdiff::cli
