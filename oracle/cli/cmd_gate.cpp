// `bpfdiff gate`: the regression gate for JIT changes. Replays the corpus,
// every single-instruction form and a fixed-seed batch of generated programs
// on every engine; stops at the first divergence and leaves a reproducer.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/findings/replay.hpp"
#include "fuzz/gate/gate.hpp"
#include "fuzz/gate/gate_report.hpp"
#include "fuzz/generator.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/engine.hpp"
#include "vm/jit/planted.hpp"

namespace bpfdiff::cli {
namespace {

struct GateCommandOptions {
  std::vector<std::string> engines;
  uint64_t seed = 1;
  std::size_t programs = kGateDefaultPrograms;
  bool programs_given = false;
  std::size_t insn_per_form = 16;
  std::size_t limit_programs = 0;
  bool limit_programs_given = false;
  std::vector<std::string> corpus;
  std::string out = "gate-findings";
  bool json = false;
  bool quick = false;
  bool no_reruns = false;
};

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& s : items)
    out += (out.empty() ? "" : separator) + s;
  return out;
}

int usage_failure(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return kExitLoadFailed;
}

int report_finding(const GateReport& report, const GateOptions& options, const std::string& out_dir,
                   bool json) {
  const RecordedGateFinding recorded = record_gate_finding(report, options, out_dir);
  if (!recorded.files) std::cerr << "error: cannot write the reproducer: " << recorded.write_error << "\n";
  if (json) {
    std::cout << recorded.json.dump() << "\n";
    std::cerr << recorded.text;
  } else {
    std::cout << recorded.text;
  }
  return kExitRunFailed;
}

int run_gate_command(GateCommandOptions opts) {
  auto engines = make_engines(opts.engines);
  if (!engines) return usage_failure(engines.error().message);
  if (engines->engines.size() < 2)
    return usage_failure("gate compares engines: give at least two with --engines");

  GateOptions options;
  options.seed = opts.seed;
  options.programs = opts.programs_given ? opts.programs
                     : opts.quick        ? kGateQuickPrograms
                                         : kGateDefaultPrograms;
  options.insn_per_form = opts.insn_per_form;
  options.reruns = !opts.no_reruns;
  options.limit_programs = opts.limit_programs_given ? opts.limit_programs : options.programs / 20;
  options.elf_objects = options.programs / 100;
  std::string note;
  options.corpus_dirs = gate_corpus_dirs(opts.corpus, note);
  if (!note.empty()) std::cerr << "gate: " << note << "\n";

  // A planted build (scripts/planted-bug.sh) must never pass for a real one.
  if (!jit::planted_bug().empty())
    std::cerr << "gate: this build's JIT has a bug planted on purpose: " << jit::planted_bug() << "\n";

  GateProgressLines progress;
  auto report =
      run_gate(options, *engines, [&progress](GatePhase phase, std::size_t done, std::size_t total) {
        if (auto line = progress(phase, done, total)) std::cerr << *line;
      });
  if (!report) return usage_failure(report.error().message);
  if (report->finding) return report_finding(*report, options, opts.out, opts.json);

  if (opts.json) {
    std::cout << gate_summary_json(*report, options).dump() << "\n";
  } else {
    std::cout << "gate: pass: " << report->engines.size() << " engines agree (" << join(report->engines, ", ")
              << ")\n"
              << gate_summary_text(*report, options);
  }
  return kExitOk;
}

}  // namespace

