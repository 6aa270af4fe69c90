// The x86 Z3 semantics against the CPU, instruction by instruction, on
// boundary and random states (oracle/smt/x86/quickcheck.hpp), for every
// mnemonic the semantics knows at each width it accepts; plus the parts that
// are not visible to a single run: #DE, branches, and that the check fails
// when model and bytes disagree.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "oracle/smt/x86/quickcheck.hpp"
#include "oracle/smt/x86/semantics.hpp"
#include "oracle/smt/x86/symexec.hpp"
#include "tests/smt/x86_test_util.hpp"

namespace bpfdiff::oracle::smt::x86 {
namespace {

using jit::x86::AluOp;
using jit::x86::Assembler;
using jit::x86::Cond;
using jit::x86::JumpSize;
using jit::x86::Reg;
using jit::x86::ShiftOp;
using jit::x86::Width;
using testutil::one;
using testutil::raw;
using enum jit::x86::Width;

constexpr unsigned kStates = 32;

// Registers that exercise REX.B/REX.R, the rsi/rdi byte registers and the
// implicit rax/rcx/rdx operands.
constexpr Reg kPairs[][2] = {{Reg::rax, Reg::rcx}, {Reg::rdx, Reg::rsi}, {Reg::rdi, Reg::r8},
                             {Reg::r11, Reg::rdx}, {Reg::r15, Reg::r15}, {Reg::rbx, Reg::r13}};

void expect_agrees(const Instruction& insn, unsigned seed = 1) {
  ASSERT_GT(insn.length, 0u) << "the instruction did not encode or decode";
  const auto states = states_for(insn, kStates, seed);
  auto report = quickcheck(insn, states);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_GT(report->compared + report->divide_errors, 0u);
  for (const std::string& m : report->mismatches)
    ADD_FAILURE() << m;
}

TEST(X86Semantics, MovesAndExtensionsAgreeWithTheCpu) {
  for (const auto& pair : kPairs) {
    const Reg d = pair[0];
    const Reg s = pair[1];
    for (Width w : {W32, W64}) {
      expect_agrees(one([&](Assembler& a) { a.mov(w, d, s); }));
      expect_agrees(one([&](Assembler& a) { a.mov_imm(w, d, -5); }));
      expect_agrees(one([&](Assembler& a) { a.mov_imm(w, d, 0x7fffffff); }));
      expect_agrees(one([&](Assembler& a) { a.movsx(w, d, W8, s); }));
      expect_agrees(one([&](Assembler& a) { a.movsx(w, d, W16, s); }));
    }
    expect_agrees(one([&](Assembler& a) { a.movsx(W64, d, W32, s); }));
    expect_agrees(one([&](Assembler& a) { a.movzx(d, W8, s); }));
    expect_agrees(one([&](Assembler& a) { a.movzx(d, W16, s); }));
    expect_agrees(one([&](Assembler& a) { a.mov(W16, d, s); }));
    expect_agrees(one([&](Assembler& a) { a.mov(W8, d, s); }));
    expect_agrees(one([&](Assembler& a) { a.movabs(d, 0x8000000000000001); }));
  }
}

TEST(X86Semantics, ArithmeticAndFlagsAgreeWithTheCpu) {
  const AluOp ops[] = {AluOp::Add, AluOp::Sub, AluOp::And, AluOp::Or, AluOp::Xor, AluOp::Cmp};
  for (const auto& pair : kPairs) {
    const Reg d = pair[0];
    const Reg s = pair[1];
    for (AluOp op : ops) {
      for (Width w : {W8, W16, W32, W64}) {
        expect_agrees(one([&](Assembler& a) { a.alu(op, w, d, s); }));
        expect_agrees(one([&](Assembler& a) { a.alu_imm(op, w, d, -1); }));
        expect_agrees(one([&](Assembler& a) { a.alu_imm(op, w, d, 0x55); }));
      }
      expect_agrees(one([&](Assembler& a) { a.alu_imm(op, W64, d, INT32_MIN); }));
      expect_agrees(one([&](Assembler& a) { a.alu_imm(op, W32, d, 0x12345678); }));
    }
    for (Width w : {W8, W16, W32, W64}) {
      expect_agrees(one([&](Assembler& a) { a.test(w, d, s); }));
      expect_agrees(one([&](Assembler& a) { a.neg(w, d); }));
      expect_agrees(one([&](Assembler& a) { a.not_(w, d); }));
    }
    expect_agrees(one([&](Assembler& a) { a.test_imm(W64, d, -2); }));
    expect_agrees(one([&](Assembler& a) { a.test_imm(W32, d, 0x80000000); }));
  }
}

TEST(X86Semantics, MultiplyDivideAndSignExtendAgreeWithTheCpu) {
  for (const auto& pair : kPairs) {
    const Reg d = pair[0];
    const Reg s = pair[1];
    for (Width w : {W32, W64}) {
      expect_agrees(one([&](Assembler& a) { a.imul(w, d, s); }));
      expect_agrees(one([&](Assembler& a) { a.imul_imm(w, d, s, -3); }));
      expect_agrees(one([&](Assembler& a) { a.imul_imm(w, d, d, 0x12345); }));
      expect_agrees(one([&](Assembler& a) { a.mul(w, s); }));
      expect_agrees(one([&](Assembler& a) { a.div(w, s); }));
      expect_agrees(one([&](Assembler& a) { a.idiv(w, s); }));
    }
  }
  expect_agrees(one([](Assembler& a) { a.cdq(); }));
  expect_agrees(one([](Assembler& a) { a.cqo(); }));
}

TEST(X86Semantics, ShiftsRotatesAndByteSwapsAgreeWithTheCpu) {
  const ShiftOp ops[] = {ShiftOp::Shl, ShiftOp::Shr, ShiftOp::Sar, ShiftOp::Rol, ShiftOp::Ror};
  for (const auto& pair : kPairs) {
    const Reg d = pair[0];
    const Reg s = pair[1];
    for (ShiftOp op : ops) {
      for (Width w : {W8, W16, W32, W64}) {
        expect_agrees(one([&](Assembler& a) { a.shift_cl(op, w, d); }));
        expect_agrees(one([&](Assembler& a) { a.shift_imm(op, w, d, 1); }));
        expect_agrees(
            one([&](Assembler& a) { a.shift_imm(op, w, d, static_cast<uint8_t>(bits_of(w) - 1)); }));
      }
      expect_agrees(one([&](Assembler& a) { a.shift_imm(op, W16, d, 8); }));
    }
    for (Width w : {W32, W64}) {
      expect_agrees(one([&](Assembler& a) { a.shlx(w, d, s, Reg::rcx); }));
      expect_agrees(one([&](Assembler& a) { a.shrx(w, d, d, s); }));
      expect_agrees(one([&](Assembler& a) { a.sarx(w, s, d, s); }));
      expect_agrees(one([&](Assembler& a) { a.bswap(w, d); }));
    }
  }
}

TEST(X86Semantics, ConditionsAgreeWithTheCpu) {
  for (uint8_t cc = 0; cc < 16; ++cc) {
    const auto c = static_cast<Cond>(cc);
    expect_agrees(one([&](Assembler& a) { a.jcc(c, JumpSize::Short, 16); }), cc);
    expect_agrees(one([&](Assembler& a) { a.jcc(c, JumpSize::Near, -300); }), cc);
    expect_agrees(one([&](Assembler& a) { a.cmov(c, W32, Reg::rdx, Reg::r9); }), cc);
    expect_agrees(one([&](Assembler& a) { a.cmov(c, W64, Reg::r14, Reg::rax); }), cc);
    expect_agrees(one([&](Assembler& a) { a.setcc(c, Reg::rsi); }), cc);
  }
  expect_agrees(one([](Assembler& a) { a.jmp(JumpSize::Short, 5); }));
  expect_agrees(one([](Assembler& a) { a.jmp(JumpSize::Near, 1000); }));
}

// Without a REX prefix, byte registers 4..7 are ah, ch, dh, bh: exactly the
// encoding slip the JIT proofs must see, so the semantics must get them right.
TEST(X86Semantics, HighByteRegistersAgreeWithTheCpu) {
  expect_agrees(raw({0x88, 0xce}));        // mov dh, cl
  expect_agrees(raw({0x0f, 0xbe, 0xc6}));  // movsx eax, dh
  expect_agrees(raw({0x00, 0xe3}));        // add bl, ah
  expect_agrees(raw({0x0f, 0xb6, 0xfd}));  // movzx edi, ch
  const Instruction insn = raw({0x0f, 0xbe, 0xc6});
  ASSERT_EQ(insn.operands.size(), 2u);
  EXPECT_TRUE(insn.operands[1].high_byte);
  EXPECT_EQ(insn.operands[1].reg, kRdx);
}

TEST(X86Semantics, DivideErrorIsPredictedAndRaisedByTheCpu) {
  NativeState by_zero;
  by_zero.gpr[kRax] = 7;
  by_zero.gpr[kRcx] = 0;
  NativeState overflow;
  overflow.gpr[kRax] = 0x8000000000000000;
  overflow.gpr[kRdx] = ~uint64_t{0};
  overflow.gpr[kRcx] = ~uint64_t{0};
  NativeState high_dividend;  // unsigned quotient does not fit: rdx >= divisor
  high_dividend.gpr[kRdx] = 5;
  high_dividend.gpr[kRcx] = 5;
  NativeState fine;
  fine.gpr[kRax] = 100;
  fine.gpr[kRcx] = 7;
  const Instruction div = one([](Assembler& a) { a.div(W64, Reg::rcx); });
  const Instruction idiv = one([](Assembler& a) { a.idiv(W64, Reg::rcx); });
  for (const Instruction* insn : {&div, &idiv}) {
    const std::vector<NativeState> faulting = {by_zero, insn == &div ? high_dividend : overflow};
    auto report = quickcheck(*insn, faulting, 2);
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(report->divide_errors, 2u) << insn->text;
    EXPECT_EQ(report->divide_errors_forked, 2u) << insn->text << ": the CPU did not raise #DE";
    EXPECT_TRUE(report->mismatches.empty());
    const std::vector<NativeState> ok = {fine};
    report = quickcheck(*insn, ok);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->compared, 1u);
    EXPECT_EQ(report->divide_errors, 0u);
  }
}

// The quickcheck can fail: the model of one instruction run against the
// bytes of another is caught on the first state that tells them apart.
TEST(X86Semantics, QuickcheckCatchesAModelThatDisagreesWithTheBytes) {
  Instruction add = one([](Assembler& a) { a.alu(AluOp::Add, W32, Reg::rax, Reg::rcx); });
  const Instruction sub = one([](Assembler& a) { a.alu(AluOp::Sub, W32, Reg::rax, Reg::rcx); });
  add.bytes = sub.bytes;
  auto report = quickcheck(add, boundary_states(8, 3));
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->mismatches.empty());
}

