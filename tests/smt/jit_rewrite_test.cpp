// expand_signed_division must not change what a formula means: prove the
// expansion equal to Z3's own bvsdiv/bvsrem for all operands at widths
// small enough to decide quickly (the definition is width-generic), and
// check it folds division by the constant -1 to a negation.
#include <gtest/gtest.h>

#include "oracle/smt/jit_rewrite.hpp"

namespace bpfdiff::oracle::smt {
namespace {

bool valid(z3::context& c, const z3::expr& claim) {
  z3::solver s(c);
  s.add(!claim);
  return s.check() == z3::unsat;
}

TEST(JitRewrite, ExpansionEqualsBvsdivAndBvsremForAllOperands) {
  z3::context c;
  for (unsigned bits : {1u, 3u, 6u}) {
    const z3::expr s = c.bv_const("s", bits);
    const z3::expr t = c.bv_const("t", bits);
    const z3::expr div = s / t;
    const z3::expr rem = z3::srem(s, t);
    const z3::expr nested = z3::srem(s / t, t) + s;
    for (const z3::expr& e : {div, rem, nested}) {
      const z3::expr expanded = expand_signed_division(e);
      EXPECT_FALSE(z3::eq(expanded, e)) << "nothing was expanded in " << e;
      EXPECT_TRUE(valid(c, expanded == e)) << bits << " bits: " << e;
    }
  }
}

TEST(JitRewrite, DivisionByMinusOneFoldsToNegation) {
  z3::context c;
  const z3::expr d = c.bv_const("d", 64);
  const z3::expr expanded = expand_signed_division(d / c.bv_val(~uint64_t{0}, 64)).simplify();
  EXPECT_TRUE(z3::eq(expanded, (-d).simplify())) << expanded;
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
