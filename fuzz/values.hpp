#pragma once
// Values that sit on the edges the ISA cares about: sign bits, the 32/64-bit
// boundary, shift amounts around the width, byte and half-word masks. Both
// generators draw immediates and register contents from here.
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "fuzz/byte_source.hpp"

namespace bpfdiff::fuzz {

// 32-bit immediates: 0, 1, -1, INT32_MIN, INT32_MAX, 31, 32, 63, 64, 0x80,
// 0xff, 0xffff and a few neighbours.
std::span<const int32_t> interesting_imms();
// 64-bit register values: the boundaries of both widths, shift amounts and masks.
std::span<const uint64_t> boundary_values();
// Pairs that meet at a sign or width boundary (INT64_MIN and -1 for sdiv
// overflow, 0x7fffffff and 0x80000000, ...), for two-operand instructions.
std::span<const std::pair<uint64_t, uint64_t>> boundary_pairs();

// An immediate: usually from interesting_imms(), sometimes a neighbour of
// one of them, sometimes uniformly random.
int32_t draw_imm(ByteSource& src);
// A 64-bit value: a boundary value, a sign-extended interesting immediate,
// a neighbour of either, or uniformly random.
uint64_t draw_value(ByteSource& src);

// A value moved out of our stack and input regions (2^32 and 2^33 are
// boundary values) by setting its top bit: oracle/comparability.hpp takes
// any value there for a pointer, and a scalar that looks like one would
// excuse a disagreement.
uint64_t away_from_pointers(uint64_t v);

// splitmix64: advances `state` and returns the next value of its sequence.
uint64_t splitmix64_next(uint64_t& state);

// The input memory of a generated program: `size` bytes of little-endian
// 8-byte words from `seed`, half of them boundary values (so that loads see
// them too), each passed through `adjust` when one is given.
std::vector<uint8_t> boundary_memory(std::size_t size, uint64_t seed, uint64_t (*adjust)(uint64_t) = nullptr);

}  // namespace bpfdiff::fuzz