TEST(X86Semantics, UnmodelledInstructionsAreErrorsNotGuesses) {
  z3::context c;
  Machine m = Machine::symbolic(c);
  // imul rax, [rdi + 8]: memory operands only where the semantics reads them as memory.
  auto load = decode_one(std::vector<uint8_t>{0x48, 0x0f, 0xaf, 0x47, 0x08});
  ASSERT_TRUE(load.ok());
  auto result = execute(m, *load);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("memory"), std::string::npos) << result.error().message;
  auto push = decode_one(std::vector<uint8_t>{0xff, 0x30});  // push qword [rax]: only push reg64 is
  ASSERT_TRUE(push.ok());
  EXPECT_FALSE(execute(m, *push).ok());
}

TEST(X86Semantics, PushPopAndRealigningRspRestoreTheStack) {
  // The helper-call glue: push rax; mov r9, rsp; and rsp, -16; push r9; pop rsp; pop rbx.
  z3::context c;
  Machine m = Machine::symbolic(c);
  m.gpr[kRsp] = c.bv_val(uint64_t{0x7ffc12345678}, 64);  // concrete: the realignment then folds to constants
  const z3::expr rsp = m.gpr[kRsp];
  const z3::expr rax = m.gpr[kRax];
  for (const std::vector<uint8_t>& bytes :
       {std::vector<uint8_t>{0x50}, std::vector<uint8_t>{0x49, 0x89, 0xe1},
        std::vector<uint8_t>{0x48, 0x83, 0xe4, 0xf0}, std::vector<uint8_t>{0x41, 0x51},
        std::vector<uint8_t>{0x5c}, std::vector<uint8_t>{0x5b}}) {
    auto insn = decode_one(bytes);
    ASSERT_TRUE(insn.ok());
    auto done = execute(m, *insn);
    ASSERT_TRUE(done.ok()) << done.error().message;
  }
  z3::solver s(c);
  s.add(m.gpr[kRsp] != rsp || m.gpr[kRbx] != rax);
  EXPECT_EQ(s.check(), z3::unsat);
}

