#pragma once
// `bpfdiff repro` as a library: one input run on several engines, the first
// engine that disagrees with the reference, the first instruction where the
// two part ways (bisection on the instruction budget), the JIT basic block
// that instruction ends, and the listings that show them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz/findings/replay.hpp"
#include "fuzz/signature.hpp"
#include "oracle/first_divergence.hpp"
#include "oracle/outcome.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::cli {

struct ReproAnalysis {
  std::vector<oracle::Outcome> outcomes;  // one per engine; [0] is the reference
  std::vector<EngineDifference> differences;
  // The engine bisected against the reference: the first that disagrees
  // with it; 0 when all agree.
  std::size_t other = 0;
  bool jit_in_pair = false;
  // A kernel runs a program whole (it has no instruction budget): no bisection.
  bool kernel_in_pair = false;
  std::optional<oracle::FirstDivergence> divergence;  // set when the pair was bisected
  std::optional<vm::LoadedProgram> loaded;            // the validated program, when it validates
  // The pcs of the JIT block that ends at the divergent pc (just that pc
  // when no JIT is in the pair), in order; empty without a divergent pc.
  std::vector<uint32_t> block;
  std::optional<fuzz::Signature> signature;  // of the bisected pair
};

ReproAnalysis analyse_repro(NamedEngines& engines, const vm::Program& program,
                            std::span<const uint8_t> memory, uint64_t budget, const RunSetup& setup = {});

// Whether `engine` names a JIT option set.
bool is_jit_engine(const std::string& engine);

// The instruction at `pc` as text ("(pc out of range)" past the end).
std::string disassemble_at(const vm::Program& program, uint32_t pc);

// Every line "  12: insn"; `>` marks `pc` and `|` the other instructions of
// the block that ends there, which starts at `block_start`.
std::string program_listing(const vm::Program& program, std::optional<uint32_t> pc, uint32_t block_start);

// The x86-64 code `engine` (a JIT option set) makes of the instructions at
// `pcs`, each under its BPF instruction; the last 32 of a longer block.
std::string x86_listing(const vm::LoadedProgram& loaded, const std::vector<uint32_t>& pcs,
                        const std::string& engine, uint64_t budget);

}  // namespace bpfdiff::cli
