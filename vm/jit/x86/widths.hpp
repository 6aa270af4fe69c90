#pragma once
// Internal to the assembler's .cpp files: per-width opcode and immediate rules.
#include <cstdint>

#include "vm/jit/x86/encoding.hpp"
#include "vm/jit/x86/registers.hpp"

namespace bpfdiff::jit::x86::detail {

constexpr bool is_w32_or_w64(Width w) {
  return w == Width::W32 || w == Width::W64;
}

// Most groups have a byte opcode one below the full-size one (88/89, 00/01,
// 84/85, F6/F7, C0/C1, D2/D3, 86/87, 0F B0/B1, 0F C0/C1, C6/C7).
constexpr uint8_t sized_opcode(Width w, uint8_t full) {
  return w == Width::W8 ? static_cast<uint8_t>(full - 1) : full;
}

// A byte operand in spl..dil needs a REX prefix even when no REX bit is set.
constexpr bool byte_rex(Width w, Reg r) {
  return w == Width::W8 && needs_rex_as_byte(r);
}

// Immediate bytes for an "imm of the operand size" form; W64 takes an imm32
// that the CPU sign-extends.
constexpr unsigned imm_bytes(Width w) {
  return w == Width::W8 ? 1 : w == Width::W16 ? 2 : 4;
}

// An immediate narrower than 32 bits may be given signed or unsigned.
constexpr bool imm_fits(Width w, int32_t imm) {
  switch (w) {
    case Width::W8:
      return imm >= -128 && imm <= 255;
    case Width::W16:
      return imm >= -32768 && imm <= 65535;
    case Width::W32:
    case Width::W64:
      return true;
  }
  return false;
}

}  // namespace bpfdiff::jit::x86::detail
