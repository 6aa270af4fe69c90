#include "fuzz/values.hpp"

#include <array>
#include <limits>

#include "vm/runtime/memory.hpp"

namespace bpfdiff::fuzz {
namespace {

constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();
constexpr uint64_t kI64Min = uint64_t{1} << 63;
constexpr uint64_t kI64Max = kI64Min - 1;
constexpr uint64_t kAllOnes = ~uint64_t{0};

constexpr std::array<int32_t, 20> kImms = {
    0, 1, -1, kI32Min, kI32Max, 31, 32, 63, 64, 0x80, 0xff, 0xffff, 2, -2, 8, 16, 0x7f, 0x7fff, 0x8000, 65,
};

constexpr std::array<uint64_t, 24> kValues = {
    0,
    1,
    kAllOnes,
    kI64Min,
    kI64Max,
    0xffffffff80000000,  // INT32_MIN sign-extended
    0x7fffffff,
    0xffffffff,
    0x80000000,
    0x100000000,
    31,
    32,
    63,
    64,
    65,
    0x80,
    0xff,
    0xffff,
    0x8000,
    0x7fff,
    kI64Min + 1,
    0xfffffffe,
    0x00000001ffffffff,
    0x8000000000000080,
};

constexpr std::array<std::pair<uint64_t, uint64_t>, 14> kPairs = {{
    {kI64Min, kAllOnes},                       // INT64_MIN / -1
    {0xffffffff80000000, kAllOnes},            // INT32_MIN / -1 (sign-extended)
    {0x80000000, 0xffffffff},                  // INT32_MIN / -1 in the low half only
    {0x7fffffff, 0x80000000},                  // across the 32-bit sign boundary
    {kI64Max, kI64Min},                        // across the 64-bit sign boundary
    {0xffffffff, 0x100000000},                 // across the 32-bit width boundary
    {kAllOnes, 0},                             // -1 and 0: unsigned max vs min
    {kAllOnes, 1},                             // signed -1 < 1, unsigned max > 1
    {0x80000000, 0xffffffff80000000},          // equal low halves, different high halves
    {0x100000000, 0},                          // equal low halves (0), 64-bit values differ
    {1, 63},                                   // shift by the largest in-range amount
    {1, 64},                                   // shift by the width: masked to 0
    {kI64Min, 65},                             // shift by width + 1
    {0x8000000000000080, 0xffffffffffffff80},  // sign bits of byte-sized operands
}};

}  // namespace

std::span<const int32_t> interesting_imms() {
  return kImms;
}
std::span<const uint64_t> boundary_values() {
  return kValues;
}
std::span<const std::pair<uint64_t, uint64_t>> boundary_pairs() {
  return kPairs;
}

int32_t draw_imm(ByteSource& src) {
  const uint32_t how = src.below(8);
  const int32_t base = src.pick(interesting_imms());
  if (how < 5) return base;
  if (how == 5) return static_cast<int32_t>(static_cast<uint32_t>(base) + (src.byte() & 1 ? 1u : ~0u));
  if (how == 6) return static_cast<int32_t>(src.range(-256, 256));
  return static_cast<int32_t>(src.u32());
}

uint64_t draw_value(ByteSource& src) {
  const uint32_t how = src.below(8);
  if (how < 4) return src.pick(boundary_values());
  if (how == 4) return static_cast<uint64_t>(static_cast<int64_t>(src.pick(interesting_imms())));
  if (how == 5) return src.pick(boundary_values()) + (src.byte() & 1 ? 1 : kAllOnes);
  if (how == 6) return static_cast<uint64_t>(src.range(-1000, 1000));
  return src.u64();
}

uint64_t away_from_pointers(uint64_t v) {
  const uint64_t region = v >> vm::kRegionShift;
  const bool looks_like_pointer = region == static_cast<uint64_t>(vm::RegionId::Stack) ||
                                  region == static_cast<uint64_t>(vm::RegionId::Input);
  return looks_like_pointer ? v | (uint64_t{1} << 63) : v;
}

uint64_t splitmix64_next(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

std::vector<uint8_t> boundary_memory(std::size_t size, uint64_t seed, uint64_t (*adjust)(uint64_t)) {
  std::vector<uint8_t> mem(size);
  uint64_t state = seed;
  const std::span<const uint64_t> values = boundary_values();
  for (std::size_t i = 0; i < mem.size(); i += 8) {
    const uint64_t r = splitmix64_next(state);
    uint64_t word = (r & 1) ? values[(r >> 1) % values.size()] : splitmix64_next(state);
    if (adjust != nullptr) word = adjust(word);
    for (std::size_t j = 0; j < 8 && i + j < mem.size(); ++j)
      mem[i + j] = static_cast<uint8_t>(word >> (8 * j));
  }
  return mem;
}

}  // namespace bpfdiff::fuzz
