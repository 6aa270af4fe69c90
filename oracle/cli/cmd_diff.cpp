// `bpfdiff diff FILE|DIR ...`: run each program on several engines and
// compare every engine's full outcome with the first engine's.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/findings/file_diff.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/findings/target_input.hpp"
#include "fuzz/gate/gate_runs.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/cli/run_mode_flags.hpp"
#include "oracle/engine.hpp"
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
  std::string target;  // --target: FILE is this fuzz target's input (fuzz/findings/target_input.hpp)
  bool json = false;
  bool gate_runs = false;  // --gate-runs: the gate's four runs of one prepared program
  RunModeFlags run_mode;
  ElfChoice elf;  // --section / --program: the program of each ELF object
};

int run_diff(const DiffCommandOptions& opts) {
  auto engines = make_engines(opts.engines);
  if (!engines) return usage_error(engines.error().message);
  if (opts.gate_runs && !all_in_process(*engines))
    return usage_error("--gate-runs reruns a prepared program: the kernel engines load per input");
  auto memory = run_memory_override(opts.run_mode, opts.mem_hex, opts.mem_file);
  if (!memory) return usage_error(memory.error().message);
  const FileDiffOptions diff_options{opts.budget, opts.fuzz_input,       opts.layout,
                                     *memory,     opts.run_mode.given(), opts.elf};

  std::error_code ec;
  const bool is_dir = std::filesystem::is_directory(opts.input, ec);
  std::vector<std::string> files = {opts.input};
  if (is_dir) {
    auto listed = files_under(opts.input);
    if (!listed) return usage_error(listed.error().message);
    files = std::move(listed).value();
  }

  std::size_t agree = 0, disagree = 0, failed = 0;
  oracle::KernelTally tally;
  auto json_array = nlohmann::ordered_json::array();
  for (const std::string& file : files) {
    const FileDiff r = opts.gate_runs ? diff_file_gate_runs(file, diff_options, *engines)
                                      : diff_file(file, diff_options, *engines);
    tally_kernel(r, tally);
    if (r.load_error) {
      ++failed;
    } else if (r.agree()) {
      ++agree;
    } else {
      ++disagree;
    }
    if (opts.json && is_dir) {
      json_array.push_back(file_diff_json(r));
    } else if (opts.json) {
      std::cout << file_diff_json(r).dump() << "\n";
    } else if (r.load_error) {
      std::cerr << format_file_diff(r);
    } else {
      std::cout << format_file_diff(r) << std::flush;
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
      "Kernel engines (" +
      kernel_engine_list() +
      ", e.g. --engines interp,kernel-host) follow the\n"
      "kernel rules: a kernel rejection is no disagreement (its verdict, errno and reason are\n"
      "printed under the file), an accepted program must give the same r0..r9 (pointers as\n"
      "region+offset) and memory and must not fault in our VM; stack, instruction count and\n"
      "helper calls are not compared (the kernel does not export them). A DIR summary adds\n"
      "the kernel's acceptance rate and top rejection reasons.\n\n"
      "Run mode: a .data test's `-- mode`, a generated input's own, else memory; --mode and\n"
      "the other run-mode flags (as `bpfdiff run` has them) replace it.\n"
      "Budget: --budget, else " +
      std::to_string(kFuzzTargetBudget) + " for fuzz inputs (as the fuzz target) and " +
      std::to_string(vm::ExecLimits{}.instruction_budget) +
      " otherwise.\n"
      "--gate-runs runs each program as the gate does (see `bpfdiff gate --help`): prepared once\n"
      "per engine and run four times -- again with the state carried over, on a varied input, and\n"
      "after the maps are reset -- each run compared; a disagreement names its run (as `repro\n"
      "--gate-runs` replays it). In-process engines only.\n"
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
  cmd->add_option(
         "--layout", opts->layout,
         "read every FILE as this fuzz target's input: raw, generated (interp_vs_jit_gen decisions: "
         "the program with its maps), single-insn, elf-gen (elf_gen decisions: the run it stops at) or "
         "program; the budget is the target's")
      ->check(CLI::IsMember(finding_layout_names()));
  cmd->add_option(
         "--target", opts->target,
         "every FILE is this fuzz target's input: read in its layout, on its engines unless --engines")
      ->check(CLI::IsMember(fuzz_target_names()));
  cmd->add_option("--section", opts->elf.section,
                  "ELF: diff the program of this section (e.g. xdp); with a DIR, in every ELF object");
  cmd->add_option("--program", opts->elf.program,
                  "ELF: diff the program (or .text function) of this name; with a DIR, in every ELF object");
  cmd->add_flag("--json", opts->json, "print JSON: one object per file, an array for a DIR");
  cmd->add_flag("--gate-runs", opts->gate_runs,
                "run each program four times as the gate does and compare every run (JSON adds \"runs\" "
                "and \"diverged_run\")");
  opts->run_mode.add_to(*cmd);
  cmd->callback([opts, cmd, &exit_code] {
    if (!opts->target.empty()) {
      if (opts->layout.empty()) opts->layout = to_string(input_layout_of_target(opts->target).value());
      if (cmd->count("--engines") == 0) opts->engines = engines_of_target(opts->target);
    }
    exit_code = run_diff(*opts);
  });
}

}  // namespace bpfdiff::cli
