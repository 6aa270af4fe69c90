// Validator + interpreter robustness on raw bytes: any byte string either is
// rejected with a message or runs to an end the contract allows. Sanitizers
// catch memory errors and undefined behaviour; the checks below catch
// contract violations.
#include <cstdint>
#include <string>

#include "fuzz/check.hpp"
#include "fuzz/custom_mutator.hpp"
#include "fuzz/raw_input.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/program/validate.hpp"

using namespace bpfdiff;

BPFDIFF_RAW_CUSTOM_MUTATOR(0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::RawInput in = fuzz::split_raw_input({data, size});
  auto program = vm::program_from_bytes(in.program);
  if (!program) return 0;
  static const vm::HelperRegistry helpers;
  auto loaded = vm::validate(*program, helpers);
  if (!loaded) {
    const std::string& msg = loaded.error().message;
    BPFDIFF_FUZZ_CHECK(!msg.empty(), "validator: empty rejection message", "");
    return 0;
  }
  vm::ExecLimits limits;
  limits.instruction_budget = fuzz::kRawInputInstructionBudget;
  vm::Interpreter interp(*loaded, helpers, limits);
  std::vector<uint8_t> memory(in.memory.begin(), in.memory.end());
  const vm::RunResult r = interp.run({vm::RunMode::Memory, memory});

  BPFDIFF_FUZZ_CHECK(r.instructions <= limits.instruction_budget, "interp: budget overrun",
                     std::to_string(r.instructions));
  BPFDIFF_FUZZ_CHECK(memory.size() == in.memory.size(), "interp: input memory resized", "");
  if (r.ok()) {
    // A normal exit returns from the entry frame, so the frame pointer is back where it started.
    const uint64_t top = vm::region_base(vm::RegionId::Stack) + limits.max_call_depth * vm::kStackFrameBytes;
    BPFDIFF_FUZZ_CHECK(r.regs[10] == top, "interp: r10 not restored at exit", std::to_string(r.regs[10]));
  } else {
    BPFDIFF_FUZZ_CHECK(r.error.pc < loaded->insns.size(), "interp: error pc outside program",
                       vm::describe(r.error));
  }
  return 0;
}
