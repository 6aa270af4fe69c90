#include "oracle/interp_engine.hpp"

#include "vm/interp/interpreter.hpp"

namespace bpfdiff::oracle {
namespace {

class InterpExecutor final : public Executor {
 public:
  InterpExecutor(std::unique_ptr<vm::LoadedProgram> program, const vm::HelperRegistry& helpers,
                 const vm::ExecLimits& limits, uint64_t load_ns)
      : program_(std::move(program)), interp_(*program_, helpers, limits), load_ns_(load_ns) {}

  vm::RunResult run(vm::RunInput input) override { return interp_.run(input); }
  bool can_trace() const override { return true; }
  vm::RunResult run_traced(vm::RunInput input, const vm::TraceFn& trace) override {
    return interp_.run_traced(input, trace);
  }
  std::span<const uint8_t> stack() const override { return interp_.stack(); }
  std::optional<std::vector<vm::MapSnapshot>> maps() const override { return interp_.env().maps.snapshot(); }
  std::optional<std::vector<std::string>> trace_output() const override { return interp_.env().trace; }
  void reset_maps() override { interp_.reset_maps(); }
  uint64_t load_ns() const override { return load_ns_; }
  uint64_t compile_ns() const override { return 0; }

 private:
  std::unique_ptr<vm::LoadedProgram> program_;  // before interp_, which refers to it
  vm::Interpreter interp_;
  uint64_t load_ns_;
};

}  // namespace

Result<std::unique_ptr<Executor>> InterpEngine::prepare_with(const vm::Program& program,
                                                             const vm::ExecLimits& limits,
                                                             const vm::HelperRegistry& helpers) {
  auto v = timed_validate(program, helpers);
  if (!v) return v.error();
  return std::unique_ptr<Executor>(
      std::make_unique<InterpExecutor>(std::move(v->program), helpers, limits, v->ns));
}

}  // namespace bpfdiff::oracle
