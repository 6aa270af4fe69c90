#include "fuzz/limits.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>

#include "fuzz/program_edit.hpp"
#include "vm/isa/families.hpp"

namespace bpfdiff::fuzz {
namespace {

bool same(const vm::ExecLimits& a, const vm::ExecLimits& b) {
  return a.instruction_budget == b.instruction_budget && a.max_call_depth == b.max_call_depth;
}

}  // namespace

std::vector<bool> block_leaders(const vm::Program& program, std::span<const std::size_t> starts) {
  const std::size_t n = program.slots.size();
  std::vector<bool> leader(n, false);
  const auto mark = [&](int64_t slot) {
    if (slot >= 0 && static_cast<std::size_t>(slot) < n) leader[static_cast<std::size_t>(slot)] = true;
  };
  mark(program.entry);
  for (const vm::ProgramEntry& e : program.entries)
    mark(e.slot);
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::size_t pc = starts[k];
    const isa::RawInsn& insn = program.slots[pc];
    switch (target_field(insn)) {
      case TargetField::Off:
        mark(static_cast<int64_t>(pc) + 1 + insn.off);
        break;
      case TargetField::Imm:
        mark(static_cast<int64_t>(pc) + 1 + insn.imm);
        break;
      case TargetField::None:
        break;
    }
    const auto form = isa::find_form(insn);
    if (form && isa::transfers_control(isa::info(*form).sem.family) && k + 1 < starts.size())
      leader[starts[k + 1]] = true;
  }
  return leader;
}

std::optional<RunExtent> measure_extent(oracle::Engine& engine, const vm::Program& program,
                                        const oracle::EngineInput& input) {
  auto executor = engine.prepare(program, input.limits);
  if (!executor || !(*executor)->can_trace()) return std::nullopt;
  std::vector<uint8_t> memory = input.memory;
  std::vector<uint8_t> metadata = input.metadata;
  const std::vector<std::size_t> starts = instruction_starts(program.slots);
  const std::vector<bool> leader = block_leaders(program, starts);
  // The slot after each instruction (lddw takes two).
  std::vector<uint64_t> fall_through(program.slots.size(), 0);
  for (std::size_t k = 0; k < starts.size(); ++k)
    fall_through[starts[k]] = k + 1 < starts.size() ? starts[k + 1] : program.slots.size();
  std::vector<bool> entered(leader.size(), false);
  RunExtent e;
  uint64_t top = 0;
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  uint64_t executed = 0;
  uint64_t expected_next = 0;       // the slot that falls through from the last one
  std::optional<std::size_t> open;  // the block entry whose length is still counting
  const vm::RunResult r = (*executor)->run_traced(
      oracle::run_input(input, memory, metadata),
      [&](uint32_t pc, const std::array<uint64_t, isa::kNumRegisters>& regs) {
        if (executed == 0) top = regs[10];
        lowest = std::min(lowest, regs[10]);
        // A block starts at a leader, and wherever control arrived other
        // than by falling through (a return, a tail call).
        const bool boundary = executed == 0 || pc != expected_next || (pc < leader.size() && leader[pc]);
        if (boundary) {
          if (open) e.blocks[*open].length = executed - e.blocks[*open].before;
          open.reset();
          if (pc < entered.size() && !entered[pc]) {
            entered[pc] = true;
            open = e.blocks.size();
            e.blocks.push_back({pc, executed, 0});
          }
        }
        ++executed;
        expected_next = pc < fall_through.size() ? fall_through[pc] : uint64_t{pc} + 1;
      });
  if (open) e.blocks[*open].length = executed - e.blocks[*open].before;
  e.instructions = r.instructions;
  // Each local call moves r10 down one frame; a tail call keeps it.
  if (executed > 0 && lowest <= top)
    e.frames = static_cast<uint32_t>((top - lowest) / vm::kStackFrameBytes) + 1;
  return e;
}

std::vector<vm::ExecLimits> limit_variants(const RunExtent& extent, const vm::ExecLimits& base,
                                           std::size_t sweep) {
  std::vector<vm::ExecLimits> out;
  const auto add = [&](uint64_t budget, uint32_t depth) {
    if (budget == 0 || depth == 0) return;
    vm::ExecLimits l = base;
    l.instruction_budget = budget;
    l.max_call_depth = depth;
    if (std::none_of(out.begin(), out.end(), [&](const vm::ExecLimits& o) { return same(o, l); }))
      out.push_back(l);
  };
  const uint64_t n = extent.instructions;
  for (const uint64_t b : {n - 1, n, n + 1}) {
    if (n > 0) add(b, base.max_call_depth);
  }
  for (const RunExtent::BlockEntry& block : extent.blocks) {
    add(block.before, base.max_call_depth);
    if (block.length > 1) add(block.before + block.length - 1, base.max_call_depth);
  }
  if (n > 2 && sweep > 0) {
    const uint64_t below = n - 2;  // budgets 1..n-2 run out inside the run
    const uint64_t step = below <= sweep ? 1 : (below + sweep - 1) / sweep;
    for (uint64_t b = 1; b <= below; b += step)
      add(b, base.max_call_depth);
  }
  for (const uint32_t d : {extent.frames - 1, extent.frames, extent.frames + 1})
    add(base.instruction_budget, d);
  return out;
}

ModeCase generate_limit_case(ByteSource& src, const GeneratorOptions& options) {
  ModeCase c = generate_mode_case(src, options);
  if (src.exhausted() || !src.chance(0.25)) return c;
  // One interpreter for the process: the fuzz targets and the gate call this per input.
  static const std::unique_ptr<oracle::Engine> interp = std::move(oracle::make_engine("interp")).value();
  const std::optional<RunExtent> extent = measure_extent(*interp, c.program, c.input);
  if (!extent) return c;
  const std::vector<vm::ExecLimits> variants = limit_variants(*extent, c.input.limits, kLimitCaseSweep);
  if (variants.empty()) return c;
  c.input.limits = variants[src.below(static_cast<uint32_t>(variants.size()))];
  return c;
}

}  // namespace bpfdiff::fuzz
