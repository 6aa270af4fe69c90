// Zydis cross-check of the data-movement forms: every register, width and
// memory shape, decoded and compared operand by operand.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/jit/x86_zydis_sweep.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using namespace testutil;
using enum Width;

// Immediates that are interesting for an operand size, given as the int32
// the API takes; the low bits_of(w) bits must round-trip.
std::vector<int32_t> imms_for(Width w) {
  switch (w) {
    case W8:
      return {0, 1, 0x7f, -1, -128, 200};
    case W16:
      return {0, 1, -1, 0x7fff, -32768, 0xffff};
    case W32:
    case W64:
      return {0, 1, -1, 127, 128, -129, INT32_MAX, INT32_MIN};
  }
  return {};
}

TEST(X86ZydisData, MovRegReg) {
  Sweep s;
  for (Width w : kAllWidths)
    for (Reg d : all_regs())
      for (Reg r : all_regs())
        s.check([&](Assembler& a) { a.mov(w, d, r); }, {ZYDIS_MNEMONIC_MOV, {reg_op(d, w), reg_op(r, w)}});
  s.expect_clean(4 * 16 * 16);
}

TEST(X86ZydisData, MovLoadStore) {
  Sweep s;
  for (Width w : kAllWidths)
    for (Reg r : all_regs())
      for (const Mem& m : mem_shapes()) {
        s.check([&](Assembler& a) { a.mov(w, r, m); }, {ZYDIS_MNEMONIC_MOV, {reg_op(r, w), mem_op(m, w)}});
        s.check([&](Assembler& a) { a.mov(w, m, r); }, {ZYDIS_MNEMONIC_MOV, {mem_op(m, w), reg_op(r, w)}});
      }
  s.expect_clean(2 * 4 * 16 * 150);
}

TEST(X86ZydisData, MovImmediateToRegister) {
  Sweep s;
  for (Width w : kAllWidths)
    for (Reg r : all_regs())
      for (int32_t v : imms_for(w))
        s.check([&](Assembler& a) { a.mov_imm(w, r, v); },
                {ZYDIS_MNEMONIC_MOV, {reg_op(r, w), imm_op(v, bits_of(w))}});
  s.expect_clean(16 * 26);
}

TEST(X86ZydisData, MovImmediateToMemory) {
  Sweep s;
  for (Width w : kAllWidths)
    for (const Mem& m : mem_shapes())
      for (int32_t v : imms_for(w))
        s.check([&](Assembler& a) { a.mov_imm(w, m, v); },
                {ZYDIS_MNEMONIC_MOV, {mem_op(m, w), imm_op(v, bits_of(w))}});
  s.expect_clean(150 * 26);
}

TEST(X86ZydisData, Movabs) {
  Sweep s;
  for (Reg r : all_regs())
    for (uint64_t v :
         {uint64_t{0}, uint64_t{1}, ~uint64_t{0}, uint64_t{0x8000000000000000}, uint64_t{0x123456789abcdef0}})
      s.check([&](Assembler& a) { a.movabs(r, v); },
              {ZYDIS_MNEMONIC_MOV, {reg_op(r, W64), imm_op(static_cast<int64_t>(v), 64)}});
  s.expect_clean(16 * 5);
}

TEST(X86ZydisData, LoadImm64ProducesTheValueInEveryForm) {
  Sweep s;
  for (Reg r : all_regs())
    for (uint64_t v :
         {uint64_t{0}, uint64_t{42}, uint64_t{0x7fffffff}, uint64_t{0x80000000}, uint64_t{0xffffffff},
          uint64_t{0x100000000}, ~uint64_t{0}, uint64_t{0xffffffff80000000}, uint64_t{0xfffffffe00000000}}) {
      // A 32-bit destination zero-extends; a 64-bit one holds all 64 bits.
      const Width w = v <= 0xffffffff ? W32 : W64;
      s.check([&](Assembler& a) { a.load_imm64(r, v); },
              {ZYDIS_MNEMONIC_MOV, {reg_op(r, w), imm_op(static_cast<int64_t>(v), bits_of(w))}});
    }
  s.expect_clean(16 * 9);
}

