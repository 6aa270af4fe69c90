// Zydis cross-check of the ALU, shift, flag and control-flow forms.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "tests/jit/x86_zydis_sweep.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using namespace testutil;
using enum Width;

// Plain structs, not pairs: clang 14 cannot capture structured bindings.
template <class Op>
struct OpCase {
  Op op;
  ZydisMnemonic mn;
};

constexpr std::array<OpCase<AluOp>, 8> kAluOps = {{
    {AluOp::Add, ZYDIS_MNEMONIC_ADD},
    {AluOp::Or, ZYDIS_MNEMONIC_OR},
    {AluOp::Adc, ZYDIS_MNEMONIC_ADC},
    {AluOp::Sbb, ZYDIS_MNEMONIC_SBB},
    {AluOp::And, ZYDIS_MNEMONIC_AND},
    {AluOp::Sub, ZYDIS_MNEMONIC_SUB},
    {AluOp::Xor, ZYDIS_MNEMONIC_XOR},
    {AluOp::Cmp, ZYDIS_MNEMONIC_CMP},
}};

constexpr std::array<OpCase<ShiftOp>, 5> kShiftOps = {{
    {ShiftOp::Rol, ZYDIS_MNEMONIC_ROL},
    {ShiftOp::Ror, ZYDIS_MNEMONIC_ROR},
    {ShiftOp::Shl, ZYDIS_MNEMONIC_SHL},
    {ShiftOp::Shr, ZYDIS_MNEMONIC_SHR},
    {ShiftOp::Sar, ZYDIS_MNEMONIC_SAR},
}};

// Indexed by the condition nibble; Zydis spells e/ne as z/nz and ae/a/ge/g
// as nb/nbe/nl/nle.
constexpr std::array<ZydisMnemonic, 16> kJcc = {
    ZYDIS_MNEMONIC_JO, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JB,  ZYDIS_MNEMONIC_JNB,
    ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_JNZ, ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JNBE,
    ZYDIS_MNEMONIC_JS, ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JP,  ZYDIS_MNEMONIC_JNP,
    ZYDIS_MNEMONIC_JL, ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JNLE};
constexpr std::array<ZydisMnemonic, 16> kCmov = {
    ZYDIS_MNEMONIC_CMOVO, ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVB,  ZYDIS_MNEMONIC_CMOVNB,
    ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVNZ, ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVNBE,
    ZYDIS_MNEMONIC_CMOVS, ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVP,  ZYDIS_MNEMONIC_CMOVNP,
    ZYDIS_MNEMONIC_CMOVL, ZYDIS_MNEMONIC_CMOVNL, ZYDIS_MNEMONIC_CMOVLE, ZYDIS_MNEMONIC_CMOVNLE};
constexpr std::array<ZydisMnemonic, 16> kSet = {
    ZYDIS_MNEMONIC_SETO, ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETB,  ZYDIS_MNEMONIC_SETNB,
    ZYDIS_MNEMONIC_SETZ, ZYDIS_MNEMONIC_SETNZ, ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETNBE,
    ZYDIS_MNEMONIC_SETS, ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETP,  ZYDIS_MNEMONIC_SETNP,
    ZYDIS_MNEMONIC_SETL, ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETLE, ZYDIS_MNEMONIC_SETNLE};

TEST(X86ZydisAlu, RegRegEveryOpWidthAndRegisterPair) {
  Sweep s;
  for (const auto& c : kAluOps)
    for (Width w : kAllWidths)
      for (Reg d : all_regs())
        for (Reg r : all_regs())
          s.check([&](Assembler& a) { a.alu(c.op, w, d, r); }, {c.mn, {reg_op(d, w), reg_op(r, w)}});
  for (Width w : kAllWidths)
    for (Reg d : all_regs())
      for (Reg r : all_regs())
        s.check([&](Assembler& a) { a.test(w, d, r); }, {ZYDIS_MNEMONIC_TEST, {reg_op(d, w), reg_op(r, w)}});
  s.expect_clean(9 * 4 * 256);
}

TEST(X86ZydisAlu, RegImmediateShortAndLongForms) {
  Sweep s;
  const std::array<int32_t, 11> wide = {0,    1,      -1,      127,       -128,     128,
                                        -129, 0x1234, -0x8000, INT32_MAX, INT32_MIN};
  const std::array<int32_t, 6> narrow16 = {0, 1, -1, 128, 0x7fff, 0xffff};
  const std::array<int32_t, 5> narrow8 = {0, 1, -1, 0x7f, 0xff};
  for (Width w : kAllWidths) {
    std::vector<int32_t> imms;
    if (w == W8) imms.assign(narrow8.begin(), narrow8.end());
    if (w == W16) imms.assign(narrow16.begin(), narrow16.end());
    if (w == W32 || w == W64) imms.assign(wide.begin(), wide.end());
    for (Reg r : all_regs())
      for (int32_t v : imms) {
        for (const auto& c : kAluOps)
          s.check([&](Assembler& a) { a.alu_imm(c.op, w, r, v); },
                  {c.mn, {reg_op(r, w), imm_op(v, bits_of(w))}});
        s.check([&](Assembler& a) { a.test_imm(w, r, v); },
                {ZYDIS_MNEMONIC_TEST, {reg_op(r, w), imm_op(v, bits_of(w))}});
      }
  }
  s.expect_clean(16 * 9 * (5 + 6 + 11 + 11));
}

