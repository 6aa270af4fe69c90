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

// Copies a register file 8 bytes at a time. Register files are written one
// register at a time (by the interpreter, by JIT code), and a wider load that
// spans two of those stores still in flight stalls on store forwarding --
// for a short program, longer than the program itself. The volatile read
// keeps the compiler from merging the copies into vector loads.
inline void copy_registers(uint64_t* to, const uint64_t* from) {
  const volatile uint64_t* src = from;
  for (int r = 0; r < isa::kNumRegisters; ++r)
    to[r] = src[r];
}

// Zeroes a register file with one store per register (a compiler left to
// itself may pick `rep stos`, whose start-up costs more than a short run).
inline void clear_registers(uint64_t* regs) {
  volatile uint64_t* out = regs;
  for (int r = 0; r < isa::kNumRegisters; ++r)
    out[r] = 0;
}

struct ExecState {
  std::array<uint64_t, isa::kNumRegisters> regs{};
  uint32_t pc = 0;
  uint32_t depth = 0;    // frames pushed by local calls (0 in the entry function)
  uint32_t deepest = 0;  // largest depth reached this run
  uint64_t executed = 0;
  std::vector<CallFrame> frames;  // max_call_depth entries
};

}  // namespace bpfdiff::vm
