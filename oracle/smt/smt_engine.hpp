#pragma once
// Engine "smt": runs programs on the Z3 model instead of on C++ semantics,
// as a third voter next to the interpreter and the JIT. It takes straight-line
// and loop-free programs of ALU, byte-order and jump instructions (forward
// jumps only) with lddw of plain 64-bit values and exit; anything else
// (memory, calls, backward jumps, lddw pseudo forms) fails to load with an
// "unsupported by smt" message naming the pc.
//
// It is created by name (make_engine("smt")) but is not one of
// oracle::engine_names(): those are the engines that run every program, which
// the interp-vs-JIT fuzz targets iterate.
#include "oracle/engine.hpp"

namespace bpfdiff::oracle {

class SmtEngine final : public Engine {
 public:
  using Engine::Engine;
  std::string_view name() const override { return "smt"; }

 protected:
  Result<std::unique_ptr<Executor>> prepare_with(const vm::Program& program, const vm::ExecLimits& limits,
                                                 const vm::HelperRegistry& helpers) override;
};

// Why the smt engine cannot run a validated program, or nothing when it can.
Result<void> smt_supports(const vm::LoadedProgram& program);

}  // namespace bpfdiff::oracle
