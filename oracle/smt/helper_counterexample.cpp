#include "oracle/smt/helper_counterexample.hpp"

#include <vector>

#include "oracle/smt/interpreted_data_test.hpp"
#include "oracle/smt/witness_fold.hpp"
#include "vm/isa/encode.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::oracle::smt {
using isa::Form;

std::optional<TestRunHelper> helper_in_test_run(uint32_t id) {
  // Only helpers whose behaviour in a run without maps is the same for
  // every argument: the clock reads the same in every run of a seed, and
  // bpf_tail_call finds no map behind any handle.
  if (id != static_cast<uint32_t>(vm::HelperId::KtimeGetNs) &&
      id != static_cast<uint32_t>(vm::HelperId::TailCall))
    return std::nullopt;
  const std::vector<isa::RawInsn> slots = {isa::encode(Form::call_helper, 0, 0, 0, static_cast<int32_t>(id)),
                                           isa::encode(Form::exit)};
  text::DataTest test;
  auto r = interpret_into_test(slots, InterpretedRun{}, test);
  if (!r) return std::nullopt;
  if (r->ok()) return TestRunHelper{false, r->r0()};
  if (r->error.kind == vm::ErrorKind::HelperFailed) return TestRunHelper{true, 0};
  return std::nullopt;
}

Result<std::string> helper_counterexample_data(const CallOutCase& c, const HelperWitness& w,
                                               std::string_view comment) {
  if (c.unit != CallOutUnit::Helper) return make_error("counterexample: not a helper call");
  std::vector<isa::RawInsn> slots;
  for (uint8_t r = 0; r < isa::kFramePointer; ++r) {
    const auto pair = isa::encode_lddw_imm64(r, w.regs[r]);
    slots.insert(slots.end(), pair.begin(), pair.end());
  }
  slots.push_back(isa::encode(Form::call_helper, 0, 0, 0, static_cast<int32_t>(c.helper)));
  for (uint8_t r = 1; r < isa::kFramePointer; ++r)
    fold_into_r0(slots, r);
  slots.push_back(isa::encode(Form::exit));

  return interpreted_data_test(slots, InterpretedRun{}, comment);
}

}  // namespace bpfdiff::oracle::smt
