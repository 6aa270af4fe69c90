#pragma once
// The full-state recipe: how a program as our VM runs it becomes a kernel
// program whose whole final state (r0..r9, the memory) can be read back.
//
// BPF_PROG_TEST_RUN reports only a 32-bit return value, so the rewrite makes
// the program export its state itself, into two single-entry mmappable array
// maps addressed with `lddw rX, map_value(fd)`:
//
//   [prologue]   r1 = &memory value (or 0), r2 = length, r0 and r3..r9 = 0:
//                exactly the registers our interpreter starts with
//   [entry body] the entry function, each `exit` now `ja epilogue`
//   [epilogue]   spills r0 to [r10 - 8], stores r0..r9, r10 and the memory
//                base into the registers value, restores r0 and exits
//   [subprograms] unchanged, except branch and call offsets that cross the
//                 inserted epilogue
//
// Exits of subprograms are returns and stay. The epilogue sits inside the
// entry function (before the first subprogram) because the verifier splits
// functions at call targets and a jump may not leave its function.
//
// The reserved stack slot [r10 - 8] of the entry frame is written only in
// the epilogue, after the program's last instruction, so the program can
// never observe it; the stack is not exported and not compared. Its one
// cost is 8 bytes of stack depth in the entry function, which can push a
// call chain already at the 512-byte limit over it: the kernel then rejects
// ("combined stack size"), which the harness counts as a rejection, never
// as a mismatch.
//
// r1..r5 after a call: the verifier treats them as undefined (it marks
// them unreadable), so the epilogue may not read them on a path where a
// call clobbered them. A must-be-written analysis of the entry function
// decides which of r1..r5 every exit sees defined; only those are stored,
// and `regs_valid` says which registers the kernel exported.
#include <cstdint>
#include <span>
#include <vector>

#include "vm/isa/raw.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel {

// Layout of the registers map value (u64 words).
inline constexpr uint32_t kFrameBaseWord = 10;   // r10 of the entry function
inline constexpr uint32_t kMemoryBaseWord = 11;  // the memory value's kernel address
inline constexpr uint32_t kDoneWord = 12;        // kEpilogueDone once the epilogue ran
inline constexpr uint32_t kRegsValueWords = 13;
inline constexpr uint32_t kRegsValueSize = kRegsValueWords * 8;
inline constexpr int32_t kEpilogueDone = 0x600dcafe;
inline constexpr int16_t kSpillOffset = -8;  // the reserved slot of the entry frame

struct RewriteInput {
  std::span<const isa::RawInsn> program;  // entry function first, as the kernel requires
  int regs_map_fd = -1;
  int memory_map_fd = -1;  // -1 when the memory is empty (r1 = 0)
  uint32_t memory_size = 0;
  // Helper and kfunc calls mean the kernel's functions, not ours, and on
  // the host a random helper call (bpf_sys_close, bpf_sys_bpf, ...) could
  // harm the executor's own process; they are refused unless allowed --
  // except bpf_ktime_get_ns (5) and bpf_get_prandom_u32 (7), which only read
  // a clock or a random number and always pass (the kernel-friendly
  // generator calls them).
  bool allow_helper_calls = false;
};

struct RewrittenProgram {
  std::vector<isa::RawInsn> insns;
  uint32_t prologue_slots = 0;
  uint32_t entry_end = 0;  // original slot index where the first subprogram starts (or the length)
  uint32_t epilogue_slots = 0;
  uint16_t regs_valid = 0;  // bit i: the epilogue stores ri (r0..r9)

  uint32_t epilogue_pc() const { return prologue_slots + entry_end; }
  // Where an original slot landed.
  uint32_t new_pc(uint32_t original) const {
    return prologue_slots + original + (original >= entry_end ? epilogue_slots : 0);
  }
};

// Slots the prologue adds in front of the entry function: an original pc p
// of the entry function is p + this in the kernel's verifier log.
constexpr uint32_t prologue_slots(bool has_memory) {
  return has_memory ? 11 : 10;  // lddw r1 (2) or mov r1; mov r2; eight movs of 0
}

// Fails (the program is Unsupported by the recipe) with the reason: an empty
// program, maps or BTF variables referenced by lddw, helper calls when not
// allowed, a branch target outside the program, a conditional branch whose
// new offset no longer fits 16 bits, a memory larger than an imm32.
Result<RewrittenProgram> rewrite_full_state(const RewriteInput& input);

// Must-be-written analysis alone (exposed for tests): bit i set when ri
// holds a value the verifier considers initialised at every exit of the
// entry function [0, entry_end), given r0..r9 set by the prologue.
uint16_t registers_defined_at_exits(std::span<const isa::RawInsn> program, uint32_t entry_end);

}  // namespace bpfdiff::oracle::kernel
