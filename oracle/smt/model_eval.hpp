#pragma once
// The model on concrete values: builds the model's term for constant
// operands and lets Z3 fold it to a number. This is how the smt engine runs
// programs and how the tests pin the model to hand-computed values; it goes
// through exactly the terms the proofs use, so a number it prints is what the
// model says.
#include <cstdint>

#include <z3++.h>

#include "vm/isa/table.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

class ConcreteModel {
 public:
  ConcreteModel() = default;
  ConcreteModel(const ConcreteModel&) = delete;
  ConcreteModel& operator=(const ConcreteModel&) = delete;

  // The new dst of an Alu or Endian form; `src` is the register value or the
  // sign-extended immediate (see bpf_model.hpp).
  Result<uint64_t> dst_result(isa::Form form, uint64_t dst, uint64_t src);
  // Whether a Jump form is taken.
  Result<bool> branch_taken(isa::Form form, uint64_t dst, uint64_t src);

 private:
  z3::context ctx_;
};

}  // namespace bpfdiff::oracle::smt
