#include "fuzz/findings/repro.hpp"

#include <cstdlib>
#include <sstream>
#include <utility>

#include "oracle/compare.hpp"
#include "oracle/engine.hpp"
#include "vm/isa/table.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/jit/options.hpp"
#include "vm/jit/x86/disasm.hpp"
#include "vm/program/validate.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

constexpr std::size_t kMaxListedBlockInsns = 32;

oracle::BudgetRunner runner(oracle::Engine& engine, const vm::Program& program,
                            std::span<const uint8_t> memory, const RunSetup& setup) {
  return [&engine, &program, memory, &setup](uint64_t budget) {
    return engine.run(program, engine_input(memory, budget, setup));
  };
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

}  // namespace

bool is_jit_engine(const std::string& engine) {
  return jit::options_named(engine).has_value();
}

ReproAnalysis analyse_repro(NamedEngines& engines, const vm::Program& program,
                            std::span<const uint8_t> memory, uint64_t budget, const RunSetup& setup) {
  ReproAnalysis a;
  a.outcomes = run_on_each(engines, program, memory, budget, setup);
  a.differences = differences_from_first(a.outcomes);
  for (std::size_t i = 1; i < a.outcomes.size() && a.other == 0; ++i) {
    if (!oracle::compare(a.outcomes[0], a.outcomes[i], oracle::CompareRules::everything()).empty())
      a.other = i;
  }
  if (a.other == 0) return a;
  a.jit_in_pair = is_jit_engine(engines.names[0]) || is_jit_engine(engines.names[a.other]);
  a.kernel_in_pair = a.outcomes[0].kernel.has_value() || a.outcomes[a.other].kernel.has_value();
  if (a.kernel_in_pair) return a;
  oracle::Engine& left = *engines.engines[0];
  oracle::Engine& right = *engines.engines[a.other];
  a.divergence = oracle::find_first_divergence(runner(left, program, memory, setup),
                                               runner(right, program, memory, setup), budget);
  if (auto validated = vm::validate(program, oracle::default_helpers()))
    a.loaded = std::move(validated).value();
  if (a.divergence->pc) {
    const uint32_t pc = *a.divergence->pc;
    a.block = a.loaded && a.jit_in_pair ? block_ending_at(*a.loaded, pc) : std::vector{pc};
  }
  a.signature = fuzz::divergence_signature(program, engine_input(memory, budget, setup), left, right);
  return a;
}

std::string disassemble_at(const vm::Program& program, uint32_t pc) {
  if (pc >= program.slots.size()) return "(pc out of range)";
  const isa::RawInsn* next = pc + 1 < program.slots.size() ? &program.slots[pc + 1] : nullptr;
  return text::disassemble_one(program.slots[pc], next);
}

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

}  // namespace bpfdiff::cli
