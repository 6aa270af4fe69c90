#pragma once
// Tiny pure helpers that build the REX, ModRM, SIB and displacement bytes.
// Everything here is constexpr and total: operand validity (an rsp index, a
// byte register without REX) is the assembler's job, not this file's.
#include <array>
#include <cstdint>

#include "vm/jit/x86/operands.hpp"
#include "vm/jit/x86/registers.hpp"

namespace bpfdiff::jit::x86::enc {

constexpr uint8_t rex(bool w, bool r, bool x, bool b) {
  return static_cast<uint8_t>(0x40 | (w ? 8 : 0) | (r ? 4 : 0) | (x ? 2 : 0) | (b ? 1 : 0));
}

constexpr uint8_t modrm(uint8_t mod, uint8_t reg, uint8_t rm) {
  return static_cast<uint8_t>(((mod & 3) << 6) | ((reg & 7) << 3) | (rm & 7));
}

constexpr uint8_t sib(Scale scale, uint8_t index, uint8_t base) {
  return static_cast<uint8_t>((static_cast<uint8_t>(scale) << 6) | ((index & 7) << 3) | (base & 7));
}

constexpr bool fits_int8(int64_t v) {
  return v >= -128 && v <= 127;
}
constexpr bool fits_int16(int64_t v) {
  return v >= -32768 && v <= 32767;
}
constexpr bool fits_int32(int64_t v) {
  return v >= INT32_MIN && v <= INT32_MAX;
}

// ModRM.mod values.
inline constexpr uint8_t kModDisp0 = 0;
inline constexpr uint8_t kModDisp8 = 1;
inline constexpr uint8_t kModDisp32 = 2;
inline constexpr uint8_t kModReg = 3;

// rm = 100 means "a SIB byte follows", so rsp and r12 as a base need a SIB.
// An index is only expressible through a SIB.
constexpr bool needs_sib(const Mem& m) {
  return m.index.has_value() || low3(m.base) == 4;
}

enum class DispSize : uint8_t { None, D8, D32 };

// mod = 00 with rm (or SIB base) = 101 means "disp32, no base" (or RIP), so
// rbp and r13 as a base with zero displacement still take a disp8 of 0.
constexpr DispSize disp_size(const Mem& m) {
  if (m.disp == 0 && low3(m.base) != 5) return DispSize::None;
  return fits_int8(m.disp) ? DispSize::D8 : DispSize::D32;
}

// The bytes after the opcode for a ModRM-encoded operand pair (ModRM, an
// optional SIB, an optional displacement), plus the REX bits they need.
struct ModRmBytes {
  std::array<uint8_t, 6> bytes{};
  uint8_t len = 0;
  bool rex_r = false;
  bool rex_x = false;
  bool rex_b = false;
};

// `reg_field` is a 4-bit register number or a 3-bit /digit opcode extension.
constexpr ModRmBytes modrm_reg(uint8_t reg_field, Reg rm) {
  ModRmBytes out;
  out.bytes[out.len++] = modrm(kModReg, reg_field, low3(rm));
  out.rex_r = (reg_field & 8) != 0;
  out.rex_b = is_extended(rm);
  return out;
}

constexpr ModRmBytes modrm_mem(uint8_t reg_field, const Mem& m) {
  ModRmBytes out;
  const DispSize ds = disp_size(m);
  const uint8_t mod = ds == DispSize::None ? kModDisp0 : ds == DispSize::D8 ? kModDisp8 : kModDisp32;
  out.rex_r = (reg_field & 8) != 0;
  out.rex_b = is_extended(m.base);
  if (needs_sib(m)) {
    out.bytes[out.len++] = modrm(mod, reg_field, 4);
    // index = 100 without REX.X means "no index".
    const uint8_t index = m.index ? low3(m.index->reg) : 4;
    out.rex_x = m.index && is_extended(m.index->reg);
    out.bytes[out.len++] = sib(m.index ? m.index->scale : Scale::S1, index, low3(m.base));
  } else {
    out.bytes[out.len++] = modrm(mod, reg_field, low3(m.base));
  }
  const auto d = static_cast<uint32_t>(m.disp);
  if (ds == DispSize::D8) {
    out.bytes[out.len++] = static_cast<uint8_t>(d);
  } else if (ds == DispSize::D32) {
    for (int i = 0; i < 4; ++i)
      out.bytes[out.len++] = static_cast<uint8_t>(d >> (8 * i));
  }
  return out;
}

}  // namespace bpfdiff::jit::x86::enc
