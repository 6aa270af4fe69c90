// Flag consumers (cmov, setcc), jumps, calls and the one-byte odds and ends.
#include "vm/jit/x86/assembler.hpp"
#include "vm/jit/x86/inst.hpp"
#include "vm/jit/x86/widths.hpp"

namespace bpfdiff::jit::x86 {

using detail::Inst;
using detail::o_form;
using detail::Prefix;
using detail::rm_form;
using detail::sized;

namespace {

constexpr uint8_t cc(Cond c) {
  return static_cast<uint8_t>(c);
}

Inst single(uint8_t b0) {
  Inst out;
  out.byte(b0);
  return out;
}

}  // namespace

void Assembler::cmov(Cond c, Width w, Reg dst, Reg src) {
  if (!require(w != Width::W8, "cmov", "width must be W16, W32 or W64")) return;
  put(rm_form(sized(w), {0x0F, static_cast<uint8_t>(0x40 + cc(c))}, enc::modrm_reg(number(dst), src)));
}

void Assembler::setcc(Cond c, Reg dst8) {
  if (!ok()) return;
  put(rm_form(sized(Width::W8, needs_rex_as_byte(dst8)), {0x0F, static_cast<uint8_t>(0x90 + cc(c))},
              enc::modrm_reg(0, dst8)));
}

void Assembler::jcc(Cond c, JumpSize size, int32_t disp) {
  Inst out;
  if (size == JumpSize::Short) {
    if (!require(enc::fits_int8(disp), "jcc", "short displacement does not fit int8")) return;
    out.byte(static_cast<uint8_t>(0x70 + cc(c)));
    out.imm_signed(disp, 1);
  } else {
    out.byte(0x0F);
    out.byte(static_cast<uint8_t>(0x80 + cc(c)));
    out.imm_signed(disp, 4);
  }
  put(out);
}

void Assembler::jmp(JumpSize size, int32_t disp) {
  Inst out;
  if (size == JumpSize::Short) {
    if (!require(enc::fits_int8(disp), "jmp", "short displacement does not fit int8")) return;
    out.byte(0xEB);
    out.imm_signed(disp, 1);
  } else {
    out.byte(0xE9);
    out.imm_signed(disp, 4);
  }
  put(out);
}

void Assembler::call(int32_t disp) {
  Inst out;
  out.byte(0xE8);
  out.imm_signed(disp, 4);
  put(out);
}

void Assembler::call(Reg target) {
  // Near indirect calls are 64-bit by default: no REX.W.
  put(rm_form(Prefix{}, {0xFF}, enc::modrm_reg(2, target)));
}

void Assembler::jmp(Reg target) {
  // Near indirect jumps are 64-bit by default: no REX.W.
  put(rm_form(Prefix{}, {0xFF}, enc::modrm_reg(4, target)));
}

void Assembler::push(Reg r) {
  put(o_form(Prefix{}, {}, 0x50, r));
}
void Assembler::pop(Reg r) {
  put(o_form(Prefix{}, {}, 0x58, r));
}
void Assembler::ret() {
  put(single(0xC3));
}
void Assembler::int3() {
  put(single(0xCC));
}
void Assembler::nop() {
  put(single(0x90));
}

void Assembler::fill_int3(size_t count) {
  if (!ok()) return;
  code_.insert(code_.end(), count, uint8_t{0xCC});
}

void Assembler::ud2() {
  Inst out;
  out.byte(0x0F);
  out.byte(0x0B);
  put(out);
}

}  // namespace bpfdiff::jit::x86
