// The JIT proofs can fail: code with a planted bug, written here as a
// test-only variant of a real lowering, must be refuted with a counterexample
// that is real twice over -- the .data test it prints passes on the
// interpreter (the model's result is the right one), and the planted code,
// run natively from the counterexample's registers, does something else.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "oracle/smt/jit_proof.hpp"
#include "oracle/smt/x86/machine.hpp"
#include "oracle/smt/x86/native_runner.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/jit/x86/assembler.hpp"
#include "vm/program/validate.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::oracle::smt {
namespace {

using jit::x86::Assembler;
using jit::x86::Cond;
using jit::x86::JumpSize;
using jit::x86::Reg;
using enum jit::x86::Width;

constexpr int32_t kTargetDistance = 16;

// A snippet whose code is whatever `emit` writes; a jump's target lies
// kTargetDistance bytes past its end (where a final rel32 jcc of distance
// kTargetDistance lands).
JitSnippet planted(const std::function<void(Assembler&)>& emit, bool jump) {
  Assembler a;
  emit(a);
  JitSnippet s;
  s.code = a.code();
  s.end = static_cast<uint32_t>(s.code.size());
  s.target = jump ? s.end + kTargetDistance : s.end;
  auto insns = x86::decode(s.code, 0);
  if (a.ok() && insns) s.insns = std::move(insns).value();
  return s;
}

JitCase make_case(isa::Form form, uint8_t dst, uint8_t src, bool bmi2 = true) {
  JitCase c;
  c.form = form;
  c.dst = dst;
  c.src = src;
  c.options.bmi2 = bmi2;
  return c;
}

// Runs the counterexample's .data test on the interpreter: it must pass.
// Returns the expected r0.
uint64_t expect_data_test_passes(const JitProof& p) {
  auto test = text::parse_data_test(p.data_test);
  EXPECT_TRUE(test.ok()) << p.data_test;
  if (!test.ok() || !test->result) return 0;
  auto program = text::assemble(test->asm_source);
  EXPECT_TRUE(program.ok()) << (program.ok() ? "" : program.error().message) << "\n" << p.data_test;
  if (!program.ok()) return 0;
  const vm::HelperRegistry helpers;
  auto loaded = vm::validate(*program, helpers);
  EXPECT_TRUE(loaded.ok()) << p.data_test;
  if (!loaded.ok()) return 0;
  vm::Interpreter interp(*loaded, helpers);
  const vm::RunResult r = interp.run({});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.r0(), *test->result) << "the interpreter disagrees with the model on\n" << p.data_test;
  return *test->result;
}

x86::NativeState native_inputs(const JitProof& p) {
  x86::NativeState s;
  s.gpr = p.inputs;
  return s;
}

JitProof refute(const JitCase& c, const JitSnippet& s, const std::string& obligation) {
  EXPECT_FALSE(s.insns.empty());
  const JitProof p = prove_snippet(c, s);
  EXPECT_EQ(p.verdict, JitProof::Verdict::Counterexample) << describe(c) << ": " << p.detail;
  EXPECT_NE(p.detail.find(obligation), std::string::npos) << p.detail;
  EXPECT_NE(p.data_test.find("-- asm"), std::string::npos);
  return p;
}

TEST(JitPlantedBug, MissingThirtyTwoBitTruncationIsRefuted) {
  // add32 r4, r3 lowered with a 64-bit add: the upper half survives.
  const JitCase c = make_case(isa::Form::add32_reg, 4, 3);
  const JitSnippet s =
      planted([](Assembler& a) { a.alu(jit::x86::AluOp::Add, W64, Reg::rcx, Reg::rdx); }, false);
  const JitProof p = refute(c, s, "r4 equals the model's result");
  const uint64_t expected = expect_data_test_passes(p);
  auto runner = x86::NativeRunner::create(s.insns);
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  EXPECT_NE(runner->run(native_inputs(p)).gpr[x86::kRcx], expected);
}

