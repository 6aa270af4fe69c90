#include "oracle/jit_engine.hpp"

#include <chrono>

#include "vm/jit/jit_program.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::oracle {
namespace {

class JitExecutor final : public Executor {
 public:
  JitExecutor(std::unique_ptr<vm::LoadedProgram> program, std::unique_ptr<jit::JitProgram> jit,
              uint64_t load_ns)
      : program_(std::move(program)), jit_(std::move(jit)), load_ns_(load_ns) {}

  vm::RunResult run(vm::RunInput input) override { return jit_->run(input); }
  std::span<const uint8_t> stack() const override { return jit_->stack(); }
  uint64_t load_ns() const override { return load_ns_; }
  uint64_t compile_ns() const override { return jit_->compile_ns(); }

 private:
  std::unique_ptr<vm::LoadedProgram> program_;  // the JIT refers to it
  std::unique_ptr<jit::JitProgram> jit_;
  uint64_t load_ns_;
};

}  // namespace

std::vector<jit::JitOptions> JitEngine::option_sets() {
  std::vector<jit::JitOptions> out;
  for (bool blind : {false, true}) {
    for (bool bmi2 : {true, false}) {
      jit::JitOptions o;
      o.constant_blinding = blind;
      o.bmi2 = bmi2;
      out.push_back(o);
    }
  }
  return out;
}

Result<std::unique_ptr<Executor>> JitEngine::prepare_with(const vm::Program& program,
                                                          const vm::ExecLimits& limits,
                                                          const vm::HelperRegistry& helpers) {
  const auto start = std::chrono::steady_clock::now();
  auto loaded = vm::validate(program, helpers);
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
  if (!loaded) return loaded.error();
  auto owned = std::make_unique<vm::LoadedProgram>(std::move(loaded).value());
  auto compiled = jit::JitProgram::compile(*owned, helpers, limits, options_);
  if (!compiled) return compiled.error();
  return std::unique_ptr<Executor>(std::make_unique<JitExecutor>(
      std::move(owned), std::move(compiled).value(), static_cast<uint64_t>(ns.count())));
}

}  // namespace bpfdiff::oracle