void add_gate_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<GateCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "gate", "Regression gate for JIT changes: corpus, every instruction form and generated programs.");
  cmd->footer(
      "Runs five deterministic phases on every engine and compares each full outcome (load\n"
      "verdict, r0..r10, memory, stack, instructions, error kind/pc/address/size, helper calls)\n"
      "with the first engine's:\n"
      "  corpus       every .data under DIR/regressions and every seed under DIR/fuzz/<target>/,\n"
      "               read as that target reads it (raw layout for *_raw, the generator for\n"
      "               interp_vs_jit_gen, the single-instruction builder for interp_vs_jit_insn;\n"
      "               asm_roundtrip is skipped). DIR: each --corpus, else ./corpus if it exists;\n"
      "  single-insn  every instruction form, --insn-per-form boundary-value cases each;\n"
      "  generated    --programs generated programs from --seed (program i is always the same),\n"
      "               each in a run mode its decisions choose (memory, none, packet, mbuff; some\n"
      "               storing to, running an atomic on or reading the read-only XDP context or a\n"
      "               read-only .rodata map) and sometimes with its limits at, one below or one\n"
      "               above what the run needs;\n"
      "  limits       the first --limit-programs of them with the instruction budget and the\n"
      "               call depth exactly at, one below and one above what each run needs, and\n"
      "               budgets that run out in each of its blocks in turn;\n"
      "  elf          every program of each ELF object under DIR/fuzz/elf_loader, in packet and\n"
      "               mbuff mode over every packet of DIR/elf/inputs, in memory and none mode.\n"
      "Every case is prepared once per engine and run four times: the second run on the same input\n"
      "starts from the state the first left (maps, stack, the JIT's context), the third on a varied\n"
      "input (the first half of the memory inverted, seed + 1) with that state, the fourth on the\n"
      "first input after the maps are reset; each run's outcome is compared with the reference's\n"
      "on the same input (--no-reruns: one run; kernel engines: one).\n"
      "Budgets are the fuzz targets': " +
      std::to_string(kFuzzTargetBudget) + " for raw seeds, " +
      std::to_string(fuzz::kGeneratedInstructionBudget) +
      " for generated and single-instruction\n"
      "programs; for regression tests a \"# budget N\" comment before the first section, else the\n"
      "default.\n\n"
      "The gate stops at the first divergence: it writes the program as a fuzz input (u32 length |\n"
      "program | memory) and as a .data test with the first engine's result into --out (each file\n"
      "atomically), prints the differences and the `bpfdiff repro` and `bpfdiff diff` commands that\n"
      "replay it (a divergence on a later run: `repro --gate-runs`, which runs the four runs again).\n"
      "Progress goes to stderr at most once a second.\n"
      "Exit status: 0 all engines agree, 1 a divergence, 2 bad usage or an unreadable corpus.\n"
      "JSON (--json): {\"result\": \"pass\"|\"fail\", \"engines\", \"seed\", \"insn_per_form\", \"corpus\",\n"
      "\"phases\": [{\"phase\", \"programs\", \"runs\", \"runs_by_mode\", \"skipped\", \"seconds\"}], "
      "\"total_programs\", \"seconds\",\n"
      "\"programs_per_second\", \"finding\": null | {\"phase\", \"case\", \"origin\", \"engine\", "
      "\"signature\", "
      "\"budget\", \"mode\", \"max_call_depth\", \"run\",\n"
      "\"differences\": [{\"left_engine\", \"right_engine\", \"field\", \"left\", \"right\"}], \"input\", "
      "\"data\",\n"
      "\"repro_command\", \"diff_command\"}}.");
  cmd->add_option("--engines", opts->engines,
                  "engines to compare, comma-separated; the first is the reference")
      ->delimiter(',')
      ->default_str(join(oracle::engine_names(), ","));
  cmd->add_option("--seed", opts->seed, "seed of the generated programs")->capture_default_str();
  auto* programs = cmd->add_option("--programs", opts->programs, "generated programs to run (--quick: 2000)")
                       ->capture_default_str();
  cmd->add_option("--insn-per-form", opts->insn_per_form, "single-instruction cases per form")
      ->capture_default_str();
  auto* limit_programs =
      cmd->add_option("--limit-programs", opts->limit_programs,
                      "generated programs the limits phase runs at, below and above their limits "
                      "(default: --programs / 20)");
  cmd->add_option("--corpus", opts->corpus, "corpus directory (repeatable; default ./corpus)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", opts->out, "directory for the reproducer of a finding")->capture_default_str();
  cmd->add_flag("--json", opts->json, "print a JSON summary on stdout");
  cmd->add_flag("--quick", opts->quick, "2000 generated programs instead of 20000 (what CI runs)");
  cmd->add_flag("--no-reruns", opts->no_reruns,
                "run each case once instead of four times per prepared program");
  cmd->callback([opts, programs, limit_programs, &exit_code] {
    opts->programs_given = programs->count() > 0;
    opts->limit_programs_given = limit_programs->count() > 0;
    exit_code = run_gate_command(*opts);
  });
}

}  // namespace bpfdiff::cli