TEST(JitPlantedBug, ShiftThatForgetsToRestoreRcxBreaksTheFrameCondition) {
  // lsh r0, r3 without BMI2: the count goes through cl, but rcx (BPF r4) is
  // never restored.
  const JitCase c = make_case(isa::Form::lsh_reg, 0, 3, false);
  const JitSnippet s = planted(
      [](Assembler& a) {
        a.mov(W64, Reg::r11, Reg::rcx);
        a.mov(W64, Reg::rcx, Reg::rdx);
        a.shift_cl(jit::x86::ShiftOp::Shl, W64, Reg::rax);
      },
      false);
  const JitProof p = refute(c, s, "r4 (rcx) keeps its value");
  const uint64_t expected = expect_data_test_passes(p);  // the .data prints r4
  EXPECT_EQ(expected, p.inputs[x86::kRcx]);
  auto runner = x86::NativeRunner::create(s.insns);
  ASSERT_TRUE(runner.ok());
  EXPECT_NE(runner->run(native_inputs(p)).gpr[x86::kRcx], expected);
}

TEST(JitPlantedBug, UnguardedDivisionIsRefutedWithADivideError) {
  // div r0, r3 without the zero guard: #DE when r3 is 0.
  const JitCase c = make_case(isa::Form::div_reg, 0, 3);
  const JitSnippet s = planted(
      [](Assembler& a) {
        a.mov(W64, Reg::r11, Reg::rdx);
        a.push(Reg::rdx);
        a.mov_imm(W32, Reg::rdx, 0);
        a.div(W64, Reg::r11);
        a.pop(Reg::rdx);
      },
      false);
  const JitProof p = refute(c, s, "#DE");
  expect_data_test_passes(p);
  auto runner = x86::NativeRunner::create(s.insns);
  ASSERT_TRUE(runner.ok());
  EXPECT_TRUE(runner->faults_in_child(native_inputs(p)));
}

TEST(JitPlantedBug, SignedJumpComparedUnsignedIsRefuted) {
  // jsgt32 r4, r3 with an unsigned condition code (the bug the fuzzers were
  // shown to catch in README's "Fuzzing").
  const JitCase c = make_case(isa::Form::jsgt32_reg, 4, 3);
  const JitSnippet s = planted(
      [](Assembler& a) {
        a.cmp(W32, Reg::rcx, Reg::rdx);
        a.jcc(Cond::a, JumpSize::Near, kTargetDistance);
      },
      true);
  const JitProof p = refute(c, s, "branch");
  EXPECT_EQ(expect_data_test_passes(p), p.branch_taken ? 1u : 0u);
  auto runner = x86::NativeRunner::create(s.insns);
  ASSERT_TRUE(runner.ok());
  EXPECT_NE(runner->run(native_inputs(p)).taken != 0, p.branch_taken);
}

TEST(JitPlantedBug, ByteRegisterWithoutRexIsRefuted) {
  // movsx832 r0, r2 (eax <- sil) encoded without the REX prefix that makes
  // byte register 6 mean sil: the CPU reads dh.
  const JitCase c = make_case(isa::Form::movsx832, 0, 2);
  const JitSnippet s = planted([](Assembler&) {}, false);
  JitSnippet bad = s;
  bad.code = {0x0f, 0xbe, 0xc6};  // movsx eax, dh
  bad.end = 3;
  bad.target = 3;
  auto insns = x86::decode(bad.code, 0);
  ASSERT_TRUE(insns.ok());
  bad.insns = *insns;
  const JitProof p = refute(c, bad, "r0 equals the model's result");
  const uint64_t expected = expect_data_test_passes(p);
  auto runner = x86::NativeRunner::create(bad.insns);
  ASSERT_TRUE(runner.ok());
  EXPECT_NE(runner->run(native_inputs(p)).gpr[x86::kRax], expected);
}

TEST(JitPlantedBug, TheRealLoweringsOfThoseFormsAreProved) {
  for (const JitCase& c : {make_case(isa::Form::add32_reg, 4, 3), make_case(isa::Form::lsh_reg, 0, 3, false),
                           make_case(isa::Form::div_reg, 0, 3), make_case(isa::Form::jsgt32_reg, 4, 3),
                           make_case(isa::Form::movsx832, 0, 2)}) {
    const JitProof p = prove_jit_case(c);
    EXPECT_EQ(p.verdict, JitProof::Verdict::Proved) << describe(c) << ": " << p.detail;
  }
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
