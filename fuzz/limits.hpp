#pragma once
// The execution limits placed where engines are most likely to disagree:
// the instruction budget and the call depth exactly at what a run needs,
// one below and one above; budgets that run out on entering each block the
// run reaches and at that block's last instruction -- where the JIT refunds
// the block and hands the run to the interpreter at its first pc
// (deoptimisation) -- and a sweep of budgets spread over the whole run, which
// reaches the later iterations of loops.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/run_modes.hpp"
#include "oracle/engine.hpp"
#include "vm/program/program.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::fuzz {

// What one run needed: the instructions it executed and its deepest call
// frame (1 when it made no local call).
struct RunExtent {
  uint64_t instructions = 0;
  uint32_t frames = 1;
  // The first entry of each block the run reached, in run order: its first
  // pc, how many instructions ran before it, and how many of the block then ran before
  // control left it (or the run ended).
  struct BlockEntry {
    uint32_t pc = 0;
    uint64_t before = 0;
    uint64_t length = 0;
  };
  std::vector<BlockEntry> blocks;
};

// Where blocks start in `program`, whose instructions start at `starts`
// (instruction_starts of its slots, which the caller usually needs too):
// its entries, jump and call targets, and the instruction after every jump,
// call and exit -- the boundaries at which a compiler charges the budget.
// Indexed by slot.
std::vector<bool> block_leaders(const vm::Program& program, std::span<const std::size_t> starts);

// The extent of a run of `program` on `input`, measured on `engine` with a
// trace (the interpreter); nothing when it does not load or cannot trace.
std::optional<RunExtent> measure_extent(oracle::Engine& engine, const vm::Program& program,
                                        const oracle::EngineInput& input);

// `base` with, in turn: budgets n-1, n, n+1 (n = extent.instructions, the
// budget at which the run completes exactly); for every block entry, the
// budget that runs out as the block is entered and the one that runs out at
// its last instruction; every budget from 1 up to `sweep` short of n --
// spread evenly over the run when it is longer -- and call depths frames-1,
// frames, frames+1. Budgets of 0 and depths of 0 are left out; no two
// variants are the same.
std::vector<vm::ExecLimits> limit_variants(const RunExtent& extent, const vm::ExecLimits& base,
                                           std::size_t sweep);

// Budgets spread over a run by the sweep of generate_limit_case.
inline constexpr std::size_t kLimitCaseSweep = 8;

// What interp_vs_jit_gen runs for its input, and what the tools rebuild from
// it: generate_mode_case, then -- from the decisions after the run mode,
// when the input has any left -- one time in four one of limit_variants
// (sweep kLimitCaseSweep) of the run as the interpreter measures it. So the
// run mode and the limits are part of the input.
ModeCase generate_limit_case(ByteSource& src, const GeneratorOptions& options);

}  // namespace bpfdiff::fuzz
