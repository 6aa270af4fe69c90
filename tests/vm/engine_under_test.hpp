#pragma once
// The engine the VM suites run on, chosen by the BPFDIFF_TEST_ENGINE
// environment variable ("interp" when unset, "jit", "jit+blind", "jit-bmi2",
// "jit+blind-bmi2"). CTest runs every suite once per engine, so each
// semantic, corner-case and hardening test pins down the JIT too.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <span>
#include <string>

#include "vm/interp/interpreter.hpp"
#include "vm/jit/jit_program.hpp"

namespace bpfdiff::test {

inline std::string engine_under_test() {
  const char* name = std::getenv("BPFDIFF_TEST_ENGINE");
  return name == nullptr || *name == '\0' ? std::string("interp") : std::string(name);
}

// Interpreter or JIT behind the interpreter's interface.
class EngineUnderTest {
 public:
  EngineUnderTest(const vm::LoadedProgram& program, const vm::HelperRegistry& helpers,
                  vm::ExecLimits limits = {}) {
    const std::string name = engine_under_test();
    if (name == "interp") {
      interp_ = std::make_unique<vm::Interpreter>(program, helpers, limits);
      return;
    }
    const std::optional<jit::JitOptions> options = jit::options_named(name);
    if (!options) {
      ADD_FAILURE() << "unknown BPFDIFF_TEST_ENGINE '" << name << "'";
      interp_ = std::make_unique<vm::Interpreter>(program, helpers, limits);
      return;
    }
    auto compiled = jit::JitProgram::compile(program, helpers, limits, *options);
    if (!compiled) {
      ADD_FAILURE() << "JIT compilation failed: " << compiled.error().message;
      interp_ = std::make_unique<vm::Interpreter>(program, helpers, limits);
      return;
    }
    jit_ = std::move(compiled).value();
  }

  vm::RunResult run(vm::RunInput input) { return jit_ ? jit_->run(input) : interp_->run(input); }
  std::span<const uint8_t> stack() const { return jit_ ? jit_->stack() : interp_->stack(); }
  vm::HelperEnv& env() { return jit_ ? jit_->env() : interp_->env(); }
  void reset_maps() { jit_ ? jit_->reset_maps() : interp_->reset_maps(); }
  uint64_t register_region(std::span<uint8_t> bytes, bool writable) {
    return jit_ ? jit_->register_region(bytes, writable) : interp_->register_region(bytes, writable);
  }

 private:
  std::unique_ptr<vm::Interpreter> interp_;
  std::unique_ptr<jit::JitProgram> jit_;
};

}  // namespace bpfdiff::test
