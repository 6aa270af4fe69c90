#pragma once
#include "oracle/engine.hpp"
#include "vm/jit/options.hpp"

namespace bpfdiff::oracle {

// Engines "jit", "jit+blind", "jit-bmi2", "jit+blind-bmi2": the x86-64 JIT
// with one option set each, so the harness compares option sets too.
class JitEngine final : public Engine {
 public:
  JitEngine(const vm::HelperRegistry& helpers, jit::JitOptions options)
      : Engine(helpers), options_(options), name_(jit::engine_name(options)) {}
  std::string_view name() const override { return name_; }

 protected:
  Result<std::unique_ptr<Executor>> prepare_with(const vm::Program& program, const vm::ExecLimits& limits,
                                                 const vm::HelperRegistry& helpers) override;

 private:
  jit::JitOptions options_;
  std::string name_;
};

}  // namespace bpfdiff::oracle
