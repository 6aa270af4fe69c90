#include "fuzz/raw_input.hpp"

#include <algorithm>

#include "vm/isa/raw.hpp"

namespace bpfdiff::fuzz {

RawInput split_raw_input(std::span<const uint8_t> data) {
  if (data.size() < 4) return {};
  const uint32_t declared = static_cast<uint32_t>(data[0]) | (static_cast<uint32_t>(data[1]) << 8) |
                            (static_cast<uint32_t>(data[2]) << 16) | (static_cast<uint32_t>(data[3]) << 24);
  const auto rest = data.subspan(4);
  const std::size_t length = std::min<std::size_t>(declared, rest.size());
  RawInput in;
  in.program = rest.first(length - length % isa::kSlotBytes);
  in.memory = rest.subspan(length);
  return in;
}

std::vector<uint8_t> join_raw_input(std::span<const uint8_t> program, std::span<const uint8_t> memory) {
  const auto n = static_cast<uint32_t>(program.size());
  std::vector<uint8_t> out(4 + program.size());
  for (int i = 0; i < 4; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  std::copy(program.begin(), program.end(), out.begin() + 4);
  out.insert(out.end(), memory.begin(), memory.end());
  return out;
}

}  // namespace bpfdiff::fuzz
