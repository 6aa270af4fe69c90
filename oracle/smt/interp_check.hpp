#pragma once
// The interpreter check: for each ALU, byte-order and jump form, the
// interpreter's semantic function (vm/runtime/semantics_impl.hpp, the code
// its step<Semantics> runs for that row) is lifted -- instantiated with
// Z3-backed integer types and run on every path -- and proved equal to the
// model for all 2^64 dst values and all 2^64 src values (Reg forms) or all
// 2^32 immediates (Imm forms, sign-extended by the interpreter's own
// sem::sext_imm). C++-definedness (no division by zero, no INT_MIN / -1, no
// oversized shift) is proved on every path as well.
#include <memory>

#include "oracle/smt/check.hpp"
#include "oracle/smt/lifted_proof.hpp"

namespace bpfdiff::oracle::smt {

// The interpreter's semantics of `form`, lifted. Fails for forms the model
// does not cover.
Result<LiftedSemantics> lifted_interpreter(isa::Form form);

// Column "interp".
class InterpCheck final : public FormCheck {
 public:
  explicit InterpCheck(ProofOptions options = {}) : options_(std::move(options)) {}
  std::string name() const override { return "interp"; }
  bool applies_to(isa::Form form) const override;
  CheckOutcome check(isa::Form form) override;

 private:
  ProofOptions options_;
};

void add_interp_checks(CheckRegistry& registry);

}  // namespace bpfdiff::oracle::smt
