#include "oracle/interp_engine.hpp"

#include <chrono>

#include "vm/interp/interpreter.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::oracle {
namespace {

class InterpExecutor final : public Executor {
 public:
  InterpExecutor(vm::LoadedProgram program, const vm::HelperRegistry& helpers, const vm::ExecLimits& limits,
                 uint64_t load_ns)
      : program_(std::move(program)), interp_(program_, helpers, limits), load_ns_(load_ns) {}

  vm::RunResult run(vm::RunInput input) override { return interp_.run(input); }
  bool can_trace() const override { return true; }
  vm::RunResult run_traced(vm::RunInput input, const vm::TraceFn& trace) override {
    return interp_.run_traced(input, trace);
  }
  std::span<const uint8_t> stack() const override { return interp_.stack(); }
  uint64_t load_ns() const override { return load_ns_; }
  uint64_t compile_ns() const override { return 0; }

 private:
  vm::LoadedProgram program_;  // before interp_, which refers to it
  vm::Interpreter interp_;
  uint64_t load_ns_;
};

}  // namespace

Result<std::unique_ptr<Executor>> InterpEngine::prepare_with(const vm::Program& program,
                                                             const vm::ExecLimits& limits,
                                                             const vm::HelperRegistry& helpers) {
  const auto start = std::chrono::steady_clock::now();
  auto loaded = vm::validate(program, helpers);
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
  if (!loaded) return loaded.error();
  return std::unique_ptr<Executor>(std::make_unique<InterpExecutor>(
      std::move(loaded).value(), helpers, limits, static_cast<uint64_t>(ns.count())));
}

}  // namespace bpfdiff::oracle
