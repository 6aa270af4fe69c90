#include "oracle/smt/control_counterexample.hpp"

#include <algorithm>
#include <vector>

#include "oracle/smt/interpreted_data_test.hpp"
#include "oracle/smt/witness_fold.hpp"
#include "vm/isa/encode.hpp"
#include "vm/runtime/helpers.hpp"

namespace bpfdiff::oracle::smt {
namespace {

using isa::Form;

// Function k of the chain, calling function k + 1 at `callee` (a slot index).
void chain_function(std::vector<isa::RawInsn>& slots, uint32_t k, const ControlWitness& w,
                    std::size_t callee) {
  for (uint8_t r = 0; r < 4; ++r) {
    const auto pair = isa::encode_lddw_imm64(static_cast<uint8_t>(6 + r), w.callee_saved[r] + k);
    slots.insert(slots.end(), pair.begin(), pair.end());
  }
  slots.push_back(isa::encode(Form::stxdw, isa::kFramePointer, 6, -8));
  const auto here = static_cast<int64_t>(slots.size());
  slots.push_back(
      isa::encode(Form::call_local, 0, 0, 0, static_cast<int32_t>(static_cast<int64_t>(callee) - here - 1)));
  for (uint8_t r = 6; r <= 9; ++r)
    fold_into_r0(slots, r);
  slots.push_back(isa::encode(Form::ldxdw, 1, isa::kFramePointer, -8));
  fold_into_r0(slots, 1);
  slots.push_back(isa::encode(Form::mul_imm, 0, 0, 0, 31));
  slots.push_back(isa::encode(Form::add_imm, 0, 0, 0, static_cast<int32_t>(k + 1)));
  slots.push_back(isa::encode(Form::exit));
}

constexpr std::size_t kChainFunctionSlots = 8 + 1 + 1 + 8 + 3 + 2 + 1;

}  // namespace

Result<std::string> control_counterexample_data(const ControlCase& c, const ControlWitness& w,
                                                std::string_view comment) {
  std::vector<isa::RawInsn> slots;
  vm::ExecLimits limits;
  limits.max_call_depth = c.max_call_depth;
  if (c.unit == ControlUnit::CallLocal || c.unit == ControlUnit::Exit) {
    // Calls at depths 0..calls-1; the innermost function runs at depth `calls`.
    const uint32_t calls = c.unit == ControlUnit::CallLocal ? w.depth + 1 : std::max<uint32_t>(w.depth, 1);
    for (uint32_t k = 0; k < calls; ++k)
      chain_function(slots, k, w, (k + 1) * kChainFunctionSlots);
    slots.push_back(isa::encode(Form::mov_imm, 0, 0, 0, 1));
    for (uint8_t r = 6; r <= 9; ++r)
      slots.push_back(isa::encode(Form::mov_imm, r, 0, 0, -1));
    slots.push_back(isa::encode(Form::stdw, isa::kFramePointer, 0, -8, -1));
    slots.push_back(isa::encode(Form::exit));
  } else {
    // The proof's program; the callee is only reached with room for a frame.
    limits.max_call_depth = std::max<uint32_t>(c.max_call_depth, 2);
    limits.instruction_budget = c.unit == ControlUnit::EntryCharge ? w.remaining : w.remaining + 2;
    slots.push_back(isa::encode(Form::mov_reg, 0, 0));
    slots.push_back(isa::encode(Form::call_local, 0, 0, 0, 1));
    slots.push_back(isa::encode(Form::exit));
    for (uint32_t i = 0; i + 1 < c.callee_length; ++i)
      slots.push_back(isa::encode(Form::mov_reg, 0, 0));
    slots.push_back(isa::encode(Form::exit));
  }

  InterpretedRun run;
  run.limits = limits;
  return interpreted_data_test(slots, run, comment);
}

}  // namespace bpfdiff::oracle::smt
