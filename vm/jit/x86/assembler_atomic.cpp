// Read-modify-write memory operations for BPF atomics.
#include "vm/jit/x86/assembler.hpp"
#include "vm/jit/x86/inst.hpp"
#include "vm/jit/x86/widths.hpp"

namespace bpfdiff::jit::x86 {

using detail::byte_rex;
using detail::Prefix;
using detail::rm_form;
using detail::sized;
using detail::sized_opcode;

namespace {

Prefix locked(Width w, Reg src) {
  Prefix p = sized(w, byte_rex(w, src));
  p.lock = true;
  return p;
}

}  // namespace

void Assembler::xchg(Width w, const Mem& dst, Reg src) {
  if (!check_mem("xchg", dst)) return;
  // xchg with memory asserts LOCK by itself; a prefix would be redundant.
  put(rm_form(sized(w, byte_rex(w, src)), {sized_opcode(w, 0x87)}, enc::modrm_mem(number(src), dst)));
}

void Assembler::lock_xadd(Width w, const Mem& dst, Reg src) {
  if (!check_mem("xadd", dst)) return;
  put(rm_form(locked(w, src), {0x0F, sized_opcode(w, 0xC1)}, enc::modrm_mem(number(src), dst)));
}

void Assembler::lock_cmpxchg(Width w, const Mem& dst, Reg src) {
  if (!check_mem("cmpxchg", dst)) return;
  put(rm_form(locked(w, src), {0x0F, sized_opcode(w, 0xB1)}, enc::modrm_mem(number(src), dst)));
}

void Assembler::lock_alu(AluOp op, Width w, const Mem& dst, Reg src) {
  if (!check_mem("lock", dst) || !require(op != AluOp::Cmp, "lock", "cmp cannot take a lock prefix")) return;
  const auto opcode = static_cast<uint8_t>(8 * static_cast<uint8_t>(op) + 1);
  put(rm_form(locked(w, src), {sized_opcode(w, opcode)}, enc::modrm_mem(number(src), dst)));
}

}  // namespace bpfdiff::jit::x86
