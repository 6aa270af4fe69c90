#pragma once
// How a counterexample's .data test shows a whole state in r0, the one value
// a test's `-- result` checks: r0 = r0 * 31 + rN for each register (or
// loaded doubleword) in turn. Each step is injective in rN for a fixed r0,
// so a JIT that leaves any one folded value different gives another result.
#include <cstdint>
#include <vector>

#include "vm/isa/encode.hpp"
#include "vm/isa/raw.hpp"

namespace bpfdiff::oracle::smt {

inline void fold_into_r0(std::vector<isa::RawInsn>& slots, uint8_t reg) {
  slots.push_back(isa::encode(isa::Form::mul_imm, 0, 0, 0, 31));
  slots.push_back(isa::encode(isa::Form::add_reg, 0, reg));
}

}  // namespace bpfdiff::oracle::smt
