// Interpreter against a JIT option set on raw bytes: the full outcome
// (registers, memory, stack, error with pc/address/size, instruction count)
// must be identical. The sum of the input's bytes selects the option set
// (fuzz/differential.hpp says why one and not all four). A divergence aborts
// with a title naming the engines and the first differing field.
#include <cstdint>

#include "fuzz/custom_mutator.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/raw_input.hpp"

using namespace bpfdiff;

BPFDIFF_RAW_CUSTOM_MUTATOR(0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::RawInput in = fuzz::split_raw_input({data, size});
  auto program = vm::program_from_bytes(in.program);
  if (!program) return 0;
  oracle::EngineInput input;
  input.memory.assign(in.memory.begin(), in.memory.end());
  input.limits.instruction_budget = fuzz::kRawInputInstructionBudget;
  fuzz::check_selected_engine_agrees(*program, input, {data, size});
  return 0;
}
