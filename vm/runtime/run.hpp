#pragma once
// What a run takes in and gives back, shared by every engine.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "vm/isa/raw.hpp"
#include "vm/runtime/error.hpp"

namespace bpfdiff::vm {

inline constexpr uint32_t kStackFrameBytes = 512;

struct ExecLimits {
  uint64_t instruction_budget = 1'000'000;  // instructions executed before BudgetExhausted
  uint32_t max_call_depth = 8;              // frames, counting the entry function's
};

enum class RunMode : uint8_t {
  NoData,  // r1 = r2 = 0
  Memory,  // r1 = address of a writable copy of the memory (0 if empty), r2 = its length
};

struct RunInput {
  RunMode mode = RunMode::Memory;
  std::span<uint8_t> memory;  // modified in place by the program
};

struct RunResult {
  std::array<uint64_t, isa::kNumRegisters> regs{};  // r0..r10 when the run ended
  uint64_t instructions = 0;                        // instructions executed, including the faulting one
  ExecError error;                                  // kind None on success

  bool ok() const { return error.kind == ErrorKind::None; }
  uint64_t r0() const { return regs[0]; }
};

// Called before each instruction when tracing.
using TraceFn = std::function<void(uint32_t pc, const std::array<uint64_t, isa::kNumRegisters>& regs)>;

}  // namespace bpfdiff::vm
