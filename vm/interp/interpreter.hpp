#pragma once
// The hardened interpreter: executes a validated program with RFC 9669
// semantics, checking every memory access, the instruction budget and the
// call depth at run time.
#include <memory>
#include <span>
#include <vector>

#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::vm {

class Interpreter {
 public:
  Interpreter(const LoadedProgram& program, const HelperRegistry& helpers, ExecLimits limits = {});

  RunResult run(RunInput input);
  RunResult run_traced(RunInput input, const TraceFn& trace);

  // The whole stack area after the last run (all frames, deepest first), for
  // full-state comparison.
  std::span<const uint8_t> stack() const { return stack_; }
  AddressSpace& memory() { return memory_; }
  const ExecLimits& limits() const { return limits_; }

 private:
  template <bool kTrace>
  RunResult execute(RunInput input, const TraceFn* trace);

  const LoadedProgram& program_;
  const HelperRegistry& helpers_;
  ExecLimits limits_;
  std::vector<uint8_t> stack_;
  AddressSpace memory_;
};

}  // namespace bpfdiff::vm
