#pragma once
// What makes one of our runs incomparable with the kernel's, found by
// tracing our interpreter over the same program and input. Used only to
// excuse a disagreement (kernel_compare.hpp), never to hide an agreement.
//
// - Uninitialised stack: our VM starts every frame zeroed, the kernel does
//   not clear its stack (the verifier lets privileged programs read slots
//   never written). RFC 9669 leaves the initial stack undefined.
// - Pointer bits: our pointers are region + offset (0x200000000 + k), the
//   kernel's are kernel addresses. The translation back (kernel_outcome.hpp)
//   holds through 64-bit moves, additions and subtractions of scalars, and
//   8-byte stores; any other use of a pointer's bits (32-bit operations,
//   partial stores, multiplication, masks, shifts, byte swaps, comparison
//   with a scalar) gives values that legitimately differ. Map handles
//   (lddw map_fd) and map value addresses (lddw map_value, lookups) are
//   pointers too; distances between and order of pointers into a hash
//   map's values (or an array's whose value size is not a multiple of 8,
//   which the kernel pads) differ as well.
// - Helper arguments: the map helpers read keys and values from the stack,
//   so those bytes count as reads (uninitialised stack, spilled pointers).
#include <span>
#include <string>

#include "vm/program/program.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::oracle {

struct Comparability {
  bool uninitialized_stack_read = false;
  bool pointer_bits_exposed = false;
  // A pointer went into the input memory (kernel addresses in the kernel's
  // copy, which only the full-state run can translate back).
  bool pointer_stored_in_memory = false;
  // A pointer went into a map value (a store through a value pointer, or
  // map_update_elem of stack bytes holding one): the kernel's map holds a
  // kernel address there, its contents are not translated back.
  bool pointer_stored_in_map = false;
  // A hash map value was accessed through a pointer looked up before a
  // later update or delete of a hash map: the kernel replaced the element
  // (the old pointer reads the old value or a recycled one), we update in
  // place.
  bool stale_map_pointer = false;
  // A tail call passed r1 other than the entry's r1: the kernel's
  // bpf_tail_call takes the context there (the full-state wrapper passes
  // its own, kernel_executor.hpp), and our VM carries r1 into the target.
  bool tail_call_argument_changed = false;
  // Our validator rejects the program for a reason that is ours alone, not
  // a rule of the verifier's: a helper our registry lacks (the kernel has
  // hundreds), more slots than our limit, a reserved field set only in
  // instructions this run never reaches (unreached_reserved_fields.hpp).
  // Empty otherwise.
  std::string rejection_not_comparable;
};

// Runs the interpreter once, traced, on a copy of `memory`. A frame pushed
// by a local call counts as never written (in the kernel it is fresh stack).
// A value counts as a pointer by its provenance (r1 and r10 at the start,
// then 64-bit moves, additions and 8-byte spills and fills), not by its
// value: a scalar that lies in our stack or input region's range is a
// number in the kernel too, and its differences are findings.
// When our validator rejects the program, only rejection_not_comparable
// is filled in.
Comparability check_comparability(const vm::Program& program, std::span<const uint8_t> memory,
                                  vm::RunMode mode, const vm::ExecLimits& limits);

}  // namespace bpfdiff::oracle
