#pragma once
// Where a generator's decisions come from. Under a fuzzing engine every
// decision is read from the input bytes, so a mutation of the input is a
// mutation of the generated program; in tests and the gate the same
// decisions come from a seeded std::mt19937_64. A generator written against
// ByteSource cannot tell the two apart.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>

namespace bpfdiff::fuzz {

class ByteSource {
 public:
  // Reads `bytes` front to back; once they run out every draw is 0, so a
  // short input still yields a (small, deterministic) case.
  explicit ByteSource(std::span<const uint8_t> bytes);
  // An endless stream from std::mt19937_64(seed): the same seed gives the
  // same bytes on every platform.
  explicit ByteSource(uint64_t seed);

  uint8_t byte();
  uint16_t u16();
  uint32_t u32();
  uint64_t u64();

  // Uniform-ish in [0, n) using as few bytes as n needs; 0 when n is 0.
  uint32_t below(uint32_t n);
  // In [lo, hi], both inclusive; lo when hi < lo.
  int64_t range(int64_t lo, int64_t hi);
  // True with probability about p (one byte, so in steps of 1/256). An
  // exhausted byte source draws 0, which is false for every p < 1: running
  // out of input turns optional structure off instead of on.
  bool chance(double p);

  template <typename T>
  const T& pick(std::span<const T> items) {
    return items[below(static_cast<uint32_t>(items.size()))];
  }

  // Whether a byte-backed source has run past its input (never for a seeded one).
  bool exhausted() const { return !rng_ && pos_ >= bytes_.size(); }
  std::size_t consumed() const { return pos_; }

 private:
  std::span<const uint8_t> bytes_;
  std::size_t pos_ = 0;
  std::optional<std::mt19937_64> rng_;
  uint64_t buffered_ = 0;
  unsigned buffered_bytes_ = 0;
};

}  // namespace bpfdiff::fuzz
