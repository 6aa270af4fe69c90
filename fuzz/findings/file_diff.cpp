#include "fuzz/findings/file_diff.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_outcome.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/kernel_report.hpp"
#include "oracle/run/report.hpp"

namespace bpfdiff::cli {
namespace {

using Json = nlohmann::ordered_json;

// One line per kernel outcome: its verdict (a rejection is no disagreement,
// so it is said here).
std::string kernel_lines(const FileDiff& d) {
  std::string out;
  for (const oracle::Outcome& o : d.outcomes) {
    if (o.kernel) out += "  " + kernel_verdict_line(o) + "\n";
  }
  return out;
}

Json outcome_json(const oracle::Outcome& o) {
  Json j;
  j["engine"] = o.engine;
  j["loaded"] = o.loaded;
  if (!o.loaded) {
    j["load_error"] = o.load_error;
    return j;
  }
  j["r0"] = hex_u64(o.regs[0]);
  j["instructions"] = o.instructions;
  j["error"] = error_json(o.error);
  return j;
}

void add_kernel_json(Json& j, const oracle::Outcome& o) {
  if (!o.kernel) return;
  const oracle::KernelOutcome& k = *o.kernel;
  Json kj;
  kj["verdict"] = oracle::to_string(k.verdict);
  kj["release"] = k.release;
  if (k.verdict == oracle::kernel::KernelVerdict::Rejected) {
    kj["errno"] = k.errno_value;
    kj["reason"] = k.rejection_reason;
    kj["log"] = k.log;
  } else if (k.verdict != oracle::kernel::KernelVerdict::Accepted) {
    kj["why"] = k.log;
  }
  j["kernel"] = std::move(kj);
}

}  // namespace

PreparedFileDiff prepare_file_diff(const std::string& path, const FileDiffOptions& options) {
  PreparedFileDiff p;
  p.diff.path = path;
  auto input =
      load_replay_input(path, options.fuzz_input, options.layout, oracle::default_helpers(), options.elf);
  if (!input) {
    p.diff.load_error = input.error().message;
    return p;
  }
  p.diff.kind = input->kind;
  p.diff.budget = replay_budget(*input, options.budget);
  p.diff.setup = options.setup.applied_to(input->setup);
  if (options.memory) input->memory = *options.memory;
  p.input = std::move(input).value();
  return p;
}

FileDiff diff_file(const std::string& path, const FileDiffOptions& options, NamedEngines& engines) {
  PreparedFileDiff p = prepare_file_diff(path, options);
  if (!p.input) return p.diff;
  FileDiff& d = p.diff;
  d.outcomes = run_on_each(engines, p.input->program, p.input->memory, d.budget, d.setup);
  d.differences = differences_from_first(d.outcomes);
  return d;
}

std::string format_file_diff(const FileDiff& d) {
  if (d.load_error) return d.path + ": error: " + *d.load_error + "\n";
  const std::string runs = d.runs > 1 ? ", " + std::to_string(d.runs) + " runs" : "";
  if (d.agree()) {
    return d.path + ": agree (" + std::to_string(d.outcomes.size()) + " engines" + runs +
           "): " + summarize(d.outcomes.front()) + "\n" + kernel_lines(d);
  }
  std::string out = d.path + ": disagree";
  if (d.diverged_run && *d.diverged_run > 0) out += " " + d.run_note;
  out += "\n";
  for (const EngineDifference& e : d.differences)
    out += "  " + e.left + " vs " + e.right + ": " + oracle::to_string(e.difference) + "\n";
  return out + kernel_lines(d);
}

Json file_diff_json(const FileDiff& d) {
  Json j;
  j["file"] = d.path;
  if (d.load_error) {
    j["error"] = *d.load_error;
    return j;
  }
  j["kind"] = d.kind;
  j["budget"] = d.budget;
  j["agree"] = d.agree();
  if (d.runs > 1) {
    j["runs"] = d.runs;
    // 1-based, as the text and `repro --gate-runs` count runs.
    if (d.diverged_run) j["diverged_run"] = *d.diverged_run + 1;
  }
  auto engines = Json::array();
  for (const oracle::Outcome& o : d.outcomes)
    engines.push_back(o.engine);
  j["engines"] = std::move(engines);
  j["reference"] = outcome_json(d.outcomes.front());
  auto kernels = Json::array();
  for (const oracle::Outcome& o : d.outcomes) {
    if (!o.kernel) continue;
    Json kj = {{"engine", o.engine}};
    add_kernel_json(kj, o);
    kernels.push_back(std::move(kj));
  }
  if (!kernels.empty()) j["kernels"] = std::move(kernels);
  auto diffs = Json::array();
  for (const EngineDifference& e : d.differences) {
    diffs.push_back({{"left_engine", e.left},
                     {"right_engine", e.right},
                     {"field", e.difference.field},
                     {"left", e.difference.left},
                     {"right", e.difference.right}});
  }
  j["differences"] = std::move(diffs);
  return j;
}

void tally_kernel(const FileDiff& d, oracle::KernelTally& tally) {
  if (d.load_error || d.outcomes.empty() || d.outcomes.front().kernel) return;
  for (const oracle::Outcome& o : d.outcomes) {
    if (!o.kernel) continue;
    tally.add(oracle::compare_with_kernel(d.outcomes.front(), o));
    return;
  }
}

Result<std::vector<std::string>> files_under(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (ec) return make_error(dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace bpfdiff::cli
