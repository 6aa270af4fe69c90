#pragma once
// Turns the engines' "before each instruction" callback into one step per
// executed instruction: its pc, its text and the registers it changed.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vm/isa/raw.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::cli {

using Registers = std::array<uint64_t, isa::kNumRegisters>;

struct RegChange {
  uint8_t reg = 0;
  uint64_t value = 0;  // the value after the instruction
};

struct TraceStep {
  uint32_t pc = 0;
  std::string text;  // disassembly of the instruction
  std::vector<RegChange> changes;
};

using TraceSink = std::function<void(const TraceStep&)>;

class TraceRecorder {
 public:
  TraceRecorder(std::span<const isa::RawInsn> slots, TraceSink sink);

  // Pass to Engine::run_traced.
  vm::TraceFn callback();
  // Emits the last instruction, diffed against the registers the run ended with.
  void finish(const Registers& final_regs);

 private:
  void on_step(uint32_t pc, const Registers& regs);
  void emit(const Registers& after);

  std::span<const isa::RawInsn> slots_;
  TraceSink sink_;
  std::optional<uint32_t> pending_pc_;
  Registers pending_regs_{};
};

// "    3: add r1, 2                      r1=0x7"
std::string format_trace_step(const TraceStep& step);

}  // namespace bpfdiff::cli
