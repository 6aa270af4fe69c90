#include "oracle/smt/interpreted_data_test.hpp"

#include "oracle/smt/counterexample.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/std_helpers.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::oracle::smt {

Result<vm::RunResult> interpret_into_test(const std::vector<isa::RawInsn>& slots, const InterpretedRun& run,
                                          text::DataTest& test) {
  test.asm_source = text::disassemble(slots);
  test.memory = run.memory;
  test.run_mode.reset();
  if (run.mode != vm::RunMode::Memory) test.run_mode = text::DataRunMode{run.mode};
  const vm::HelperRegistry& helpers = vm::standard_helpers();
  auto assembled = text::assemble(test.asm_source, text::AssembleOptions{&helpers});
  if (!assembled) return make_error("counterexample: " + assembled.error().message);
  auto loaded = vm::validate(*assembled, helpers);
  if (!loaded) return make_error("counterexample: " + loaded.error().message);
  vm::Interpreter interp(*loaded, helpers, run.limits);
  std::vector<uint8_t> memory = run.memory;  // the run writes into its input
  vm::RunResult r = interp.run(vm::RunInput{run.mode, memory});
  if (r.ok()) {
    test.result = r.r0();
  } else {
    test.error = vm::describe(r.error);
  }
  return r;
}

Result<std::string> interpreted_data_test(const std::vector<isa::RawInsn>& slots, const InterpretedRun& run,
                                          std::string_view comment) {
  text::DataTest test;
  auto r = interpret_into_test(slots, run, test);
  if (!r) return r.error();
  std::string out = data_comment_lines(comment);
  const vm::ExecLimits defaults;
  if (run.limits.max_call_depth != defaults.max_call_depth)
    out += "# max-call-depth " + std::to_string(run.limits.max_call_depth) + "\n";
  if (run.limits.instruction_budget != defaults.instruction_budget)
    out += "# budget " + std::to_string(run.limits.instruction_budget) + "\n";
  return out + text::format_data_test(test);
}

}  // namespace bpfdiff::oracle::smt
