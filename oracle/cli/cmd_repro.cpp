// `bpfdiff repro FILE ...`: replay a crash or divergence input on several
// engines, show their outcomes side by side and find, by bisection on the
// instruction budget, the first instruction at which they disagree, with the
// JIT's x86 code for it.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/signature.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/kernel_report.hpp"
#include "oracle/run/outcome_table.hpp"
#include "fuzz/findings/replay.hpp"
#include "oracle/engine.hpp"
#include "oracle/first_divergence.hpp"
#include "vm/isa/table.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/jit/options.hpp"
#include "vm/jit/x86/disasm.hpp"
#include "vm/program/validate.hpp"
#include "vm/text/disassembler.hpp"

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
  std::string color = "auto";
};

constexpr std::size_t kMaxListedBlockInsns = 32;

// ---------------------------------------------------------------------------
// (a) The program, (c) the block the JIT runs the divergent instruction in,
// (d) its x86 code.

std::string disassemble_at(const vm::Program& program, uint32_t pc) {
  if (pc >= program.slots.size()) return "(pc out of range)";
  const isa::RawInsn* next = pc + 1 < program.slots.size() ? &program.slots[pc + 1] : nullptr;
  return text::disassemble_one(program.slots[pc], next);
}

// Every line of the listing is "  12: insn"; `>` marks the divergent pc and
// `|` the other instructions of the block it ends.
std::string program_listing(const vm::Program& program, std::optional<uint32_t> pc, uint32_t block_start) {
  text::DisasmOptions options;
  options.pc_prefix = true;
  std::istringstream in(text::disassemble(program.slots, options));
  std::string out;
  for (std::string text; std::getline(in, text);) {
    const auto at = static_cast<uint32_t>(std::strtoul(text.c_str(), nullptr, 10));
    const char* marker = !pc ? "  " : at == *pc ? "> " : (at >= block_start && at < *pc) ? "| " : "  ";
    out += marker + text + "\n";
  }
  return out;
}

bool is_jit(const std::string& engine) {
  return jit::options_named(engine).has_value();
}

// The pcs of the JIT basic block that ends at `pc` (its budget is charged
// per block: see find_first_divergence), in order. Just {pc} when it cannot
// be told.
std::vector<uint32_t> block_ending_at(const vm::LoadedProgram& loaded, uint32_t pc) {
  if (pc >= loaded.insns.size()) return {pc};
  const jit::BlockInfo blocks = jit::analyse_blocks(loaded);
  uint32_t start = pc;
  while (start > 0 && !blocks.leader[start])
    --start;
  std::vector<uint32_t> members;
  for (uint32_t p = start; p <= pc;) {
    members.push_back(p);
    p += isa::info(loaded.insns[p].form).slots;
  }
  return members;
}

std::string x86_listing(const vm::LoadedProgram& loaded, const std::vector<uint32_t>& pcs,
                        const std::string& engine, uint64_t budget) {
  const auto options = jit::options_named(engine);
  if (!options) return "";
  vm::ExecLimits limits;
  limits.instruction_budget = budget;
  auto compiled = jit::JitProgram::compile(loaded, oracle::default_helpers(), limits, *options);
  if (!compiled) return "  (cannot compile: " + compiled.error().message + ")\n";
  const jit::JitProgram& program = **compiled;
  const auto code = program.code();
  const auto& offsets = program.insn_offsets();
  const std::size_t n = loaded.insns.size();
  std::string out;
  std::size_t first = 0;
  if (pcs.size() > kMaxListedBlockInsns) {
    first = pcs.size() - kMaxListedBlockInsns;
    out += "  (" + std::to_string(first) + " earlier instructions of the block left out)\n";
  }
  for (std::size_t i = first; i < pcs.size(); ++i) {
    const uint32_t pc = pcs[i];
    const std::size_t end_pc = pc + isa::info(loaded.insns[pc].form).slots;
    const std::size_t from = offsets[pc];
    const std::size_t to = end_pc < n ? offsets[end_pc] : program.body_size();
    out += (i + 1 == pcs.size() ? "> pc " : "  pc ") + std::to_string(pc) + ": " +
           disassemble_at(loaded.source, pc) + "\n";
    out += jit::x86::format_listing(code.subspan(from, to - from), from);
  }
  return out;
}

// ---------------------------------------------------------------------------

bool use_color(const std::string& setting) {
  if (setting == "always") return true;
  if (setting == "never") return false;
  return ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
}

oracle::BudgetRunner runner(oracle::Engine& engine, const vm::Program& program,
                            const std::vector<uint8_t>& memory) {
  return [&engine, &program, &memory](uint64_t budget) {
    oracle::EngineInput input;
    input.mode = vm::RunMode::Memory;
    input.memory = memory;
    input.limits.instruction_budget = budget;
    return engine.run(program, input);
  };
}

std::string indented_differences(const std::vector<oracle::Difference>& diffs) {
  std::string out;
  for (const oracle::Difference& d : diffs)
    out += "    " + oracle::to_string(d) + "\n";
  return out;
}

