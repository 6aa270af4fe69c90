// Integer arithmetic, shifts, BMI2 shifts and byte swap.
#include <string_view>

#include "vm/jit/x86/assembler.hpp"
#include "vm/jit/x86/inst.hpp"
#include "vm/jit/x86/widths.hpp"

namespace bpfdiff::jit::x86 {

using detail::byte_rex;
using detail::imm_bytes;
using detail::imm_fits;
using detail::Inst;
using detail::is_w32_or_w64;
using detail::o_form;
using detail::rm_form;
using detail::sized;
using detail::sized_opcode;

namespace {

constexpr std::string_view kNeedW32OrW64 = "width must be W32 or W64";

constexpr uint8_t digit(AluOp op) {
  return static_cast<uint8_t>(op);
}
constexpr uint8_t digit(ShiftOp op) {
  return static_cast<uint8_t>(op);
}

}  // namespace

void Assembler::alu(AluOp op, Width w, Reg dst, Reg src) {
  if (!ok()) return;
  const auto opcode = static_cast<uint8_t>(8 * digit(op) + 1);
  put(rm_form(sized(w, byte_rex(w, dst) || byte_rex(w, src)), {sized_opcode(w, opcode)},
              enc::modrm_reg(number(src), dst)));
}

void Assembler::alu_imm(AluOp op, Width w, Reg dst, int32_t imm) {
  if (!require(imm_fits(w, imm), "alu", "immediate does not fit the operand size")) return;
  const auto rm = enc::modrm_reg(digit(op), dst);
  if (w == Width::W8) {
    Inst out = rm_form(sized(w, byte_rex(w, dst)), {0x80}, rm);
    out.imm_signed(imm, 1);
    put(out);
  } else if (enc::fits_int8(imm)) {
    Inst out = rm_form(sized(w), {0x83}, rm);
    out.imm_signed(imm, 1);
    put(out);
  } else {
    Inst out = rm_form(sized(w), {0x81}, rm);
    out.imm_signed(imm, imm_bytes(w));
    put(out);
  }
}

void Assembler::alu(AluOp op, Width w, Reg dst, const Mem& src) {
  if (!check_mem("alu", src)) return;
  const auto opcode = static_cast<uint8_t>(8 * digit(op) + 3);
  put(rm_form(sized(w, byte_rex(w, dst)), {sized_opcode(w, opcode)}, enc::modrm_mem(number(dst), src)));
}

void Assembler::alu_imm(AluOp op, Width w, const Mem& dst, int32_t imm) {
  if (!check_mem("alu", dst) ||
      !require(imm_fits(w, imm), "alu", "immediate does not fit the operand size")) {
    return;
  }
  const auto rm = enc::modrm_mem(digit(op), dst);
  if (w == Width::W8) {
    Inst out = rm_form(sized(w), {0x80}, rm);
    out.imm_signed(imm, 1);
    put(out);
  } else if (enc::fits_int8(imm)) {
    Inst out = rm_form(sized(w), {0x83}, rm);
    out.imm_signed(imm, 1);
    put(out);
  } else {
    Inst out = rm_form(sized(w), {0x81}, rm);
    out.imm_signed(imm, imm_bytes(w));
    put(out);
  }
}

void Assembler::test(Width w, Reg lhs, Reg rhs) {
  if (!ok()) return;
  put(rm_form(sized(w, byte_rex(w, lhs) || byte_rex(w, rhs)), {sized_opcode(w, 0x85)},
              enc::modrm_reg(number(rhs), lhs)));
}

void Assembler::test_imm(Width w, Reg lhs, int32_t imm) {
  if (!require(imm_fits(w, imm), "test", "immediate does not fit the operand size")) return;
  Inst out = rm_form(sized(w, byte_rex(w, lhs)), {sized_opcode(w, 0xF7)}, enc::modrm_reg(0, lhs));
  out.imm_signed(imm, imm_bytes(w));
  put(out);
}

void Assembler::imul(Width w, Reg dst, Reg src) {
  if (!require(is_w32_or_w64(w), "imul", kNeedW32OrW64)) return;
  put(rm_form(sized(w), {0x0F, 0xAF}, enc::modrm_reg(number(dst), src)));
}

void Assembler::imul_imm(Width w, Reg dst, Reg src, int32_t imm) {
  if (!require(is_w32_or_w64(w), "imul", kNeedW32OrW64)) return;
  const bool short_imm = enc::fits_int8(imm);
  Inst out = rm_form(sized(w), {short_imm ? uint8_t{0x6B} : uint8_t{0x69}}, enc::modrm_reg(number(dst), src));
  out.imm_signed(imm, short_imm ? 1 : 4);
  put(out);
}

namespace {

// The F7 group: /2 not, /3 neg, /4 mul, /6 div, /7 idiv.
constexpr uint8_t kNot = 2, kNeg = 3, kMul = 4, kDiv = 6, kIdiv = 7;

}  // namespace

void Assembler::mul(Width w, Reg src) {
  if (!require(is_w32_or_w64(w), "mul", kNeedW32OrW64)) return;
  put(rm_form(sized(w), {0xF7}, enc::modrm_reg(kMul, src)));
}

void Assembler::mul(Width w, const Mem& src) {
  if (!check_mem("mul", src) || !require(is_w32_or_w64(w), "mul", kNeedW32OrW64)) return;
  put(rm_form(sized(w), {0xF7}, enc::modrm_mem(kMul, src)));
}

void Assembler::div(Width w, Reg src) {
  if (!require(is_w32_or_w64(w), "div", kNeedW32OrW64)) return;
  put(rm_form(sized(w), {0xF7}, enc::modrm_reg(kDiv, src)));
}

void Assembler::div(Width w, const Mem& src) {
  if (!check_mem("div", src) || !require(is_w32_or_w64(w), "div", kNeedW32OrW64)) return;
  put(rm_form(sized(w), {0xF7}, enc::modrm_mem(kDiv, src)));
}

void Assembler::idiv(Width w, Reg src) {
  if (!require(is_w32_or_w64(w), "idiv", kNeedW32OrW64)) return;
  put(rm_form(sized(w), {0xF7}, enc::modrm_reg(kIdiv, src)));
}

void Assembler::idiv(Width w, const Mem& src) {
  if (!check_mem("idiv", src) || !require(is_w32_or_w64(w), "idiv", kNeedW32OrW64)) return;
  put(rm_form(sized(w), {0xF7}, enc::modrm_mem(kIdiv, src)));
}

void Assembler::neg(Width w, Reg dst) {
  if (!ok()) return;
  put(rm_form(sized(w, byte_rex(w, dst)), {sized_opcode(w, 0xF7)}, enc::modrm_reg(kNeg, dst)));
}

void Assembler::not_(Width w, Reg dst) {
  if (!ok()) return;
  put(rm_form(sized(w, byte_rex(w, dst)), {sized_opcode(w, 0xF7)}, enc::modrm_reg(kNot, dst)));
}

void Assembler::cdq() {
  if (!ok()) return;
  Inst out;
  out.byte(0x99);
  put(out);
}

void Assembler::cqo() {
  if (!ok()) return;
  Inst out;
  out.byte(enc::rex(true, false, false, false));
  out.byte(0x99);
  put(out);
}

void Assembler::shift_imm(ShiftOp op, Width w, Reg dst, uint8_t count) {
  // The CPU masks the count to 5 (6) bits; a count past the width is a bug
  // in the caller, not something to encode silently.
  if (!require(count < bits_of(w), "shift", "count must be below the operand width")) return;
  Inst out = rm_form(sized(w, byte_rex(w, dst)), {sized_opcode(w, 0xC1)}, enc::modrm_reg(digit(op), dst));
  out.byte(count);
  put(out);
}

void Assembler::shift_cl(ShiftOp op, Width w, Reg dst) {
  if (!ok()) return;
  put(rm_form(sized(w, byte_rex(w, dst)), {sized_opcode(w, 0xD3)}, enc::modrm_reg(digit(op), dst)));
}

namespace {

// VEX pp field: the implied legacy prefix that selects shlx / sarx / shrx.
constexpr uint8_t kPp66 = 1, kPpF3 = 2, kPpF2 = 3;

// VEX.LZ.pp.0F38.W F7 /r: three-byte VEX (map 0F38 has no two-byte form),
// ModRM.reg = dst, ModRM.rm = src, VEX.vvvv = count.
Inst bmi2_shift(uint8_t pp, Width w, Reg dst, Reg src, Reg count) {
  const auto rm = enc::modrm_reg(number(dst), src);
  Inst out;
  out.byte(0xC4);
  // R, X, B are stored inverted; mmmmm = 00010 selects the 0F38 map.
  out.byte(
      static_cast<uint8_t>((rm.rex_r ? 0 : 0x80) | (rm.rex_x ? 0 : 0x40) | (rm.rex_b ? 0 : 0x20) | 0x02));
  const auto vvvv = static_cast<uint8_t>(~number(count) & 0xF);
  out.byte(static_cast<uint8_t>((w == Width::W64 ? 0x80 : 0) | (vvvv << 3) | pp));  // L = 0
  out.byte(0xF7);
  for (uint8_t i = 0; i < rm.len; ++i)
    out.byte(rm.bytes[i]);
  return out;
}

}  // namespace

void Assembler::shlx(Width w, Reg dst, Reg src, Reg count) {
  if (!require(is_w32_or_w64(w), "shlx", kNeedW32OrW64)) return;
  put(bmi2_shift(kPp66, w, dst, src, count));
}

void Assembler::shrx(Width w, Reg dst, Reg src, Reg count) {
  if (!require(is_w32_or_w64(w), "shrx", kNeedW32OrW64)) return;
  put(bmi2_shift(kPpF2, w, dst, src, count));
}

void Assembler::sarx(Width w, Reg dst, Reg src, Reg count) {
  if (!require(is_w32_or_w64(w), "sarx", kNeedW32OrW64)) return;
  put(bmi2_shift(kPpF3, w, dst, src, count));
}

void Assembler::bswap(Width w, Reg dst) {
  // bswap with a 16-bit operand is undefined; ror r16, 8 does that job.
  if (!require(is_w32_or_w64(w), "bswap", kNeedW32OrW64)) return;
  put(o_form(sized(w), {0x0F}, 0xC8, dst));
}

}  // namespace bpfdiff::jit::x86
