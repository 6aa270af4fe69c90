#pragma once
// Memory operands: [base + index * scale + disp]. There is no RIP-relative
// or absolute form; the JIT addresses everything through registers.
#include <cstdint>
#include <optional>

#include "vm/jit/x86/registers.hpp"

namespace bpfdiff::jit::x86 {

// Value = the SIB scale field (log2 of the factor).
enum class Scale : uint8_t { S1, S2, S4, S8 };

struct Index {
  Reg reg = Reg::rax;  // rsp is not encodable as an index; the assembler rejects it
  Scale scale = Scale::S1;

  constexpr bool operator==(const Index&) const = default;
};

struct Mem {
  Reg base = Reg::rax;
  int32_t disp = 0;
  std::optional<Index> index;

  constexpr bool operator==(const Mem&) const = default;
};

constexpr Mem mem(Reg base, int32_t disp = 0) {
  return Mem{base, disp, std::nullopt};
}
constexpr Mem mem(Reg base, Reg index, Scale scale, int32_t disp = 0) {
  return Mem{base, disp, Index{index, scale}};
}

}  // namespace bpfdiff::jit::x86
