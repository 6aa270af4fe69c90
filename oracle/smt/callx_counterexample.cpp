#include "oracle/smt/callx_counterexample.hpp"

#include <algorithm>
#include <vector>

#include "oracle/smt/interpreted_data_test.hpp"
#include "oracle/smt/witness_fold.hpp"
#include "vm/isa/encode.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::oracle::smt {
namespace {

using isa::Form;

constexpr uint64_t kCodeRegion = static_cast<uint64_t>(vm::RegionId::Code) << vm::kRegionShift;
constexpr uint64_t kMaxSlot = vm::kRegionOffsetMask >> 3;

}  // namespace

Result<std::string> callx_counterexample_data(const CallOutCase& c, const CallxWitness& w,
                                              const std::vector<uint32_t>& function_starts, uint64_t slots,
                                              std::string_view comment) {
  if (c.unit != CallOutUnit::Callx) return make_error("counterexample: not a callx case");
  if (w.depth >= c.max_call_depth)
    return make_error("counterexample: callx at depth " + std::to_string(w.depth) + ", beyond the limit");
  if (w.value <= 0xffffffffu)
    return make_error("counterexample: callx of helper id " + std::to_string(w.value) + ", no test");
  if (c.reg == 0 || c.reg >= 6)
    return make_error("counterexample: callx r" + std::to_string(c.reg) + ", no test");

  std::vector<isa::RawInsn> program;
  const auto lddw = [&](uint8_t reg, uint64_t v) {
    const auto pair = isa::encode_lddw_imm64(reg, v);
    program.insert(program.end(), pair.begin(), pair.end());
  };
  // At depth d, d functions of `call +0; exit` (slots 0..2d-1) come first,
  // each calling the next; the last calls the callx function at slot 2d,
  // which then runs at depth d (r0 comes back through every exit).
  const uint32_t chain = 2 * w.depth;
  for (uint32_t k = 0; k < w.depth; ++k) {
    program.push_back(isa::encode(Form::call_local, 0, 0, 0, 1));
    program.push_back(isa::encode(Form::exit));
  }
  // The callx function, from slot `chain`: the value's lddw (+0), r6..r9
  // (+2..+9), mov r0, 1 (+10), callx (+11), the folds and exit (+12..+20),
  // the second function (+21, +22), its lddw code (+23), exit (+25): 26 slots.
  constexpr uint32_t kSecond = 21, kFold = 12, kLength = 26;
  uint64_t value = w.value;
  if ((value >> vm::kRegionShift) == (kCodeRegion >> vm::kRegionShift)) {
    const uint64_t offset = value & vm::kRegionOffsetMask;
    const uint64_t slot = offset >> 3;
    uint64_t mapped = 0;
    if (slot >= slots) {
      mapped = std::max<uint64_t>(slot, chain + kLength);  // past the end stays past the end
    } else if (std::binary_search(function_starts.begin(), function_starts.end(), slot)) {
      // The proof's entry is the test's (slot 0, the callx function itself
      // at depth 0, else the chain's first function).
      mapped = slot == 0 ? 0 : chain + kSecond;
    } else {
      mapped = chain + kFold;  // a fold: no function start
    }
    if (mapped > kMaxSlot) return make_error("counterexample: slot out of the code region");
    value = kCodeRegion | (mapped << 3) | (offset & 7);
  }
  lddw(c.reg, value);
  for (uint8_t r = 0; r < 4; ++r)
    lddw(static_cast<uint8_t>(6 + r), w.callee_saved[r]);
  program.push_back(isa::encode(Form::mov_imm, 0, 0, 0, 1));
  program.push_back(isa::encode(Form::callx, c.reg));
  for (uint8_t r = 6; r <= 9; ++r)
    fold_into_r0(program, r);
  program.push_back(isa::encode(Form::exit));
  program.push_back(isa::encode(Form::mov_imm, 0, 0, 0, 2));
  program.push_back(isa::encode(Form::exit));
  program.push_back(isa::encode(Form::lddw_code, 0, 0, 0, static_cast<int32_t>(kSecond) - 24));
  program.push_back(isa::RawInsn{});
  program.push_back(isa::encode(Form::exit));
  if (program.size() != chain + kLength) return make_error("counterexample: callx program layout");

  InterpretedRun run;
  run.limits.max_call_depth = c.max_call_depth;
  return interpreted_data_test(program, run, comment);
}

}  // namespace bpfdiff::oracle::smt
