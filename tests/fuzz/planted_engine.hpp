#pragma once
// A test-only engine with a bug planted on purpose: the interpreter, run on
// the program with every instruction of one form replaced by another (e.g.
// the signed jsgt32 compare done unsigned, as jgt32). Replacing instructions
// one for one keeps every instruction count and pc, so the engine behaves
// like a real engine with a wrong lowering of that one form -- including
// under the budget bisection that signatures rely on.
#include <memory>
#include <string>

#include "oracle/engine.hpp"
#include "oracle/interp_engine.hpp"
#include "vm/isa/encode.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz::testing {

class PlantedEngine final : public oracle::Engine {
 public:
  PlantedEngine(isa::Form wrong, isa::Form instead,
                const vm::HelperRegistry& helpers = oracle::default_helpers())
      : Engine(helpers), wrong_(wrong), instead_(instead) {}
  std::string_view name() const override { return "planted"; }

 protected:
  Result<std::unique_ptr<oracle::Executor>> prepare_with(const vm::Program& program,
                                                         const vm::ExecLimits& limits,
                                                         const vm::HelperRegistry& helpers) override {
    vm::Program rewritten = program;
    for (isa::RawInsn& slot : rewritten.slots) {
      if (isa::find_form(slot) == wrong_) slot.opcode = isa::info(instead_).opcode;
    }
    oracle::InterpEngine interp(helpers);
    return interp.prepare(rewritten, limits);
  }

 private:
  isa::Form wrong_;
  isa::Form instead_;
};

}  // namespace bpfdiff::fuzz::testing