int run_repro(const ReproCommandOptions& opts) {
  auto engines = make_engines(opts.engines);
  if (!engines) {
    std::cerr << "error: " << engines.error().message << "\n";
    return kExitLoadFailed;
  }
  if (engines->engines.size() < 2) {
    std::cerr << "error: repro compares engines: give at least two with --engines\n";
    return kExitLoadFailed;
  }
  auto input = load_replay_input(opts.input, opts.fuzz_input, opts.layout, oracle::default_helpers());
  if (!input) {
    std::cerr << "error: " << input.error().message << "\n";
    return kExitLoadFailed;
  }
  auto memory_arg = memory_override(opts.mem_hex, opts.mem_file);
  if (!memory_arg) {
    std::cerr << "error: " << memory_arg.error().message << "\n";
    return kExitLoadFailed;
  }
  const std::vector<uint8_t> memory = *memory_arg ? **memory_arg : input->memory;
  const uint64_t budget =
      opts.budget != 0     ? opts.budget
      : input->budget != 0 ? input->budget
                           : (input->fuzz_layout ? kFuzzTargetBudget : vm::ExecLimits{}.instruction_budget);
  const vm::Program& program = input->program;

  const std::vector<oracle::Outcome> outcomes = run_on_each(*engines, program, memory, budget);
  const std::vector<EngineDifference> differences = differences_from_first(outcomes);

  // The pair to bisect: the reference and the first engine that disagrees with it.
  std::size_t other = 0;
  for (std::size_t i = 1; i < outcomes.size() && other == 0; ++i) {
    if (!oracle::compare(outcomes[0], outcomes[i], oracle::CompareRules::everything()).empty()) other = i;
  }
  std::optional<oracle::FirstDivergence> divergence;
  std::optional<vm::LoadedProgram> loaded;
  std::vector<uint32_t> block;
  const bool jit_in_pair = other != 0 && (is_jit(engines->names[0]) || is_jit(engines->names[other]));
  // A kernel runs the program whole (no instruction budget): no bisection.
  const bool kernel_in_pair = other != 0 && (outcomes[0].kernel || outcomes[other].kernel);
  if (other != 0 && !kernel_in_pair) {
    divergence = oracle::find_first_divergence(runner(*engines->engines[0], program, memory),
                                               runner(*engines->engines[other], program, memory), budget);
    if (auto validated = vm::validate(program, oracle::default_helpers()))
      loaded = std::move(validated).value();
    if (divergence->pc) {
      block =
          loaded && jit_in_pair ? block_ending_at(*loaded, *divergence->pc) : std::vector{*divergence->pc};
    }
  }

  std::cout << opts.input << ": " << input->kind << ", " << program.slots.size() << " slots, "
            << memory.size() << " bytes of memory, budget " << budget << "\n\n";
  std::cout << "program:\n"
            << program_listing(program, divergence ? divergence->pc : std::nullopt,
                               block.empty() ? 0 : block.front())
            << "\n";
  std::cout << "outcomes:\n" << format_outcome_table(outcomes, use_color(opts.color)) << "\n";
  if (has_kernel_outcome(outcomes)) {
    std::cout << "kernel:\n" << format_kernel_section(outcomes.front(), outcomes) << "\n";
  }

  if (other == 0) {
    std::cout << "engines agree: nothing to reproduce\n";
    return kExitOk;
  }
  std::cout << "differences:\n";
  for (const EngineDifference& d : differences)
    std::cout << "  " << d.left << " vs " << d.right << ": " << oracle::to_string(d.difference) << "\n";
  std::cout << "\n";

  const std::string& left = engines->names[0];
  const std::string& right = engines->names[other];
  if (kernel_in_pair) {
    std::cout << left << " vs " << right << ": the kernel runs a program whole (it has no instruction\n"
              << "budget to stop it at), so there is no bisection; compare the outcomes above and\n"
              << "run `bpfdiff run --trace` on our side\n";
    return kExitRunFailed;
  }
  oracle::EngineInput signature_input;
  signature_input.memory = memory;
  signature_input.limits.instruction_budget = budget;
  if (const auto signature = fuzz::divergence_signature(program, signature_input, *engines->engines[0],
                                                        *engines->engines[other])) {
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
  if (jit_in_pair && loaded) {
    for (const std::string& engine : {left, right}) {
      if (!is_jit(engine)) continue;
      std::cout << "\nx86 code of " << (block.size() > 1 ? "that block" : "that instruction") << " on "
                << engine << ":\n"
                << x86_listing(*loaded, block, engine, budget);
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
      "Engines: " +
      engine_list() + ". Budget: --budget, else " + std::to_string(kFuzzTargetBudget) +
      " for fuzz inputs (as the fuzz target) and " + std::to_string(vm::ExecLimits{}.instruction_budget) +
      " otherwise.\n"
      "Exit status: 0 the engines agree (\"engines agree: nothing to reproduce\"), 1 they disagree,\n"
      "2 bad usage or a file that cannot be loaded.");
  cmd->add_option("FILE", opts->input, "the input to replay")->required();
  cmd->add_option("--engines", opts->engines,
                  "engines to compare, comma-separated; the first is the reference")
      ->delimiter(',')
      ->default_str("interp,jit");
  cmd->add_flag("--fuzz-input", opts->fuzz_input, "read FILE as a raw fuzz input whatever it looks like");
  cmd->add_option("--layout", opts->layout,
                  "read FILE as this fuzz target's input: raw, generated (interp_vs_jit_gen decisions: the "
                  "program with its maps), single-insn or program; its budget is the target's")
      ->check(CLI::IsMember({"raw", "generated", "single-insn", "program"}));
  auto* mem = cmd->add_option("--mem", opts->mem_hex, "input memory as hex (overrides the file's)");
  auto* mem_file = cmd->add_option("--mem-file", opts->mem_file, "input memory: the raw bytes of this file");
  mem->excludes(mem_file);
  mem_file->excludes(mem);
  cmd->add_option("--budget", opts->budget, "instruction budget of the full runs")->check(kAtLeastOne);
  cmd->add_option("--color", opts->color,
                  "highlight differing rows: auto (when stdout is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  cmd->callback([opts, &exit_code] { exit_code = run_repro(*opts); });
}

}  // namespace bpfdiff::cli
