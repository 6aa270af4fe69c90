#include "fuzz/byte_source.hpp"

#include <cmath>

namespace bpfdiff::fuzz {

ByteSource::ByteSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}

ByteSource::ByteSource(uint64_t seed) : rng_(std::mt19937_64(seed)) {}

uint8_t ByteSource::byte() {
  if (rng_) {
    if (buffered_bytes_ == 0) {
      buffered_ = (*rng_)();
      buffered_bytes_ = 8;
    }
    const auto b = static_cast<uint8_t>(buffered_);
    buffered_ >>= 8;
    --buffered_bytes_;
    ++pos_;
    return b;
  }
  if (pos_ >= bytes_.size()) return 0;
  return bytes_[pos_++];
}

uint16_t ByteSource::u16() {
  const uint16_t lo = byte();
  return static_cast<uint16_t>(lo | (uint16_t{byte()} << 8));
}

uint32_t ByteSource::u32() {
  const uint32_t lo = u16();
  return lo | (uint32_t{u16()} << 16);
}

uint64_t ByteSource::u64() {
  const uint64_t lo = u32();
  return lo | (uint64_t{u32()} << 32);
}

uint32_t ByteSource::below(uint32_t n) {
  if (n <= 1) return 0;
  if (n <= 0x100) return byte() % n;
  if (n <= 0x10000) return u16() % n;
  return u32() % n;
}

int64_t ByteSource::range(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  const uint64_t r = span > UINT32_MAX ? u64() % span : below(static_cast<uint32_t>(span));
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + r);
}

bool ByteSource::chance(double p) {
  if (!(p > 0.0)) return false;
  if (p >= 1.0) return true;
  // Count from the top so that a 0 byte (the exhausted value) means "no".
  const auto threshold = static_cast<unsigned>(std::lround(p * 256.0));
  return byte() >= 256u - threshold;
}

}  // namespace bpfdiff::fuzz
