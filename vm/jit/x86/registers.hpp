#pragma once
// The x86-64 vocabulary the encoder speaks: general-purpose registers,
// condition codes and operand sizes. Enumerator values are the hardware
// encodings, so the encoder never needs a lookup table.
#include <cstdint>
#include <string_view>

namespace bpfdiff::jit::x86 {

// Value = the 4-bit register number: bit 3 goes to REX.R/X/B, bits 0..2 to
// ModRM, SIB or the opcode.
enum class Reg : uint8_t { rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15 };

inline constexpr unsigned kRegCount = 16;

// Value = the condition nibble shared by Jcc (0F 80+cc), SETcc and CMOVcc.
enum class Cond : uint8_t { o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g };

inline constexpr unsigned kCondCount = 16;

// Operand size. W16 costs a 0x66 prefix, W64 a REX.W; W32 writes zero-extend
// to 64 bits, which is why the JIT uses W32 for every ALU32 result.
enum class Width : uint8_t { W8, W16, W32, W64 };

constexpr uint8_t low3(Reg r) {
  return static_cast<uint8_t>(r) & 7;
}
constexpr bool is_extended(Reg r) {
  return (static_cast<uint8_t>(r) & 8) != 0;
}
constexpr uint8_t number(Reg r) {
  return static_cast<uint8_t>(r);
}

// spl, bpl, sil and dil share their encodings with ah, ch, dh and bh; only
// the presence of a REX prefix selects the former, so the encoder always
// emits one when such a register is used as a byte operand.
constexpr bool needs_rex_as_byte(Reg r) {
  return number(r) >= 4 && number(r) <= 7;
}

constexpr Cond negate(Cond c) {
  return static_cast<Cond>(static_cast<uint8_t>(c) ^ 1);
}

constexpr unsigned bits_of(Width w) {
  switch (w) {
    case Width::W8:
      return 8;
    case Width::W16:
      return 16;
    case Width::W32:
      return 32;
    case Width::W64:
      return 64;
  }
  return 0;
}

// Intel names, for diagnostics and tests.
std::string_view name(Reg r, Width w = Width::W64);
std::string_view name(Cond c);
std::string_view name(Width w);

}  // namespace bpfdiff::jit::x86
