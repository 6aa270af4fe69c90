#pragma once
// The structure-aware program generator: fuzzer bytes (or a seed) in, a
// program that the validator accepts by construction plus the input memory
// it runs on, out.
//
// What the programs contain is driven by the instruction table: each step
// picks a form from isa::all_forms() (those the ISA version allows and a
// program without helpers or maps can hold) and wraps it in what makes it
// meaningful -- a base pointer for memory access, a forward label for a jump,
// a function for a call. Around that sit bounded counter loops (and rare
// unbounded ones that run into the instruction budget), subprograms reached
// by `call local` and by `callx` through `lddw code`, a prologue that
// fills r0..r9 with boundary values, and calls of the standard helpers
// (vm/runtime/std_helpers) on maps the program declares -- with valid
// arguments, and at a tunable rate with invalid ones (a handle that names no
// map, a key or value pointer outside the frame, a size past it, bad flags),
// which both engines must answer with the same error code or fault.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "vm/isa/table.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::fuzz {

struct GeneratorOptions {
  // Slots in the whole program, prologue and subprograms included (lddw
  // takes two). Values below kMinGeneratedSlots are raised to it.
  std::size_t max_instructions = 64;
  // Only forms with info(form).version <= isa_version are emitted.
  isa::IsaVersion isa_version = isa::IsaVersion::V4;
  // Share of memory accesses (loads, stores, atomics, packet loads) aimed
  // outside every live region on purpose; the rest are in bounds.
  double out_of_bounds_rate = 0.05;
  // Chance per step of opening a loop (one in eight of them unbounded).
  double loop_rate = 0.08;
  // Chance per step of calling a subprogram; 0 also means no subprograms.
  double call_rate = 0.08;
  // Chance per step of calling a standard helper; 0 also means no maps.
  double helper_rate = 0.04;
  // Share of helper calls given an invalid argument on purpose.
  double bad_argument_rate = 0.2;
};

struct GeneratedCase {
  vm::Program program;          // with the maps it declares (program.maps)
  std::vector<uint8_t> memory;  // the input memory (r1 points at it, r2 holds its length)
};

inline constexpr std::size_t kMinGeneratedSlots = 16;
// Slots of the programs the interp_vs_jit_gen fuzz target generates: what its
// inputs (generator decisions) are replayed with everywhere.
inline constexpr std::size_t kGenTargetSlots = 128;
inline constexpr std::size_t kMaxGeneratedSlots = 65'536;
inline constexpr std::size_t kMaxGeneratedMemory = 256;
// The instruction budget generated cases are meant to run with: bounded loops
// finish well within it, the unbounded ones exhaust it quickly.
inline constexpr uint64_t kGeneratedInstructionBudget = 10'000;

GeneratedCase generate(ByteSource& src, const GeneratorOptions& opt = {});

// The helpers generated programs call: the standard ones (the default
// registry of the engines), by their Linux numbers.
std::span<const uint32_t> generated_helper_ids();

// Whether a program without maps can contain `form` alone, with no set-up:
// what the generator's steps draw from, and what the single-instruction cases
// expect to validate. Not generatable: `call` of a helper (its id and
// arguments need set-up) and the lddw pseudo forms naming maps (they need
// declared maps) -- generate() still emits both, in its helper-call step,
// with the maps it declares -- and lddw of a BTF variable, which is never
// generated (BTF exists only in a kernel).
bool generatable(isa::Form form);
// The forms generate() draws from for `version`, in table order.
std::vector<isa::Form> generatable_forms(isa::IsaVersion version);

}  // namespace bpfdiff::fuzz
