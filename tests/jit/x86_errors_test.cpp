// The sticky error state: a rejected operation writes nothing, every later
// operation is a no-op, and error() keeps the first message.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "tests/jit/x86_test_util.hpp"
#include "vm/jit/x86/assembler.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using enum Reg;
using enum Width;

// Runs `bad` after one good instruction and checks the rejection.
template <class Bad>
void expect_rejected(Bad&& bad, const std::string& message) {
  Assembler a;
  a.nop();
  bad(a);
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.error(), message);
  EXPECT_EQ(testutil::to_hex(a.code()), "90") << "a rejected operation must not write";
}

TEST(X86Errors, InvalidOperandCombinationsAreRejected) {
  expect_rejected([](Assembler& a) { a.imul(W8, rax, rcx); }, "imul: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.imul(W16, rax, rcx); }, "imul: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.imul_imm(W8, rax, rcx, 3); }, "imul: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.bswap(W8, rax); }, "bswap: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.bswap(W16, rax); }, "bswap: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.mul(W8, rcx); }, "mul: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.div(W16, mem(rsp)); }, "div: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.idiv(W8, rcx); }, "idiv: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.shlx(W16, rax, rcx, rdx); }, "shlx: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.shrx(W8, rax, rcx, rdx); }, "shrx: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.sarx(W8, rax, rcx, rdx); }, "sarx: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.cmov(Cond::e, W8, rax, rcx); }, "cmov: width must be W16, W32 or W64");
  expect_rejected([](Assembler& a) { a.lea(W16, rax, mem(rcx)); }, "lea: width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.movzx(rax, W32, rcx); }, "movzx: source width must be W8 or W16");
  expect_rejected([](Assembler& a) { a.movzx(rax, W64, mem(rcx)); }, "movzx: source width must be W8 or W16");
  expect_rejected([](Assembler& a) { a.movsx(W16, rax, W8, rcx); },
                  "movsx: destination width must be W32 or W64");
  expect_rejected([](Assembler& a) { a.movsx(W32, rax, W32, rcx); },
                  "movsx: source must be narrower than the destination (W32 source needs W64 destination)");
  expect_rejected([](Assembler& a) { a.movsx(W64, rax, W64, mem(rcx)); },
                  "movsx: source must be narrower than the destination (W32 source needs W64 destination)");
  expect_rejected([](Assembler& a) { a.lock_alu(AluOp::Cmp, W64, mem(rdi), rax); },
                  "lock: cmp cannot take a lock prefix");
}

TEST(X86Errors, OutOfRangeImmediatesCountsAndDisplacementsAreRejected) {
  expect_rejected([](Assembler& a) { a.mov_imm(W8, rax, 256); },
                  "mov: immediate does not fit the operand size");
  expect_rejected([](Assembler& a) { a.mov_imm(W8, rax, -129); },
                  "mov: immediate does not fit the operand size");
  expect_rejected([](Assembler& a) { a.mov_imm(W16, mem(rax), 0x10000); },
                  "mov: immediate does not fit the operand size");
  expect_rejected([](Assembler& a) { a.alu_imm(AluOp::Add, W8, rax, 300); },
                  "alu: immediate does not fit the operand size");
  expect_rejected([](Assembler& a) { a.test_imm(W16, rax, -40000); },
                  "test: immediate does not fit the operand size");
  expect_rejected([](Assembler& a) { a.shl_imm(W64, rax, 64); },
                  "shift: count must be below the operand width");
  expect_rejected([](Assembler& a) { a.shr_imm(W32, rax, 32); },
                  "shift: count must be below the operand width");
  expect_rejected([](Assembler& a) { a.ror_imm(W16, rax, 16); },
                  "shift: count must be below the operand width");
  expect_rejected([](Assembler& a) { a.sar_imm(W8, rax, 8); },
                  "shift: count must be below the operand width");
  expect_rejected([](Assembler& a) { a.jmp(JumpSize::Short, 128); },
                  "jmp: short displacement does not fit int8");
  expect_rejected([](Assembler& a) { a.jcc(Cond::ne, JumpSize::Short, -129); },
                  "jcc: short displacement does not fit int8");
}

TEST(X86Errors, RspIsNotAnIndexRegister) {
  const Mem bad = mem(rax, rsp, Scale::S1, 0);
  expect_rejected([&](Assembler& a) { a.mov(W64, rcx, bad); }, "mov: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.mov(W64, bad, rcx); }, "mov: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.mov_imm(W32, bad, 1); }, "mov: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.movzx(rcx, W8, bad); }, "movzx: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.movsx(W64, rcx, W8, bad); },
                  "movsx: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.lea(W64, rcx, bad); }, "lea: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.mul(W64, bad); }, "mul: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.xchg(W64, bad, rcx); }, "xchg: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.lock_xadd(W64, bad, rcx); }, "xadd: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.lock_cmpxchg(W64, bad, rcx); },
                  "cmpxchg: rsp cannot be an index register");
  expect_rejected([&](Assembler& a) { a.lock_alu(AluOp::Add, W64, bad, rcx); },
                  "lock: rsp cannot be an index register");
}

TEST(X86Errors, ErrorIsStickyAndKeepsTheFirstMessage) {
  Assembler a;
  a.mov(W64, rax, rcx);
  a.push(rbx);
  const std::string before = testutil::to_hex(a.code());
  EXPECT_EQ(before, "4889c853");
  a.imul(W8, rax, rcx);
  a.bswap(W16, rdx);  // a second rejection must not replace the first message
  a.mov(W64, rax, rcx);
  a.movabs(rax, 1);
  a.jmp(JumpSize::Near, 0);
  a.call(rax);
  a.ret();
  a.fill_int3(16);
  a.fail("lowering: later failure");
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.error(), "imul: width must be W32 or W64");
  EXPECT_EQ(testutil::to_hex(a.code()), before);
  auto result = std::move(a).finish();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "imul: width must be W32 or W64");
}

TEST(X86Errors, FailRecordsACallersErrorAndFinishReturnsTheCode) {
  Assembler ok;
  ok.ret();
  auto code = std::move(ok).finish();
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(testutil::to_hex(*code), "c3");

  Assembler a;
  a.fail("lowering: unsupported opcode 0x8d at pc 3");
  a.ret();
  EXPECT_EQ(a.error(), "lowering: unsupported opcode 0x8d at pc 3");
  EXPECT_EQ(a.size(), 0u);
}

TEST(X86Errors, ShiftByRegisterHasNoCountOperandSoOnlyClIsExpressible) {
  // shift_cl(op, w, dst) takes no count register: "shift by rdx" cannot be
  // written. BMI2 shifts take any count register instead.
  EXPECT_BYTES("48d3e0", a.shl_cl(W64, rax));              // shl rax, cl
  EXPECT_BYTES("c4e2e9f7c1", a.shlx(W64, rax, rcx, rdx));  // shlx rax, rcx, rdx
}

}  // namespace
}  // namespace bpfdiff::jit::x86
