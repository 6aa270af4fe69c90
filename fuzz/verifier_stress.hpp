#pragma once
// Verifier-stressing generation: programs whose safety the Linux verifier
// has to work out, drawn from the areas where verifier and JIT bugs have
// been found (bounds tracking through ALU operations and JMP/JMP32
// branches, 32-bit subregister bounds, spills and fills, atomics on the
// stack, pruning at join points, dead branches, pointer arithmetic with
// branch-bounded scalars, bpf-to-bpf calls with stack pointers, bounded
// loops, division by zero and INT_MIN / -1, v4 sign extension, array and
// hash map value pointers from bpf_map_lookup_elem, hash map updates and
// deletes, branches at the edge of a value's range).
//
// The kernel-friendly generator (kernel_friendly.hpp) writes programs the
// verifier accepts by construction, so it never leaves the verifier in doubt;
// this one builds every memory access on a value the verifier cannot know
// (loaded from the input memory), transformed by the operations of one of
// the areas above, and guarded by a check that is usually sufficient but,
// at `doubt_rate`, deliberately one the verifier may or may not see through
// (a 32-bit check of a 64-bit value, an off-by-one bound, a signed upper
// bound alone, no check after an operation that may bound it). Programs are
// valid for our validator and run within kGeneratedInstructionBudget in our
// VM; the kernel accepts some and rejects others (aimed at 30 to 70%).
//
// The world is the full-state recipe's (oracle/kernel/full_state_rewrite.hpp):
// r1 = the input memory (at least 16 bytes), r2 = its length. Every other
// register and every stack byte is written before it is read, so the same
// programs also load with a prologue that sets only r1 and r2 (the
// verifier-state oracle's way, oracle/verifier_state_check.hpp). Pointer bits
// never reach a computation the kernel would accept (a pointer is spilled
// only to its own slot and filled whole), so kernel and VM stay comparable.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/byte_source.hpp"
#include "fuzz/generator.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {

// The patterns the generator draws from: what the coverage report counts.
enum class StressPattern : uint8_t {
  BranchGuard,    // unknown value bounded by JMP branches (signed, unsigned, reg or imm)
  Jmp32Guard,     // bounded by a JMP32 branch, used as a 64-bit offset
  LinkedGuard,    // a copy is bounded, the original used (register ids)
  AluBounds,      // and/or/xor/add/sub on the bounded value
  ShiftBounds,    // lsh/rsh/arsh
  MulDivMod,      // mul, div, mod, sdiv, smod by constants and registers
  NegBswapMovsx,  // neg, byte swaps, sign-extending moves
  Subreg32,       // 32-bit ALU results used as 64-bit values
  SignExtLoad,    // ldxs{b,h,w}
  DivByZero,      // division and modulo by a register that may be 0
  SdivOverflow,   // INT_MIN / -1 and INT_MIN % -1, both widths
  SpillConst,     // constants spilled and filled at every width
  SpillScalar,    // bounded scalars spilled and filled
  SpillPointer,   // a pointer spilled, filled and dereferenced
  PartialSpill,   // fills at another width or offset than the spill, overlapping writes
  AtomicStack,    // add/or/and/xor/xchg/cmpxchg (fetch or not) on a stack slot
  AtomicMemory,   // the same on the input memory
  JoinPrune,      // two paths meeting with different values (pruning)
  DeadBranch,     // a branch the verifier must judge dead, guarding an invalid access
  StackPtrArith,  // the frame pointer moved by a branch-bounded scalar
  CallStackPtr,   // a bpf-to-bpf call given a pointer into the caller's frame
  BoundedLoop,    // a loop counting an unknown, masked value down
  MapValue,       // an array map value pointer from a lookup: null checks, variable offsets, spills
  EdgeBranch,     // a branch against the edge of a computed value's range, both paths valid
  HashMap,        // a hash map: keys stored at varied widths, lookup (checked or not), update, delete
  Count,
};
inline constexpr std::size_t kNumStressPatterns = static_cast<std::size_t>(StressPattern::Count);
std::string_view stress_pattern_name(StressPattern p);

struct VerifierStressOptions {
  // Slots in the whole program (lddw takes two); raised to kMinGeneratedSlots.
  std::size_t max_instructions = 128;
  // v4 adds sdiv/smod, movsx, sign-extending loads, bswap; v3 for 6.1.
  isa::IsaVersion isa_version = isa::IsaVersion::V4;
  // Share of accesses guarded by a check the verifier may not see through.
  double doubt_rate = 0.04;
  // Share of programs given an array map and map-value patterns.
  double map_program_rate = 0.35;
  // Share of programs given a hash map and hash-map patterns, and of their
  // lookups whose result is used without a null check (none when doubt_rate
  // is 0: every program then runs to its exit in our VM).
  double hash_program_rate = 0.3;
  double hash_unchecked_rate = 0.06;
  // Share of hash maps that start with entries (keys the programs' key
  // stores write, so lookups hit and updates may find the map full).
  double hash_seeded_rate = 0.6;
};

// Bit i set: the program holds pattern i.
using StressPatterns = uint32_t;
static_assert(kNumStressPatterns <= 32);

GeneratedCase generate_verifier_stress(ByteSource& src, const VerifierStressOptions& opt = {},
                                       StressPatterns* patterns = nullptr);

}  // namespace bpfdiff::fuzz
