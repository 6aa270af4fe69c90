#include "vm/jit/options.hpp"

namespace bpfdiff::jit {

uint64_t blinding_key(uint64_t seed) {
  // splitmix64's finaliser over the seed offset by a constant, so that seed 0
  // gets a key with both halves well mixed too.
  uint64_t z = seed + 0x6a09e667f3bcc909ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  // Both 32-bit halves nonzero: 32-bit immediates are blinded with the low half.
  if (static_cast<uint32_t>(z) == 0) z |= 1;
  if ((z >> 32) == 0) z |= uint64_t{1} << 63;
  return z;
}

std::string engine_name(const JitOptions& options) {
  std::string name = "jit";
  if (options.constant_blinding) name += "+blind";
  if (!options.bmi2) name += "-bmi2";
  return name;
}

std::vector<JitOptions> all_option_sets() {
  std::vector<JitOptions> out;
  for (bool blind : {false, true}) {
    for (bool bmi2 : {true, false})
      out.push_back(JitOptions{blind, bmi2});
  }
  return out;
}

std::optional<JitOptions> options_named(std::string_view name) {
  for (const JitOptions& o : all_option_sets()) {
    if (engine_name(o) == name) return o;
  }
  return std::nullopt;
}

}  // namespace bpfdiff::jit
