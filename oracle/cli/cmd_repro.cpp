// `bpfdiff repro FILE ...`: replay a crash or divergence input on several
// engines, show their outcomes side by side and find, by bisection on the
// instruction budget, the first instruction at which they disagree, with the
// JIT's x86 code for it.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz/findings/atomic_file.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/findings/repro.hpp"
#include "fuzz/findings/target_input.hpp"
#include "fuzz/gate/gate_runs.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/cli/run_mode_flags.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/kernel_report.hpp"
#include "oracle/run/outcome_table.hpp"

namespace bpfdiff::cli {
namespace {

struct ReproCommandOptions {
  std::string input;
  std::vector<std::string> engines = {"interp", "jit"};
  std::string mem_hex;
  std::string mem_file;
  uint64_t budget = 0;  // 0: not given
  bool fuzz_input = false;
  std::string layout;  // --layout: read FILE as that fuzz target's input
  std::string target;  // --target: the fuzz target whose input FILE is (fuzz/findings/target_input.hpp)
  std::string color = "auto";
  RunModeFlags run_mode;
  bool gate_runs = false;    // --gate-runs: the gate's runs of one prepared program
  std::string write_object;  // --write-object: where an elf-gen input's object goes
  ElfChoice elf;             // --section / --program: the program of an ELF object
};

bool use_color(const std::string& setting) {
  if (setting == "always") return true;
  if (setting == "never") return false;
  return ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
}

std::string indented_differences(const std::vector<oracle::Difference>& diffs) {
  std::string out;
  for (const oracle::Difference& d : diffs)
    out += "    " + oracle::to_string(d) + "\n";
  return out;
}

// A divergence on a later run of the gate's sequence: the outcomes of that
// run and how they differ. No bisection: the run starts from the state the
// runs before it left, which a run with a smaller budget does not rebuild.
int report_later_run(const ReproCommandOptions& opts, const ReplayInput& input, const vm::Program& program,
                     const std::vector<uint8_t>& memory, uint64_t budget, const RunSetup& setup,
                     const GateRuns& runs) {
  const std::size_t run = *runs.diverged;
  std::cout << opts.input << ": " << input.kind << ", " << program.slots.size() << " slots, " << memory.size()
            << " bytes of memory, budget " << budget << run_setup_flags(setup) << "\n\n";
  std::cout << "program:\n" << program_listing(program, std::nullopt, 0) << "\n";
  std::cout << "the first " << run << (run == 1 ? " run agrees" : " runs agree") << "; the engines diverge "
            << rerun_description(run) << ".\n";
  if (runs_varied_input(run)) {
    std::cout << "the varied input (run 3): the first " << memory.size() / 2
              << " bytes of the memory, every byte inverted, seed + 1\n";
  }
  std::cout << "\noutcomes of run " << run + 1 << ":\n"
            << format_outcome_table(runs.outcomes, use_color(opts.color)) << "\n";
  std::cout << "differences:\n";
  for (const EngineDifference& d : runs.differences)
    std::cout << "  " << d.left << " vs " << d.right << ": " << oracle::to_string(d.difference) << "\n";
  std::cout << "\nno bisection on a later run: it starts from the state the runs before it left\n";
  return kExitRunFailed;
}

// --write-object: the object an elf-gen input generates, and the command
// that runs the chosen program of it on one engine.
Result<void> write_generated_object(const ReproCommandOptions& opts, const ReplayInput& input,
                                    std::span<const uint8_t> memory, uint64_t budget, const RunSetup& setup) {
  if (input.elf_object.empty())
    return make_error("--write-object: " + opts.input + " is no elf_gen input (give --target elf_gen)");
  if (auto w = write_file_atomically(opts.write_object, input.elf_object); !w) return w.error();
  std::cout << "wrote " << opts.write_object << " (" << input.elf_object.size()
            << " bytes, the generated object); its program " << input.elf_program
            << " runs as shown below with\n  bpfdiff run " << opts.write_object << " --program "
            << input.elf_program << run_setup_flags(setup) << " --budget " << budget
            << (memory.empty() ? "" : " --mem " + hex_compact(memory)) << " [--engine ENGINE]\n\n";
  return {};
}

int run_repro(const ReproCommandOptions& opts) {
  auto engines = make_engines(opts.engines);
  if (!engines) return usage_error(engines.error().message);
  if (engines->engines.size() < 2)
    return usage_error("repro compares engines: give at least two with --engines");
  auto input =
      load_replay_input(opts.input, opts.fuzz_input, opts.layout, oracle::default_helpers(), opts.elf);
  if (!input) return usage_error(input.error().message);
  auto memory_arg = run_memory_override(opts.run_mode, opts.mem_hex, opts.mem_file);
  if (!memory_arg) return usage_error(memory_arg.error().message);
  const std::vector<uint8_t> memory = *memory_arg ? **memory_arg : input->memory;
  const uint64_t budget = replay_budget(*input, opts.budget);
  const vm::Program& program = input->program;
  const RunSetup setup = opts.run_mode.given().applied_to(input->setup);
  if (!opts.write_object.empty()) {
    if (auto w = write_generated_object(opts, *input, memory, budget, setup); !w)
      return usage_error(w.error().message);
  }
  if (opts.gate_runs) {
    if (!all_in_process(*engines))
      return usage_error("--gate-runs reruns a prepared program: the kernel engines load per input");
    GateRuns runs = run_like_the_gate(*engines, program, engine_input(memory, budget, setup));
    if (runs.diverged && *runs.diverged > 0) {
      return report_later_run(opts, *input, program, memory, budget, setup, runs);
    }
    if (!runs.diverged) {
      std::cout << opts.input << ": the engines agree on all " << runs.runs
                << " runs of the gate (--gate-runs): nothing to reproduce\n";
      return kExitOk;
    }
    // The first run diverges: what repro shows without --gate-runs.
  }
  const ReproAnalysis a = analyse_repro(*engines, program, memory, budget, setup);
  const std::vector<oracle::Outcome>& outcomes = a.outcomes;
  const std::optional<oracle::FirstDivergence>& divergence = a.divergence;
  const std::vector<uint32_t>& block = a.block;

  std::cout << opts.input << ": " << input->kind << ", " << program.slots.size() << " slots, "
            << memory.size() << " bytes of memory, budget " << budget << run_setup_flags(setup) << "\n\n";
  std::cout << "program:\n"
            << program_listing(program, divergence ? divergence->pc : std::nullopt,
                               block.empty() ? 0 : block.front())
            << "\n";
  std::cout << "outcomes:\n" << format_outcome_table(outcomes, use_color(opts.color)) << "\n";
  if (has_kernel_outcome(outcomes)) {
    std::cout << "kernel:\n" << format_kernel_section(outcomes.front(), outcomes) << "\n";
    // A difference that is a bug we found before, on a kernel without its fix.
    const std::string known =
        format_known_kernel_bugs(program, engine_input(memory, budget, setup), outcomes);
    if (!known.empty()) std::cout << "known kernel bugs:\n" << known << "\n";
  }

  if (a.other == 0) {
    std::cout << "engines agree: nothing to reproduce\n";
    return kExitOk;
  }
  std::cout << "differences:\n";
  for (const EngineDifference& d : a.differences)
    std::cout << "  " << d.left << " vs " << d.right << ": " << oracle::to_string(d.difference) << "\n";
  std::cout << "\n";

  const std::string& left = engines->names[0];
  const std::string& right = engines->names[a.other];
  if (a.kernel_in_pair) {
    std::cout << left << " vs " << right << ": the kernel runs a program whole (it has no instruction\n"
              << "budget to stop it at), so there is no bisection; compare the outcomes above and\n"
              << "run `bpfdiff run --trace` on our side\n";
    return kExitRunFailed;
  }
  if (const auto& signature = a.signature) {
    std::cout << "signature: " << signature->title() << "\n  (key " << signature->key()
              << "; `bpfdiff minimize` keeps it while shrinking the program)\n\n";
  }
  const oracle::FirstDivergence& div = *divergence;
  const std::string probes = " (bisection: " + std::to_string(div.probes) + " runs of each engine)\n";
  switch (div.kind) {
    case oracle::FirstDivergence::Kind::Agree:
      std::cout << left << " and " << right << " agree when run again with budget " << budget
                << ": the disagreement does not reproduce" << probes;
      return kExitRunFailed;
    case oracle::FirstDivergence::Kind::BeforeExecution:
      std::cout << "first disagreement before the first instruction (budget 0)" << probes
                << indented_differences(div.differences);
      return kExitRunFailed;
    case oracle::FirstDivergence::Kind::AtInstruction:
      break;
  }
  if (!div.pc) {
    std::cout << "first disagreement after " << div.instructions << " instructions, at an unknown pc"
              << probes << indented_differences(div.differences);
    return kExitRunFailed;
  }
  const uint32_t pc = *div.pc;
  std::cout << "first disagreement after " << div.instructions << " instructions, at pc " << pc << ": "
            << disassemble_at(program, pc) << "\n";
  std::cout << "  " << left << " and " << right << " agree after " << div.instructions - 1
            << " instructions (next pc " << pc << ")" << probes;
  std::cout << "  after " << div.instructions << " instructions, " << left << " vs " << right << ":\n"
            << indented_differences(div.differences);
  if (block.size() > 1) {
    std::cout << "  the JIT runs pcs " << block.front() << ".." << pc
              << " as one basic block (its budget is charged per block), so the faulty\n"
                 "  instruction is one of them, marked | and > in the listing above\n";
  }
  if (a.jit_in_pair && a.loaded) {
    for (const std::string& engine : {left, right}) {
      if (!is_jit_engine(engine)) continue;
      std::cout << "\nx86 code of " << (block.size() > 1 ? "that block" : "that instruction") << " on "
                << engine << ":\n"
                << x86_listing(*a.loaded, block, engine, budget);
    }
  }
  return kExitRunFailed;
}

std::string engine_list() {
  std::string s;
  for (const std::string& n : oracle::all_engine_names())
    s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

void add_repro_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ReproCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "repro",
      "Replay a crash or divergence input and find the first instruction where the engines disagree.");
  cmd->footer(
      "FILE is a raw fuzz input (u32 program length | program | memory: with --fuzz-input, or\n"
      "detected when a binary file is not a whole number of 8-byte slots), assembly, raw bytecode\n"
      "or a .data test (with its memory). repro prints\n"
      "  - the program with its pcs;\n"
      "  - each engine's outcome in a column: r0..r10, instructions, error kind/pc/address/size,\n"
      "    memory, a stack digest, and the bytes at the first differing memory/stack offset;\n"
      "    rows that differ start with '*' (and are red on a terminal, see --color);\n"
      "  - the first instruction at which the first engine and the first one disagreeing with it\n"
      "    part ways, found by bisection on the instruction budget: a run with budget k stops\n"
      "    after exactly k instructions on every engine, so the smallest k whose states differ\n"
      "    names the k-th instruction. The JIT charges its budget per basic block and runs a block\n"
      "    natively only when all of it fits, so the answer is the last instruction of the block\n"
      "    that goes wrong; the listing marks the whole block;\n"
      "  - the x86-64 code the JIT made of that block;\n"
      "  - for kernel engines (e.g. --engines interp,kernel-host): the kernel's verdict, release,\n"
      "    rejection reason and verifier log, and the kernel rules' verdict on the pair (a\n"
      "    rejection is no disagreement; see `bpfdiff diff --help`); no bisection.\n\n"
      "Run mode: the input's own (a .data test's `-- mode`, a generated input's), else memory;\n"
      "--mode and the other run-mode flags of `bpfdiff run` replace it.\n"
      "An elf_gen input (--target elf_gen) is a generated ELF object with several programs, each run\n"
      "in every mode: repro regenerates and loads the object and shows the first of those runs on\n"
      "which the interpreter and a JIT option set disagree (else the first run); --write-object OBJ\n"
      "writes the object out and prints the `bpfdiff run OBJ --program NAME ...` command of that run.\n"
      "Engines: " +
      engine_list() + ". Budget: --budget, else " + std::to_string(kFuzzTargetBudget) +
      " for fuzz inputs (as the fuzz target) and " + std::to_string(vm::ExecLimits{}.instruction_budget) +
      " otherwise.\n"
      "--gate-runs replays the gate's four runs of one prepared program (see `bpfdiff gate --help`):\n"
      "what a gate finding on a later run needs; a divergence on run 1 is bisected as without it.\n"
      "Exit status: 0 the engines agree (\"engines agree: nothing to reproduce\"), 1 they disagree,\n"
      "2 bad usage or a file that cannot be loaded.");
  cmd->add_option("FILE", opts->input, "the input to replay")->required();
  cmd->add_option("--engines", opts->engines,
                  "engines to compare, comma-separated; the first is the reference")
      ->delimiter(',')
      ->default_str("interp,jit");
  cmd->add_flag("--fuzz-input", opts->fuzz_input, "read FILE as a raw fuzz input whatever it looks like");
  cmd->add_option("--section", opts->elf.section, "ELF: replay the program of this section (e.g. xdp)");
  cmd->add_option("--program", opts->elf.program, "ELF: replay the program (or .text function) of this name");
  cmd->add_option("--layout", opts->layout,
                  "read FILE as this fuzz target's input: raw, generated (interp_vs_jit_gen decisions: the "
                  "program with its maps), single-insn, elf-gen (elf_gen decisions: the run it stops at) or "
                  "program; its budget is the target's")
      ->check(CLI::IsMember(finding_layout_names()));
  cmd->add_option("--target", opts->target,
                  "FILE is this fuzz target's input (read in its layout, on its engines unless --engines); "
                  "FILE may also be a campaign's finding directory, whose target is detected")
      ->check(CLI::IsMember(fuzz_target_names()));
  auto* mem = cmd->add_option("--mem", opts->mem_hex, "input memory as hex (overrides the file's)");
  auto* mem_file = cmd->add_option("--mem-file", opts->mem_file, "input memory: the raw bytes of this file");
  mem->excludes(mem_file);
  mem_file->excludes(mem);
  cmd->add_option("--budget", opts->budget, "instruction budget of the full runs")->check(kAtLeastOne);
  opts->run_mode.add_to(*cmd);
  cmd->add_flag("--gate-runs", opts->gate_runs,
                "run the program as the gate runs a case: prepared once on each engine, then run on the "
                "input, on it again, on the varied input (the first half of the memory inverted, seed + 1) "
                "and on the input after a map reset, comparing every run (in-process engines only)");
  cmd->add_option("--write-object", opts->write_object,
                  "elf_gen input: write its generated ELF object to this file (for `bpfdiff run OBJ "
                  "--program NAME`, readelf, llvm-objdump)");
  cmd->add_option("--color", opts->color,
                  "highlight differing rows: auto (when stdout is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  cmd->callback([opts, cmd, &exit_code] {
    if (auto t = apply_replay_target(opts->target, opts->input, opts->layout, &opts->engines,
                                     cmd->count("--engines") > 0, opts->budget);
        !t) {
      exit_code = usage_error(t.error().message);
      return;
    }
    exit_code = run_repro(*opts);
  });
}

}  // namespace bpfdiff::cli
