#pragma once
// Proving a lifted implementation of one form equal to the model.
//
// "Lifted" means the implementation's own C++ run on Z3-backed values
// (sym_int.hpp) under a PathExplorer: every path through it, with its
// condition, result and C++-definedness obligations. The proof asks Z3, per
// path, for an input on the path where the result differs from the model or
// an obligation fails; none on any path means equal for all inputs.
#include <cstdint>
#include <functional>
#include <string>

#include <z3++.h>

#include "oracle/smt/check.hpp"
#include "oracle/smt/sym_int.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::oracle::smt {

// The symbolic inputs of one instruction, as the implementation reads them:
// the dst register, the src register (Reg forms) and the raw 32-bit imm field
// (Imm forms: the implementation sign-extends it itself, and that is checked
// too).
struct SymOperands {
  SymDomain::U64 dst;
  SymDomain::U64 src;
  SymDomain::S32 imm;
};

// Returns the new dst (Alu, Endian: 64-bit bit-vector) or whether the branch
// is taken (Jump: Bool), as a Z3 term of the symbolic operands.
using LiftedSemantics = std::function<z3::expr(const SymOperands&)>;

struct ProofOptions {
  std::string implementation = "interpreter";  // how counterexamples name it
  unsigned timeout_ms = 60'000;                // per solver query; exceeded => Verdict::Unknown
};

CheckOutcome prove_against_model(isa::Form form, const LiftedSemantics& impl,
                                 const ProofOptions& options = {});

}  // namespace bpfdiff::oracle::smt
