#pragma once
// Rewrites that keep JIT proofs small without changing what they prove.
#include <z3++.h>

namespace bpfdiff::oracle::smt {

// Replaces every bvsdiv and bvsrem in `e` by its SMT-LIB definition over
// bvudiv/bvurem and the operands' signs. The result is equivalent to `e`
// by definition (jit_rewrite_test proves it at small widths), but Z3's
// simplifier can fold it when the divisor is a constant: x / -1 becomes -x
// and never reaches a 64-bit divider circuit, which is what made the
// sdiv-by--1 proofs (the JIT emits `neg`) take seconds.
z3::expr expand_signed_division(const z3::expr& e);

}  // namespace bpfdiff::oracle::smt
