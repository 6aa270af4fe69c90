#pragma once
// The JIT translation proofs as columns of `bpfdiff smt check`: one column
// per (JIT option set, register assignment), named like "jit r4,r3" or
// "jit+blind-bmi2 r0,r0". A cell proves the form's code for that assignment
// and option set for every immediate shape class (jit_cases.hpp), so its
// verdict covers up to six proofs; the first that fails decides it.
#include <cstdint>
#include <vector>

#include "oracle/smt/check.hpp"
#include "oracle/smt/jit_cases.hpp"

namespace bpfdiff::oracle::smt {

enum class JitAssignments : uint8_t {
  Representative,  // representative_assignments(): what CI runs
  All,             // every (dst, src) pair: the full matrix (nightly)
};

void add_jit_checks(CheckRegistry& registry, JitAssignments which = JitAssignments::Representative);

}  // namespace bpfdiff::oracle::smt
