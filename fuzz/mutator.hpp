#pragma once
// Instruction-aware mutation of raw fuzz inputs (u32 length | program |
// memory, after `prefix` bytes the target reads first). Byte-level mutation
// mostly produces programs the validator rejects at the first bad field; this
// one works on whole 8-byte slots, through the instruction table: swap an
// instruction's form, move its registers, offset or immediate to interesting
// values, insert, delete or duplicate instructions with every jump repaired
// (program_edit), aim a jump at an instruction, end the program with exit.
// The output's program length is always a whole number of slots.
#include <cstddef>
#include <cstdint>

namespace bpfdiff::fuzz {

// libFuzzer's LLVMFuzzerMutate (byte-level): the fallback for part of the
// calls and for inputs that are not programs at all. May be null.
using ByteMutator = std::size_t (*)(uint8_t* data, std::size_t size, std::size_t max_size);

struct RawMutatorConfig {
  std::size_t prefix = 0;  // bytes before the raw layout (jit_decode's option byte)
  ByteMutator fallback = nullptr;
};

// Mutates data[0, size) in place into at most max_size bytes; returns the new
// size. Deterministic for a given seed.
std::size_t mutate_raw_input(uint8_t* data, std::size_t size, std::size_t max_size, uint64_t seed,
                             const RawMutatorConfig& config);

// A prefix of the first input's instructions followed by a suffix of the
// second's, with the first's memory; writes at most max_out bytes to `out`.
std::size_t crossover_raw_inputs(const uint8_t* data1, std::size_t size1, const uint8_t* data2,
                                 std::size_t size2, uint8_t* out, std::size_t max_out, uint64_t seed,
                                 const RawMutatorConfig& config);

}  // namespace bpfdiff::fuzz
