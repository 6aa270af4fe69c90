#pragma once
// A run in progress, in a form every engine can read and write: the JIT hands
// it to the interpreter when it deoptimises (for example when the instruction
// budget runs out inside a block), and the interpreter carries on exactly
// where the machine code stopped.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "vm/isa/raw.hpp"

namespace bpfdiff::vm {

// What a local call saves; the layout is read and written by JIT code.
struct CallFrame {
  uint64_t callee_saved[4];  // r6..r9 of the caller
  uint64_t r10;              // the caller's frame pointer
  uint32_t return_pc;        // slot to continue at after the callee's exit
  uint32_t reserved;
};
static_assert(sizeof(CallFrame) == 48);

struct ExecState {
  std::array<uint64_t, isa::kNumRegisters> regs{};
  uint32_t pc = 0;
  uint32_t depth = 0;    // frames pushed by local calls (0 in the entry function)
  uint32_t deepest = 0;  // largest depth reached this run
  uint64_t executed = 0;
  std::vector<CallFrame> frames;  // max_call_depth entries
  std::span<uint8_t> packet;      // what legacy packet loads read
};

}  // namespace bpfdiff::vm