// Runs `code` from registers rdi = kBase, rsi = source, rax = accumulator on
// memory whose bytes at kBase.. are `bytes` (others arbitrary).
struct MemoryRun {
  z3::context c;
  Machine m = Machine::symbolic(c);
  static constexpr uint64_t kBase = 0x1000;
  z3::expr byte_at(uint64_t a) { return z3::select(m.memory, c.bv_val(a, 64)); }
  uint64_t value(const z3::expr& e) {
    uint64_t v = 0;
    e.simplify().is_numeral_u64(v);
    return v;
  }
  void run(const Instruction& insn, std::vector<uint8_t> bytes, uint64_t rsi, uint64_t rax) {
    m.gpr[kRdi] = c.bv_val(kBase, 64);
    m.gpr[kRsi] = c.bv_val(rsi, 64);
    m.gpr[kRax] = c.bv_val(rax, 64);
    for (std::size_t i = 0; i < bytes.size(); ++i)
      m.memory = z3::store(m.memory, c.bv_val(kBase + i, 64), c.bv_val(bytes[i], 8));
    ASSERT_TRUE(execute(m, insn).ok()) << insn.text;
  }
};

TEST(X86Semantics, MemoryOperandsLoadAndStoreLittleEndian) {
  {
    MemoryRun r;
    r.run(one([](Assembler& a) { a.mov(W32, Reg::rax, jit::x86::mem(Reg::rdi, 1)); }), {1, 2, 3, 4, 5}, 0,
          ~0ull);
    EXPECT_EQ(r.value(r.m.gpr[kRax]), 0x05040302u);  // zero-extended
  }
  {
    MemoryRun r;
    r.run(one([](Assembler& a) { a.mov(W16, jit::x86::mem(Reg::rdi, 2), Reg::rsi); }), {1, 2, 3, 4, 5},
          0xabcd, 0);
    EXPECT_EQ(r.value(r.byte_at(MemoryRun::kBase + 1)), 2u);
    EXPECT_EQ(r.value(r.byte_at(MemoryRun::kBase + 2)), 0xcdu);
    EXPECT_EQ(r.value(r.byte_at(MemoryRun::kBase + 3)), 0xabu);
    EXPECT_EQ(r.value(r.byte_at(MemoryRun::kBase + 4)), 5u);
  }
  {
    MemoryRun r;  // movsx from memory
    r.run(one([](Assembler& a) { a.movsx(W64, Reg::rax, W8, jit::x86::mem(Reg::rdi, 0)); }), {0x80}, 0, 0);
    EXPECT_EQ(r.value(r.m.gpr[kRax]), 0xffffffffffffff80ull);
  }
}

