#include "oracle/kernel_host_engine.hpp"

#include "oracle/kernel/kernel_executor.hpp"
#include "oracle/kernel_outcome.hpp"
#include "oracle/comparability.hpp"

namespace bpfdiff::oracle {
namespace {

class KernelHostEngine final : public Engine {
 public:
  KernelHostEngine(const vm::HelperRegistry& helpers, std::unique_ptr<kernel::KernelExecutor> executor)
      : Engine(helpers), executor_(std::move(executor)) {}

  std::string_view name() const override { return kKernelHostEngine; }

  Outcome run(const vm::Program& program, const EngineInput& input) override {
    if (program.entry != 0) {
      kernel::KernelResponse unsupported;
      unsupported.verdict = kernel::KernelVerdict::Unsupported;
      unsupported.log = "the entry point is pc " + std::to_string(program.entry) +
                        "; the kernel starts every program at pc 0";
      unsupported.memory = input.memory;
      return outcome_from_response(std::string(name()), unsupported, input.limits);
    }
    kernel::KernelRequest request;
    request.flags = kernel::kWantLogOnReject;
    request.program = program.slots;
    if (input.mode == vm::RunMode::Memory) request.memory = input.memory;
    Outcome out = outcome_from_response(std::string(name()), executor_->execute(request), input.limits);
    if (input.mode != vm::RunMode::Memory) out.memory = input.memory;
    if (out.ok()) {
      const Comparability c = check_comparability(program, input.memory, input.mode, input.limits);
      out.kernel->uninitialized_stack_read = c.uninitialized_stack_read;
      out.kernel->pointer_bits_exposed = c.pointer_bits_exposed;
    }
    return out;
  }

 protected:
  // One kernel load serves one input (the verifier sees the memory's size),
  // so there is nothing to prepare ahead of the input.
  Result<std::unique_ptr<Executor>> prepare_with(const vm::Program&, const vm::ExecLimits&,
                                                 const vm::HelperRegistry&) override {
    return make_error(std::string(kKernelHostEngine) +
                      " loads the program per input and cannot be prepared ahead: use `bpfdiff diff "
                      "--engines interp,kernel-host FILE` or `bpfdiff repro`");
  }

 private:
  std::unique_ptr<kernel::KernelExecutor> executor_;
};

}  // namespace

Result<void> kernel_host_available() {
  static const Result<void> probe = kernel::probe_kernel();
  return probe;
}

Result<std::unique_ptr<Engine>> make_kernel_host_engine(const vm::HelperRegistry& helpers) {
  const std::string prefix = std::string(kKernelHostEngine) + " unavailable: ";
  if (auto probe = kernel_host_available(); !probe) return make_error(prefix + probe.error().message);
  auto executor = kernel::KernelExecutor::create();
  if (!executor) return make_error(prefix + executor.error().message);
  return std::unique_ptr<Engine>(std::make_unique<KernelHostEngine>(helpers, std::move(executor).value()));
}

}  // namespace bpfdiff::oracle