TEST(X86ZydisData, ZeroAndSignExtension) {
  Sweep s;
  const auto shapes = mem_shapes();
  for (Reg d : all_regs())
    for (Reg r : all_regs())
      for (Width sw : {W8, W16}) {
        s.check([&](Assembler& a) { a.movzx(d, sw, r); },
                {ZYDIS_MNEMONIC_MOVZX, {reg_op(d, W32), reg_op(r, sw)}});
        for (Width dw : kWideWidths)
          s.check([&](Assembler& a) { a.movsx(dw, d, sw, r); },
                  {ZYDIS_MNEMONIC_MOVSX, {reg_op(d, dw), reg_op(r, sw)}});
      }
  for (Reg d : all_regs())
    for (Reg r : all_regs())
      s.check([&](Assembler& a) { a.movsx(W64, d, W32, r); },
              {ZYDIS_MNEMONIC_MOVSXD, {reg_op(d, W64), reg_op(r, W32)}});
  for (Reg d : all_regs())
    for (const Mem& m : shapes) {
      for (Width sw : {W8, W16}) {
        s.check([&](Assembler& a) { a.movzx(d, sw, m); },
                {ZYDIS_MNEMONIC_MOVZX, {reg_op(d, W32), mem_op(m, sw)}});
        for (Width dw : kWideWidths)
          s.check([&](Assembler& a) { a.movsx(dw, d, sw, m); },
                  {ZYDIS_MNEMONIC_MOVSX, {reg_op(d, dw), mem_op(m, sw)}});
      }
      s.check([&](Assembler& a) { a.movsx(W64, d, W32, m); },
              {ZYDIS_MNEMONIC_MOVSXD, {reg_op(d, W64), mem_op(m, W32)}});
    }
  s.expect_clean(16 * 16 * 7 + 16 * 150 * 7);
}

TEST(X86ZydisData, LeaOverEveryBaseIndexScaleAndDisplacementSize) {
  Sweep s;
  for (Width w : kWideWidths)
    for (Reg d : all_regs())
      for (const Mem& m : mem_shapes())
        s.check([&](Assembler& a) { a.lea(w, d, m); }, {ZYDIS_MNEMONIC_LEA, {reg_op(d, w), agen_op(m)}});
  // The full cross product of base x index x scale x displacement size.
  for (Reg base : all_regs())
    for (Reg index : all_regs()) {
      if (index == Reg::rsp) continue;
      for (Scale sc : {Scale::S1, Scale::S2, Scale::S4, Scale::S8})
        for (int32_t disp : {0, 1, -1, 127, -128, 128, -129, INT32_MAX, INT32_MIN}) {
          const Mem m = mem(base, index, sc, disp);
          s.check([&](Assembler& a) { a.lea(W64, Reg::rdx, m); },
                  {ZYDIS_MNEMONIC_LEA, {reg_op(Reg::rdx, W64), agen_op(m)}});
        }
    }
  s.expect_clean(2 * 16 * 150 + 16 * 15 * 4 * 9);
}

TEST(X86ZydisData, ExchangeAndLockedReadModifyWrite) {
  Sweep s;
  struct LockCase {  // not a pair: clang 14 cannot capture structured bindings
    AluOp op;
    ZydisMnemonic mn;
  };
  const LockCase lockable[] = {{AluOp::Add, ZYDIS_MNEMONIC_ADD},
                               {AluOp::Or, ZYDIS_MNEMONIC_OR},
                               {AluOp::And, ZYDIS_MNEMONIC_AND},
                               {AluOp::Xor, ZYDIS_MNEMONIC_XOR},
                               {AluOp::Sub, ZYDIS_MNEMONIC_SUB}};
  for (Width w : kAllWidths)
    for (Reg r : all_regs())
      for (const Mem& m : mem_shapes()) {
        const std::vector<ExpectedOperand> ops = {mem_op(m, w), reg_op(r, w)};
        s.check([&](Assembler& a) { a.xchg(w, m, r); }, {ZYDIS_MNEMONIC_XCHG, ops});
        s.check([&](Assembler& a) { a.lock_xadd(w, m, r); }, {ZYDIS_MNEMONIC_XADD, ops, true});
        s.check([&](Assembler& a) { a.lock_cmpxchg(w, m, r); }, {ZYDIS_MNEMONIC_CMPXCHG, ops, true});
        for (const auto& c : lockable)
          s.check([&](Assembler& a) { a.lock_alu(c.op, w, m, r); }, {c.mn, ops, true});
      }
  s.expect_clean(4 * 16 * 150 * 8);
}

}  // namespace
}  // namespace bpfdiff::jit::x86