TEST(X86ZydisAlu, RegMemAndMemImmediate) {
  Sweep s;
  const auto shapes = mem_shapes();
  std::size_t n = 0;
  for (const auto& c : kAluOps)
    for (Width w : kAllWidths)
      for (const Mem& m : shapes) {
        for (Reg r : all_regs()) {
          s.check([&](Assembler& a) { a.alu(c.op, w, r, m); }, {c.mn, {reg_op(r, w), mem_op(m, w)}});
          ++n;
        }
        const int32_t v = w == W8 ? 0x7f : -5;
        s.check([&](Assembler& a) { a.alu_imm(c.op, w, m, v); },
                {c.mn, {mem_op(m, w), imm_op(v, bits_of(w))}});
        ++n;
      }
  s.expect_clean(n);
}

TEST(X86ZydisAlu, MultiplyAndDivide) {
  Sweep s;
  const auto shapes = mem_shapes();
  for (Width w : kWideWidths) {
    for (Reg d : all_regs())
      for (Reg r : all_regs()) {
        s.check([&](Assembler& a) { a.imul(w, d, r); }, {ZYDIS_MNEMONIC_IMUL, {reg_op(d, w), reg_op(r, w)}});
        for (int32_t v : {3, -128, 128, INT32_MIN})
          s.check([&](Assembler& a) { a.imul_imm(w, d, r, v); },
                  {ZYDIS_MNEMONIC_IMUL, {reg_op(d, w), reg_op(r, w), imm_op(v, bits_of(w))}});
      }
    for (Reg r : all_regs()) {
      s.check([&](Assembler& a) { a.mul(w, r); }, {ZYDIS_MNEMONIC_MUL, {reg_op(r, w)}});
      s.check([&](Assembler& a) { a.div(w, r); }, {ZYDIS_MNEMONIC_DIV, {reg_op(r, w)}});
      s.check([&](Assembler& a) { a.idiv(w, r); }, {ZYDIS_MNEMONIC_IDIV, {reg_op(r, w)}});
    }
    for (const Mem& m : shapes) {
      s.check([&](Assembler& a) { a.mul(w, m); }, {ZYDIS_MNEMONIC_MUL, {mem_op(m, w)}});
      s.check([&](Assembler& a) { a.div(w, m); }, {ZYDIS_MNEMONIC_DIV, {mem_op(m, w)}});
      s.check([&](Assembler& a) { a.idiv(w, m); }, {ZYDIS_MNEMONIC_IDIV, {mem_op(m, w)}});
    }
  }
  s.check([](Assembler& a) { a.cdq(); }, {ZYDIS_MNEMONIC_CDQ, {}});
  s.check([](Assembler& a) { a.cqo(); }, {ZYDIS_MNEMONIC_CQO, {}});
  s.expect_clean(2 * (256 * 5 + 16 * 3 + 150 * 3) + 2);
}

TEST(X86ZydisAlu, NegNot) {
  Sweep s;
  for (Width w : kAllWidths)
    for (Reg r : all_regs()) {
      s.check([&](Assembler& a) { a.neg(w, r); }, {ZYDIS_MNEMONIC_NEG, {reg_op(r, w)}});
      s.check([&](Assembler& a) { a.not_(w, r); }, {ZYDIS_MNEMONIC_NOT, {reg_op(r, w)}});
    }
  s.expect_clean(4 * 16 * 2);
}

TEST(X86ZydisAlu, ShiftsByEveryLegalCountAndByCl) {
  Sweep s;
  for (const auto& c : kShiftOps)
    for (Width w : kAllWidths)
      for (Reg r : all_regs()) {
        for (unsigned count = 0; count < bits_of(w); ++count)
          s.check([&](Assembler& a) { a.shift_imm(c.op, w, r, static_cast<uint8_t>(count)); },
                  {c.mn, {reg_op(r, w), imm_op(count, 8)}});
        s.check([&](Assembler& a) { a.shift_cl(c.op, w, r); }, {c.mn, {reg_op(r, w), reg_op(Reg::rcx, W8)}});
      }
  s.expect_clean(5 * 16 * (8 + 16 + 32 + 64 + 4));
}

