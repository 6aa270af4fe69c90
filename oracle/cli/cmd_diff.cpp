// `bpfdiff diff FILE|DIR ...`: run each program on several engines and
// compare every engine's full outcome with the first engine's.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/kernel_report.hpp"
#include "fuzz/findings/replay.hpp"
#include "oracle/run/report.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_outcome.hpp"
#include "oracle/kernel_tally.hpp"

namespace bpfdiff::cli {
namespace {

struct DiffCommandOptions {
  std::string input;
  std::vector<std::string> engines;
  std::string mem_hex;
  std::string mem_file;
  uint64_t budget = 0;  // 0: not given
  bool fuzz_input = false;
  std::string layout;  // --layout: read FILE as that fuzz target's input
  bool json = false;
};

struct FileResult {
  std::string path;
  std::optional<std::string> load_error;  // the file could not be read or parsed
  std::vector<oracle::Outcome> outcomes;  // one per engine, in --engines order
  std::vector<EngineDifference> differences;
  uint64_t budget = 0;
  std::string kind;

  bool agree() const { return !load_error && differences.empty(); }
};

FileResult diff_file(const std::string& path, const DiffCommandOptions& opts,
                     const std::optional<std::vector<uint8_t>>& memory, NamedEngines& engines) {
  FileResult result;
  result.path = path;
  auto input = load_replay_input(path, opts.fuzz_input, opts.layout, oracle::default_helpers());
  if (!input) {
    result.load_error = input.error().message;
    return result;
  }
  result.kind = input->kind;
  result.budget = opts.budget != 0 ? opts.budget
                  : input->budget != 0
                      ? input->budget
                      : (input->fuzz_layout ? kFuzzTargetBudget : vm::ExecLimits{}.instruction_budget);
  result.outcomes = run_on_each(engines, input->program, memory ? *memory : input->memory, result.budget);
  result.differences = differences_from_first(result.outcomes);
  return result;
}

// One line per kernel outcome: its verdict (a rejection is no disagreement,
// so it is said here).
std::string kernel_lines(const FileResult& r) {
  std::string out;
  for (const oracle::Outcome& o : r.outcomes) {
    if (o.kernel) out += "  " + kernel_verdict_line(o) + "\n";
  }
  return out;
}

std::string format_text(const FileResult& r) {
  if (r.load_error) return r.path + ": error: " + *r.load_error + "\n";
  if (r.agree()) {
    return r.path + ": agree (" + std::to_string(r.outcomes.size()) +
           " engines): " + summarize(r.outcomes.front()) + "\n" + kernel_lines(r);
  }
  std::string out = r.path + ": disagree\n";
  for (const EngineDifference& d : r.differences)
    out += "  " + d.left + " vs " + d.right + ": " + oracle::to_string(d.difference) + "\n";
  return out + kernel_lines(r);
}

// The first kernel engine against the reference under the kernel rules,
// when the reference is one of ours.
void tally_kernel(const FileResult& r, oracle::KernelTally& tally) {
  if (r.load_error || r.outcomes.empty() || r.outcomes.front().kernel) return;
  for (const oracle::Outcome& o : r.outcomes) {
    if (!o.kernel) continue;
    tally.add(oracle::compare_with_kernel(r.outcomes.front(), o));
    return;
  }
}

nlohmann::ordered_json outcome_json(const oracle::Outcome& o) {
  nlohmann::ordered_json j;
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

void add_kernel_json(nlohmann::ordered_json& j, const oracle::Outcome& o) {
  if (!o.kernel) return;
  const oracle::KernelOutcome& k = *o.kernel;
  nlohmann::ordered_json kj;
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

nlohmann::ordered_json format_json(const FileResult& r) {
  nlohmann::ordered_json j;
  j["file"] = r.path;
  if (r.load_error) {
    j["error"] = *r.load_error;
    return j;
  }
  j["kind"] = r.kind;
  j["budget"] = r.budget;
  j["agree"] = r.agree();
  auto engines = nlohmann::ordered_json::array();
  for (const oracle::Outcome& o : r.outcomes)
    engines.push_back(o.engine);
  j["engines"] = std::move(engines);
  j["reference"] = outcome_json(r.outcomes.front());
  auto kernels = nlohmann::ordered_json::array();
  for (const oracle::Outcome& o : r.outcomes) {
    if (!o.kernel) continue;
    nlohmann::ordered_json kj = {{"engine", o.engine}};
    add_kernel_json(kj, o);
    kernels.push_back(std::move(kj));
  }
  if (!kernels.empty()) j["kernels"] = std::move(kernels);
  auto diffs = nlohmann::ordered_json::array();
  for (const EngineDifference& d : r.differences) {
    diffs.push_back({{"left_engine", d.left},
                     {"right_engine", d.right},
                     {"field", d.difference.field},
                     {"left", d.difference.left},
                     {"right", d.difference.right}});
  }
  j["differences"] = std::move(diffs);
  return j;
}

// Every regular file under `dir`, sorted by path so runs are reproducible.
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

int usage_failure(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return kExitLoadFailed;
}

int run_diff(const DiffCommandOptions& opts) {
  auto engines = make_engines(opts.engines);
  if (!engines) return usage_failure(engines.error().message);
  auto memory = memory_override(opts.mem_hex, opts.mem_file);
  if (!memory) return usage_failure(memory.error().message);

  std::error_code ec;
  const bool is_dir = std::filesystem::is_directory(opts.input, ec);
  std::vector<std::string> files = {opts.input};
  if (is_dir) {
    auto listed = files_under(opts.input);
    if (!listed) return usage_failure(listed.error().message);
    files = std::move(listed).value();
  }

  std::size_t agree = 0, disagree = 0, failed = 0;
  oracle::KernelTally tally;
  auto json_array = nlohmann::ordered_json::array();
  for (const std::string& file : files) {
    const FileResult r = diff_file(file, opts, *memory, *engines);
    tally_kernel(r, tally);
    if (r.load_error) {
      ++failed;
    } else if (r.agree()) {
      ++agree;
    } else {
      ++disagree;
    }
    if (opts.json && is_dir) {
      json_array.push_back(format_json(r));
    } else if (opts.json) {
      std::cout << format_json(r).dump() << "\n";
    } else if (r.load_error) {
      std::cerr << format_text(r);
    } else {
      std::cout << format_text(r) << std::flush;
    }
  }
  if (is_dir) {
    std::string summary = std::to_string(files.size()) + " programs, " + std::to_string(agree) + " agree, " +
                          std::to_string(disagree) + " disagree";
    if (failed > 0) summary += ", " + std::to_string(failed) + " failed to load";
    if (tally.total() > 0) summary += "\nkernel rules, " + tally.summary();
    if (opts.json) {
      std::cout << json_array.dump() << "\n";
      std::cerr << summary << "\n";
    } else {
      std::cout << summary << "\n";
    }
  }
  if (disagree > 0) return kExitRunFailed;
  if (failed > 0) return kExitLoadFailed;
  return kExitOk;
}

std::string engine_list() {
  std::string s;
  for (const std::string& n : oracle::engine_names())
    s += (s.empty() ? "" : ",") + n;
  return s;
}

std::string kernel_engine_list() {
  std::string s;
  for (const std::string& n : oracle::kernel_engine_names())
    s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

void add_diff_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<DiffCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "diff", "Run programs on several engines and compare their full outcomes with the first engine's.");
  cmd->footer(
      "FILE is assembly (.asm, .s, printable text), raw bytecode (.bin, .o, binary), a\n"
      "bpf_conformance test (.data, with its memory) or a raw fuzz input (u32 program length |\n"
      "program | memory: with --fuzz-input, or detected when a binary file is not a whole number\n"
      "of 8-byte slots). With a DIR every regular file under it is diffed, in sorted order,\n"
      "followed by a summary line \"N programs, M agree, K disagree\".\n"
      "Each engine's outcome (load verdict, r0..r10, instructions, error kind/pc/address/size,\n"
      "memory, stack, helper calls) is compared with the first engine's; a program all engines\n"
      "reject counts as agreement. Use `bpfdiff repro FILE` to localise a disagreement.\n"
      "Kernel engines (" + kernel_engine_list() + ", e.g. --engines interp,kernel-host) follow the\n"
      "kernel rules: a kernel rejection is no disagreement (its verdict, errno and reason are\n"
      "printed under the file), an accepted program must give the same r0..r9 (pointers as\n"
      "region+offset) and memory and must not fault in our VM; stack, instruction count and\n"
      "helper calls are not compared (the kernel does not export them). A DIR summary adds\n"
      "the kernel's acceptance rate and top rejection reasons.\n\n"
      "Budget: --budget, else " +
      std::to_string(kFuzzTargetBudget) + " for fuzz inputs (as the fuzz target) and " +
      std::to_string(vm::ExecLimits{}.instruction_budget) +
      " otherwise.\n"
      "Exit status: 0 all agree, 1 some program makes the engines disagree, 2 bad usage or a\n"
      "file that cannot be loaded (when nothing disagrees).\n"
      "JSON (--json): per file {\"file\", \"kind\", \"budget\", \"agree\", \"engines\", \"reference\"\n"
      "(the first engine's r0, instructions, error), \"differences\": [{\"left_engine\",\n"
      "\"right_engine\", \"field\", \"left\", \"right\"}]} or {\"file\", \"error\"}; for a DIR an\n"
      "array of them on stdout and the summary line on stderr.");
  cmd->add_option("FILE", opts->input, "a program or fuzz input, or a directory of them")->required();
  cmd->add_option("--engines", opts->engines,
                  "engines to compare, comma-separated; the first is the reference")
      ->delimiter(',')
      ->default_str(engine_list());
  auto* mem = cmd->add_option("--mem", opts->mem_hex, "input memory as hex (overrides the file's)");
  auto* mem_file = cmd->add_option("--mem-file", opts->mem_file, "input memory: the raw bytes of this file");
  mem->excludes(mem_file);
  mem_file->excludes(mem);
  cmd->add_option("--budget", opts->budget, "instruction budget of every run")->check(kAtLeastOne);
  cmd->add_flag("--fuzz-input", opts->fuzz_input, "read every FILE as a raw fuzz input");
  cmd->add_option("--layout", opts->layout,
                  "read every FILE as this fuzz target's input: raw, generated (interp_vs_jit_gen decisions: "
                  "the program with its maps), single-insn or program; the budget is the target's")
      ->check(CLI::IsMember({"raw", "generated", "single-insn", "program"}));
  cmd->add_flag("--json", opts->json, "print JSON: one object per file, an array for a DIR");
  cmd->callback([opts, &exit_code] { exit_code = run_diff(*opts); });
}

}  // namespace bpfdiff::cli
