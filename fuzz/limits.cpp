#include "fuzz/limits.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>

namespace bpfdiff::fuzz {
namespace {

bool same(const vm::ExecLimits& a, const vm::ExecLimits& b) {
  return a.instruction_budget == b.instruction_budget && a.max_call_depth == b.max_call_depth;
}

}  // namespace

std::optional<RunExtent> measure_extent(oracle::Engine& engine, const vm::Program& program,
                                        const oracle::EngineInput& input) {
  auto executor = engine.prepare(program, input.limits);
  if (!executor || !(*executor)->can_trace()) return std::nullopt;
  std::vector<uint8_t> memory = input.memory;
  std::vector<uint8_t> metadata = input.metadata;
  uint64_t top = 0;
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  bool first = true;
  const vm::RunResult r =
      (*executor)->run_traced(oracle::run_input(input, memory, metadata),
                              [&](uint32_t, const std::array<uint64_t, isa::kNumRegisters>& regs) {
                                if (first) top = regs[10];
                                first = false;
                                lowest = std::min(lowest, regs[10]);
                              });
  RunExtent e;
  e.instructions = r.instructions;
  // Each local call moves r10 down one frame; a tail call keeps it.
  if (!first && lowest <= top) e.frames = static_cast<uint32_t>((top - lowest) / vm::kStackFrameBytes) + 1;
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
