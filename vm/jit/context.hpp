#pragma once
// The block of state JIT code works on, addressed from r12. Its layout is
// part of the machine-code ABI: lowering reads field offsets with offsetof.
#include <cstddef>
#include <cstdint>

#include "vm/runtime/error.hpp"
#include "vm/runtime/exec_state.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::jit {

// Why the machine code returned.
enum class JitStatus : uint32_t {
  Exit = 0,   // the program ended normally
  Error = 1,  // a run-time check failed; `error` says which
  Deopt = 2,  // the interpreter must continue from `pc` (the budget runs out in this block)
};

struct JitContext {
  uint64_t* out_regs;         // where the code stores BPF r0..r10 when it returns (the run's result)
  uint64_t remaining;         // instruction budget left
  const vm::Region* regions;  // the address space table (kMaxRegions entries)
  vm::CallFrame* frames;
  // Host address of a stack address a, as a + stack_delta (mod 2^64): the
  // stack region's host base minus its virtual base. The code keeps it in r9.
  uint64_t stack_delta;
  uint8_t* packet;  // legacy packet loads read here
  uint64_t packet_len;
  uint64_t saved_rsp;             // native stack pointer at entry, for returning from any depth
  void* helper_trampoline;        // uint64_t (*)(r1, r2, r3, r4, r5, JitContext*)
  void* callx_trampoline;         // same signature; calls the helper whose id is in callx_value
  void* program;                  // the JitProgram, for the trampolines
  const uint64_t* function_code;  // per slot: host address of a function's code, 0 elsewhere
  uint64_t callx_value;           // callx: the register value being called
  uint64_t callx_target;          // callx: host address of the function called
  uint64_t tail_target;           // set by a successful bpf_tail_call: host address to jump to
  uint32_t depth;                 // local-call depth
  uint32_t deepest;
  uint32_t status;      // JitStatus
  uint32_t pc;          // Deopt: where to resume; helper calls: the calling pc
  uint32_t error_kind;  // vm::ErrorKind
  uint32_t error_pc;
  uint64_t error_address;
  uint32_t error_size;
  uint32_t reserved;
};

// Region fields the machine code reads.
static_assert(sizeof(vm::Region) == 32, "lowering indexes regions with a shift by 5");
inline constexpr int32_t kRegionHost = offsetof(vm::Region, host);
inline constexpr int32_t kRegionLo = offsetof(vm::Region, lo);
inline constexpr int32_t kRegionHi = offsetof(vm::Region, hi);
inline constexpr int32_t kRegionWritable = offsetof(vm::Region, writable);

// A run starts at the entry function with r1 and r2 as given, r10 at the
// top of the stack and every other register 0 (the code sets them).
using JitEntry = void (*)(JitContext* ctx, uint64_t r1, uint64_t r2);

}  // namespace bpfdiff::jit