TEST(X86ZydisAlu, Bmi2ShiftsEveryRegisterTriple) {
  Sweep s;
  for (Width w : kWideWidths)
    for (Reg d : all_regs())
      for (Reg r : all_regs())
        for (Reg c : all_regs()) {
          const std::vector<ExpectedOperand> ops = {reg_op(d, w), reg_op(r, w), reg_op(c, w)};
          s.check([&](Assembler& a) { a.shlx(w, d, r, c); }, {ZYDIS_MNEMONIC_SHLX, ops});
          s.check([&](Assembler& a) { a.shrx(w, d, r, c); }, {ZYDIS_MNEMONIC_SHRX, ops});
          s.check([&](Assembler& a) { a.sarx(w, d, r, c); }, {ZYDIS_MNEMONIC_SARX, ops});
        }
  s.expect_clean(2 * 16 * 16 * 16 * 3);
}

TEST(X86ZydisAlu, Bswap) {
  Sweep s;
  for (Width w : kWideWidths)
    for (Reg r : all_regs())
      s.check([&](Assembler& a) { a.bswap(w, r); }, {ZYDIS_MNEMONIC_BSWAP, {reg_op(r, w)}});
  s.expect_clean(32);
}

TEST(X86ZydisAlu, CmovAndSetccEveryCondition) {
  Sweep s;
  for (Cond c : all_conds()) {
    const auto i = static_cast<size_t>(c);
    for (Width w : {W16, W32, W64})
      for (Reg d : all_regs())
        for (Reg r : all_regs())
          s.check([&](Assembler& a) { a.cmov(c, w, d, r); }, {kCmov[i], {reg_op(d, w), reg_op(r, w)}});
    for (Reg r : all_regs())
      s.check([&](Assembler& a) { a.setcc(c, r); }, {kSet[i], {reg_op(r, W8)}});
  }
  s.expect_clean(16 * (3 * 256 + 16));
}

TEST(X86ZydisAlu, JumpsAndCalls) {
  Sweep s;
  for (Cond c : all_conds()) {
    const auto i = static_cast<size_t>(c);
    for (int32_t d : {0, 1, -2, 127, -128})
      s.check([&](Assembler& a) { a.jcc(c, JumpSize::Short, d); }, {kJcc[i], {rel_op(d)}});
    for (int32_t d : {0, 1, -6, 128, -129, INT32_MAX, INT32_MIN})
      s.check([&](Assembler& a) { a.jcc(c, JumpSize::Near, d); }, {kJcc[i], {rel_op(d)}});
  }
  for (int32_t d : {0, 1, -2, 127, -128})
    s.check([&](Assembler& a) { a.jmp(JumpSize::Short, d); }, {ZYDIS_MNEMONIC_JMP, {rel_op(d)}});
  for (int32_t d : {0, 1, -5, 128, -129, INT32_MAX, INT32_MIN}) {
    s.check([&](Assembler& a) { a.jmp(JumpSize::Near, d); }, {ZYDIS_MNEMONIC_JMP, {rel_op(d)}});
    s.check([&](Assembler& a) { a.call(d); }, {ZYDIS_MNEMONIC_CALL, {rel_op(d)}});
  }
  for (Reg r : all_regs()) {
    s.check([&](Assembler& a) { a.call(r); }, {ZYDIS_MNEMONIC_CALL, {reg_op(r, W64)}});
    s.check([&](Assembler& a) { a.jmp(r); }, {ZYDIS_MNEMONIC_JMP, {reg_op(r, W64)}});
    s.check([&](Assembler& a) { a.push(r); }, {ZYDIS_MNEMONIC_PUSH, {reg_op(r, W64)}});
    s.check([&](Assembler& a) { a.pop(r); }, {ZYDIS_MNEMONIC_POP, {reg_op(r, W64)}});
  }
  s.check([](Assembler& a) { a.ret(); }, {ZYDIS_MNEMONIC_RET, {}});
  s.check([](Assembler& a) { a.int3(); }, {ZYDIS_MNEMONIC_INT3, {}});
  s.check([](Assembler& a) { a.nop(); }, {ZYDIS_MNEMONIC_NOP, {}});
  s.check([](Assembler& a) { a.ud2(); }, {ZYDIS_MNEMONIC_UD2, {}});
  s.expect_clean(16 * 12 + 5 + 14 + 48 + 4);
}

TEST(X86ZydisAlu, JumpLengthHelpersMatchTheEncoder) {
  for (JumpSize size : {JumpSize::Short, JumpSize::Near}) {
    Assembler a;
    a.jmp(size, 0);
    EXPECT_EQ(a.size(), jmp_length(size));
    Assembler b;
    b.jcc(Cond::e, size, 0);
    EXPECT_EQ(b.size(), jcc_length(size));
  }
  Assembler c;
  c.call(0);
  EXPECT_EQ(c.size(), kCallRel32Length);
}

}  // namespace
}  // namespace bpfdiff::jit::x86