TEST(X86Semantics, XaddAndCmpxchgOnMemory) {
  {
    MemoryRun r;
    r.run(one([](Assembler& a) { a.xadd(W64, jit::x86::mem(Reg::rdi, 0), Reg::rsi); }),
          {5, 0, 0, 0, 0, 0, 0, 0}, 7, 0);
    EXPECT_EQ(r.value(r.m.gpr[kRsi]), 5u);
    EXPECT_EQ(r.value(r.byte_at(MemoryRun::kBase)), 12u);
  }
  {
    MemoryRun r;  // cmpxchg32 that fails: eax gets the memory value, zero-extended; memory kept
    r.run(one([](Assembler& a) { a.cmpxchg(W32, jit::x86::mem(Reg::rdi, 0), Reg::rsi); }), {9, 0, 0, 0}, 3,
          0xffffffff00000001ull);
    EXPECT_EQ(r.value(r.m.gpr[kRax]), 9u);
    EXPECT_EQ(r.value(r.byte_at(MemoryRun::kBase)), 9u);
  }
  {
    MemoryRun r;  // cmpxchg32 that succeeds: rax untouched, top half included; memory gets the source
    r.run(one([](Assembler& a) { a.cmpxchg(W32, jit::x86::mem(Reg::rdi, 0), Reg::rsi); }), {1, 0, 0, 0}, 3,
          0xffffffff00000001ull);
    EXPECT_EQ(r.value(r.m.gpr[kRax]), 0xffffffff00000001ull);
    EXPECT_EQ(r.value(r.byte_at(MemoryRun::kBase)), 3u);
  }
}

TEST(X86Symexec, ForwardBranchesForkIntoGuardedExits) {
  Assembler a;
  a.test(W64, Reg::rcx, Reg::rcx);
  a.jcc(Cond::e, JumpSize::Short, 5);  // to the second mov
  a.mov_imm(W32, Reg::rax, 1);         // 5 bytes
  a.mov_imm(W32, Reg::rax, 2);
  auto code = decode(a.code(), 100);
  ASSERT_TRUE(code.ok()) << code.error().message;
  const uint32_t end = 100 + static_cast<uint32_t>(a.size());
  z3::context c;
  auto exits = execute_range(*code, 100, end, Machine::symbolic(c));
  ASSERT_TRUE(exits.ok()) << exits.error().message;
  ASSERT_EQ(exits->size(), 2u);
  for (const PathExit& e : *exits) {
    EXPECT_EQ(e.target, end);
    z3::solver s(c);
    // On every path rax is 2, which contradicts nothing: prove it.
    s.add(e.condition && e.state.gpr[kRax] != c.bv_val(2, 64));
    EXPECT_EQ(s.check(), z3::unsat);
  }
  // A jump into the middle of an instruction is an error.
  Assembler bad;
  bad.jcc(Cond::e, JumpSize::Short, 1);
  bad.mov_imm(W32, Reg::rax, 1);
  auto bad_code = decode(bad.code());
  ASSERT_TRUE(bad_code.ok());
  EXPECT_FALSE(execute_range(*bad_code, 0, static_cast<uint32_t>(bad.size()), Machine::symbolic(c)).ok());
}

}  // namespace
}  // namespace bpfdiff::oracle::smt::x86
