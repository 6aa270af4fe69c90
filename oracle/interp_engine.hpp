#pragma once
#include "oracle/engine.hpp"

namespace bpfdiff::oracle {

// Engine "interp": the hardened interpreter.
class InterpEngine final : public Engine {
 public:
  using Engine::Engine;
  std::string_view name() const override { return "interp"; }

 protected:
  Result<std::unique_ptr<Executor>> prepare_with(const vm::Program& program, const vm::ExecLimits& limits,
                                                 const vm::HelperRegistry& helpers) override;
};

}  // namespace bpfdiff::oracle
