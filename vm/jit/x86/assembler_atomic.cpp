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

Prefix rmw_prefix(Width w, Reg src, bool lock) {
  Prefix p = sized(w, byte_rex(w, src));
  p.lock = lock;
  return p;
}

}  // namespace

void Assembler::xchg(Width w, const Mem& dst, Reg src) {
  if (!check_mem("xchg", dst)) return;
  // xchg with memory asserts LOCK by itself; a prefix would be redundant.
  put(rm_form(sized(w, byte_rex(w, src)), {sized_opcode(w, 0x87)}, enc::modrm_mem(number(src), dst)));
}

void Assembler::emit_xadd(Width w, const Mem& dst, Reg src, bool lock) {
  if (!check_mem("xadd", dst)) return;
  put(rm_form(rmw_prefix(w, src, lock), {0x0F, sized_opcode(w, 0xC1)}, enc::modrm_mem(number(src), dst)));
}

void Assembler::emit_cmpxchg(Width w, const Mem& dst, Reg src, bool lock) {
  if (!check_mem("cmpxchg", dst)) return;
  put(rm_form(rmw_prefix(w, src, lock), {0x0F, sized_opcode(w, 0xB1)}, enc::modrm_mem(number(src), dst)));
}

void Assembler::emit_alu_to_mem(AluOp op, Width w, const Mem& dst, Reg src, bool lock) {
  const char* what = lock ? "lock" : "alu";
  const char* why = lock ? "cmp cannot take a lock prefix" : "cmp has no memory-destination form here";
  if (!check_mem(what, dst) || !require(op != AluOp::Cmp, what, why)) return;
  const auto opcode = static_cast<uint8_t>(8 * static_cast<uint8_t>(op) + 1);
  put(rm_form(rmw_prefix(w, src, lock), {sized_opcode(w, opcode)}, enc::modrm_mem(number(src), dst)));
}

}  // namespace bpfdiff::jit::x86
