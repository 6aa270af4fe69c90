#pragma once
// Runs a counterexample's .data test on the interpreter or on this build's
// JIT, as `bpfdiff run FILE.data --engine E` would (its run mode, memory or
// packet, and its budget and call-depth comments), and says whether the engine meets the
// test's expectation (`-- result`, or `-- error` as a substring).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vm/interp/interpreter.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/error.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/runtime/std_helpers.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::oracle::smt {

struct DataTestOutcome {
  bool ran = false;      // the test parsed, assembled and loaded
  bool matches = false;  // the engine's outcome is the expected one
  std::string observed;  // "0x.." or the error's description, or why it did not run
};

// `jit` empty: the interpreter. `max_call_depth`, when given, replaces the
// test's own limit (a JIT compiled with one frame more than the test says
// behaves as one whose depth check is off by one).
inline DataTestOutcome run_data_test(const std::string& text,
                                     std::optional<jit::JitOptions> jit = std::nullopt,
                                     std::optional<uint32_t> max_call_depth = std::nullopt) {
  DataTestOutcome out;
  auto test = text::parse_data_test(text);
  if (!test) return {false, false, test.error().message};
  const vm::HelperRegistry& helpers = vm::standard_helpers();
  auto program = text::assemble(test->asm_source, text::AssembleOptions{&helpers});
  if (!program) return {false, false, program.error().message};
  auto loaded = vm::validate(*program, helpers);
  if (!loaded) return {false, false, loaded.error().message};
  vm::ExecLimits limits;
  if (test->budget) limits.instruction_budget = *test->budget;
  if (test->max_call_depth) limits.max_call_depth = *test->max_call_depth;
  if (max_call_depth) limits.max_call_depth = *max_call_depth;
  std::vector<uint8_t> memory = test->memory;
  const vm::RunMode mode = test->run_mode ? test->run_mode->mode : vm::RunMode::Memory;
  vm::RunResult r;
  if (jit) {
    auto compiled = jit::JitProgram::compile(*loaded, helpers, limits, *jit);
    if (!compiled) return {false, false, compiled.error().message};
    r = (*compiled)->run(vm::RunInput{mode, memory});
  } else {
    vm::Interpreter interp(*loaded, helpers, limits);
    r = interp.run(vm::RunInput{mode, memory});
  }
  out.ran = true;
  if (r.ok()) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(r.r0()));
    out.observed = buf;
    out.matches = test->result && *test->result == r.r0();
  } else {
    out.observed = vm::describe(r.error);
    out.matches = test->error && out.observed.find(*test->error) != std::string::npos;
  }
  return out;
}

}  // namespace bpfdiff::oracle::smt
