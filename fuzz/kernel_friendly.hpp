#pragma once
// Kernel-friendly generation: programs that the Linux verifier accepts as
// BPF_PROG_TYPE_SYSCALL programs under the full-state recipe
// (oracle/kernel/full_state_rewrite.hpp), at a high rate, while still
// exercising every form the kernel allows there, memory access through the
// input pointer and the stack, bounded loops, bpf-to-bpf calls and helper
// calls. The plain generator (generator.hpp) aims at our VM's hardening and
// mostly writes programs the verifier refuses (unreachable code, reads of
// registers a call clobbered, unbounded loops); this one follows the
// verifier's rules by construction:
//
//  - every instruction is reachable: exits and `ja`/`gotol` appear only as
//    conditional returns and if/else diamonds, and every subprogram is
//    called at least once;
//  - a register is read only when it is initialised on every path (a call
//    clobbers r1..r5; a subprogram starts with r1..r5 from its caller and
//    r0, r6..r9 unset); join points and loop heads meet the states of their
//    incoming edges, and a loop body that changes the kind of a register
//    restores it before the back edge;
//  - pointers (the input memory, the frame) are only copied, moved by
//    constants or by a masked scalar, and used as bases; they are never
//    stored, compared or used in 32-bit or other arithmetic, so nothing
//    depends on their bits and the kernel and our VM stay comparable;
//  - accesses are in bounds and naturally aligned (the verifier insists on
//    alignment for the stack and atomics); the stack is written before it is
//    read (a fixed arena per function, initialised on entry), since the
//    kernel's stack is not zeroed and ours is;
//  - loops count a register in r6..r9 down from a constant (<= 5 turns, two
//    levels deep, two loops per function) so the verifier can walk them,
//    and a cost bound keeps the whole run far below kGeneratedInstructionBudget;
//  - branches are 12% of the steps: each branch on an unknown value can
//    double the states the verifier walks, and at the uniform share of the
//    50-odd jump forms a few programs hit its 1M-instruction limit;
//  - calls form a DAG (the verifier forbids recursion), each frame's stack
//    is small, so the combined stack stays far below 512 bytes;
//  - immediates obey the verifier's field rules: shift counts below the
//    width, nonzero divisors for the immediate forms;
//  - helper calls are bpf_ktime_get_ns and bpf_get_prandom_u32 (both
//    allowed for SYSCALL programs, both without side effects); their result
//    is reduced to a constant at once (ktime >> 63, prandom >> 32), because
//    their values differ between the kernel and our VM;
//  - a share of the programs have maps (an array and/or a hash map, small,
//    array contents random) and call bpf_map_lookup_elem (with a null
//    check, except sometimes for an array's constant key in range, which
//    kernels from 6.14 know cannot fail; the value read, changed, its pointer spilled and filled or
//    moved by a scalar bounded by a branch), bpf_map_update_elem (every
//    flag, keys in and past range, a full hash map) and
//    bpf_map_delete_elem, keys and values on the stack arena; their return
//    values stay in r0. A value pointer is used only right after its lookup,
//    before any other call: the kernel replaces a hash element on update
//    (an older pointer sees the old value), we update in place.
//
// Not generated, because the kernel refuses them for this program type or
// the recipe cannot carry them: callx (no verifier support), legacy packet
// loads (socket filters only), lddw of BTF variables, lddw of a code address
// (the verifier accepts it only as a callback argument of helpers our VM
// does not have), tail calls (program arrays: not in a sleepable program).
//
// API kept small for other callers (the guest campaign): a ByteSource and
// options in, the same GeneratedCase as the plain generator out.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/generator.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {

struct KernelFriendlyOptions {
  // Slots in the whole program (lddw takes two); raised to kMinGeneratedSlots.
  std::size_t max_instructions = 128;
  // v3 for kernels before 6.6 (Debian's 6.1 rejects sdiv, movsx, bswap,
  // sign-extending loads and gotol); v4 for 6.6 and later.
  isa::IsaVersion isa_version = isa::IsaVersion::V4;
  double loop_rate = 0.08;    // chance per step of opening a bounded loop
  double call_rate = 0.06;    // chance per step of a bpf-to-bpf call; 0: no subprograms
  double helper_rate = 0.03;  // chance per step of a helper call; 0: none
  // Share of the programs that get maps (an array, a hash map or both), and
  // the chance per step of a map helper sequence in those; 0 (or a
  // helper_rate of 0): no maps.
  double map_program_rate = 0.35;
  double map_rate = 0.08;
  // Share of the map programs that also get a program array holding the
  // program itself, and the chance per step of a tail call in those
  // (entry function, outside loops); 0: none. The restarts are charged to
  // the entry's instruction bound, so a program restarted 33 times still
  // ends inside the budget.
  double tail_call_program_rate = 0.3;
  double tail_call_rate = 0.04;
};

// The helper ids the mode calls (Linux numbering): ktime_get_ns, get_prandom_u32.
inline constexpr uint32_t kKtimeGetNsHelper = 5;
inline constexpr uint32_t kGetPrandomU32Helper = 7;

GeneratedCase generate_kernel_friendly(ByteSource& src, const KernelFriendlyOptions& opt = {});

// The ISA version a kernel of this release (`uname -r`, "6.1.0-18-amd64",
// "6.18.44-...") verifies: v4 from 6.6 on, v3 before it and when the release
// cannot be read (v3 programs pass on every kernel the oracle supports).
isa::IsaVersion isa_version_for_kernel(std::string_view release);

// Whether the mode emits `form` at all (see above for what it leaves out).
bool kernel_friendly(isa::Form form);
// The forms generate_kernel_friendly draws from for `version`, in table order.
std::vector<isa::Form> kernel_friendly_forms(isa::IsaVersion version);

}  // namespace bpfdiff::fuzz
