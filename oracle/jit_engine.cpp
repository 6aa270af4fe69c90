#include "oracle/jit_engine.hpp"

#include "vm/jit/jit_program.hpp"

namespace bpfdiff::oracle {
namespace {

class JitExecutor final : public Executor {
 public:
  JitExecutor(std::unique_ptr<vm::LoadedProgram> program, std::unique_ptr<jit::JitProgram> jit,
              uint64_t load_ns)
      : program_(std::move(program)), jit_(std::move(jit)), load_ns_(load_ns) {}

  vm::RunResult run(vm::RunInput input) override { return jit_->run(input); }
  std::span<const uint8_t> stack() const override { return jit_->stack(); }
  std::optional<std::vector<vm::MapSnapshot>> maps() const override { return jit_->env().maps.snapshot(); }
  std::optional<std::vector<std::string>> trace_output() const override { return jit_->env().trace; }
  void reset_maps() override { jit_->reset_maps(); }
  uint64_t load_ns() const override { return load_ns_; }
  uint64_t compile_ns() const override { return jit_->compile_ns(); }

 private:
  std::unique_ptr<vm::LoadedProgram> program_;  // the JIT refers to it
  std::unique_ptr<jit::JitProgram> jit_;
  uint64_t load_ns_;
};

}  // namespace

Result<std::unique_ptr<Executor>> JitEngine::prepare_with(const vm::Program& program,
                                                          const vm::ExecLimits& limits,
                                                          const vm::HelperRegistry& helpers) {
  auto v = timed_validate(program, helpers);
  if (!v) return v.error();
  jit::JitOptions options = options_;
  options.blinding_seed = seed();
  auto compiled = jit::JitProgram::compile(*v->program, helpers, limits, options);
  if (!compiled) return compiled.error();
  return std::unique_ptr<Executor>(
      std::make_unique<JitExecutor>(std::move(v->program), std::move(compiled).value(), v->ns));
}

}  // namespace bpfdiff::oracle
