// The interpreter check: the interpreter's own semantic templates, lifted,
// are proved equal to the model for every form; and the check can fail --
// planted wrong semantics (written like semantics_impl.hpp, as templates over
// the value domain) yield counterexamples whose .data test reproduces the
// disagreement.
#include "oracle/smt/interp_check.hpp"

#include <gtest/gtest.h>

#include <string>

#include "oracle/engine.hpp"
#include "oracle/smt/bpf_model.hpp"
#include "vm/runtime/semantics_impl.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::oracle::smt {
namespace {

using isa::Form;
using vm::sem::NativeDomain;

TEST(InterpCheck, ProvesEveryModelledForm) {
  InterpCheck check;
  std::size_t proved = 0;
  for (Form f : covered_forms()) {
    ASSERT_TRUE(check.applies_to(f));
    const CheckOutcome out = run_check(check, f);
    EXPECT_EQ(out.verdict, Verdict::Proved) << isa::info(f).name << ": " << out.detail << "\n"
                                            << out.data_test;
    proved += out.verdict == Verdict::Proved ? 1 : 0;
  }
  EXPECT_EQ(proved, 118u);
}

TEST(InterpCheck, DoesNotApplyToMemoryOrCalls) {
  InterpCheck check;
  EXPECT_FALSE(check.applies_to(Form::ldxw));
  EXPECT_FALSE(check.applies_to(Form::call_local));
  EXPECT_FALSE(check.applies_to(Form::exit));
  EXPECT_EQ(check.check(Form::ldxw).verdict, Verdict::Error);
}

// Planted bugs, each a small edit of the code in semantics_impl.hpp.

// add32 that forgets the 32-bit truncation.
template <class D>
typename D::U64 add32_untruncated(typename D::U64 dst, typename D::U64 src) {
  return dst + src;
}
// jsgt32 compared unsigned (the JIT bug the README's fuzzers were measured on).
template <class D>
typename D::Bool jsgt32_unsigned(typename D::U64 a64, typename D::U64 b64) {
  return static_cast<typename D::U32>(a64) > static_cast<typename D::U32>(b64);
}
// mod32 by zero that returns the whole 64-bit dst instead of its zero-extended low half.
template <class D>
typename D::U64 mod32_keeps_high_half(typename D::U64 dst, typename D::U64 src) {
  using U32 = typename D::U32;
  if (static_cast<U32>(src) == 0) return dst;
  return static_cast<U32>(dst) % static_cast<U32>(src);
}
// sdiv without the INT64_MIN / -1 guard: undefined behaviour in C++.
template <class D>
typename D::U64 sdiv_unguarded(typename D::U64 dst, typename D::U64 src) {
  using S64 = typename D::S64;
  if (src == 0) return 0;
  return static_cast<typename D::U64>(static_cast<S64>(dst) / static_cast<S64>(src));
}
// lsh without masking the count: undefined behaviour for counts >= 64.
template <class D>
typename D::U64 lsh_unmasked(typename D::U64 dst, typename D::U64 src) {
  return dst << src;
}

// Runs a counterexample's .data test on the real interpreter: it must parse,
// assemble and give the model's value (our interpreter is right), so the test
// fails exactly on an engine that computes what the planted bug computes.
uint64_t run_data_test_on_interpreter(const std::string& data, uint64_t* expected) {
  auto test = text::parse_data_test(data);
  EXPECT_TRUE(test.ok()) << (test.ok() ? "" : test.error().message) << "\n" << data;
  if (!test.ok()) return 0;
  auto program = text::assemble(test->asm_source);
  EXPECT_TRUE(program.ok()) << (program.ok() ? "" : program.error().message) << "\n" << data;
  if (!program.ok()) return 0;
  EXPECT_TRUE(test->result.has_value());
  *expected = test->result.value_or(0);
  auto engine = make_engine("interp");
  EXPECT_TRUE(engine.ok());
  if (!engine.ok()) return 0;
  const Outcome o = (*engine)->run(*program, {});
  EXPECT_TRUE(o.ok()) << o.load_error;
  return o.regs[0];
}

CheckOutcome prove_planted(Form form, LiftedSemantics impl) {
  ProofOptions options;
  options.implementation = "planted";
  return prove_against_model(form, impl, options);
}

TEST(InterpCheck, MissingTruncationYieldsACounterexampleThatReproduces) {
  const CheckOutcome out = prove_planted(Form::add32_reg, [](const SymOperands& in) {
    return add32_untruncated<SymDomain>(in.dst, in.src).expr();
  });
  ASSERT_EQ(out.verdict, Verdict::Counterexample) << out.detail;
  ASSERT_TRUE(out.witness.has_value());
  EXPECT_NE(out.detail.find("planted"), std::string::npos) << out.detail;
  EXPECT_NE(out.data_test.find("add32 r1, r2"), std::string::npos) << out.data_test;
  uint64_t expected = 0;
  EXPECT_EQ(run_data_test_on_interpreter(out.data_test, &expected), expected);
  EXPECT_NE(add32_untruncated<NativeDomain>(out.witness->dst_value, out.witness->src_value), expected);
}

TEST(InterpCheck, SignedJumpComparedUnsignedYieldsACounterexample) {
  const CheckOutcome out = prove_planted(Form::jsgt32_imm, [](const SymOperands& in) {
    return jsgt32_unsigned<SymDomain>(in.dst, vm::sem::sext_imm<SymDomain>(in.imm)).expr();
  });
  ASSERT_EQ(out.verdict, Verdict::Counterexample) << out.detail;
  ASSERT_TRUE(out.witness.has_value());
  uint64_t expected = 0;
  EXPECT_EQ(run_data_test_on_interpreter(out.data_test, &expected), expected);
  const bool planted =
      jsgt32_unsigned<NativeDomain>(out.witness->dst_value, vm::sem::sext_imm(out.witness->imm));
  EXPECT_NE(uint64_t{planted}, expected);
}

TEST(InterpCheck, ModuloByZeroKeepingTheHighHalfYieldsACounterexample) {
  const CheckOutcome out = prove_planted(Form::mod32_reg, [](const SymOperands& in) {
    return mod32_keeps_high_half<SymDomain>(in.dst, in.src).expr();
  });
  ASSERT_EQ(out.verdict, Verdict::Counterexample) << out.detail;
  ASSERT_TRUE(out.witness.has_value());
  EXPECT_EQ(static_cast<uint32_t>(out.witness->src_value), 0u) << out.detail;
  uint64_t expected = 0;
  EXPECT_EQ(run_data_test_on_interpreter(out.data_test, &expected), expected);
  EXPECT_NE(mod32_keeps_high_half<NativeDomain>(out.witness->dst_value, out.witness->src_value), expected);
}

TEST(InterpCheck, UndefinedSignedOverflowIsACounterexample) {
  const CheckOutcome out = prove_planted(
      Form::sdiv_reg, [](const SymOperands& in) { return sdiv_unguarded<SymDomain>(in.dst, in.src).expr(); });
  ASSERT_EQ(out.verdict, Verdict::Counterexample) << out.detail;
  ASSERT_TRUE(out.witness.has_value());
  EXPECT_EQ(out.witness->dst_value, uint64_t{1} << 63);
  EXPECT_EQ(out.witness->src_value, ~uint64_t{0});
  EXPECT_NE(out.detail.find("undefined behaviour (signed division overflow"), std::string::npos)
      << out.detail;
  uint64_t expected = 0;
  EXPECT_EQ(run_data_test_on_interpreter(out.data_test, &expected), expected);
}

TEST(InterpCheck, OversizedShiftIsACounterexample) {
  const CheckOutcome out = prove_planted(
      Form::lsh_reg, [](const SymOperands& in) { return lsh_unmasked<SymDomain>(in.dst, in.src).expr(); });
  ASSERT_EQ(out.verdict, Verdict::Counterexample) << out.detail;
  ASSERT_TRUE(out.witness.has_value());
  EXPECT_GE(out.witness->src_value, 64u);
  EXPECT_NE(out.detail.find("shift count out of range for 64 bits"), std::string::npos) << out.detail;
}

TEST(InterpCheck, AResultOfTheWrongSortIsAnError) {
  const CheckOutcome out =
      prove_planted(Form::add_reg, [](const SymOperands& in) { return (in.dst == in.src).expr(); });
  EXPECT_EQ(out.verdict, Verdict::Error);
  EXPECT_EQ(out.detail, "the lifted planted returns a term of the wrong sort");
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
