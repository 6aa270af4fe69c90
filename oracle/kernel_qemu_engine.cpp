#include "oracle/kernel_qemu_engine.hpp"

#include "oracle/comparability.hpp"
#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel_outcome.hpp"

namespace bpfdiff::oracle {
namespace {

class KernelQemuEngine final : public Engine {
 public:
  KernelQemuEngine(const vm::HelperRegistry& helpers, std::string name, uint32_t flags,
                   kernel::guest::GuestPool& pool)
      : Engine(helpers), name_(std::move(name)), flags_(flags), pool_(pool) {}

  std::string_view name() const override { return name_; }

  Outcome run(const vm::Program& program, const EngineInput& input) override {
    if (program.entry != 0) {
      kernel::KernelResponse unsupported;
      unsupported.verdict = kernel::KernelVerdict::Unsupported;
      unsupported.log = "the entry point is pc " + std::to_string(program.entry) +
                        "; the kernel starts every program at pc 0";
      unsupported.memory = input.memory;
      return outcome_from_response(name_, unsupported, input.limits);
    }
    kernel::KernelRequest request;
    request.flags = kernel::kWantLogOnReject | flags_;
    request.program = program.slots;
    if (input.mode == vm::RunMode::Memory) request.memory = input.memory;
    Outcome out = outcome_from_response(name_, pool_.execute(request), input.limits);
    if (input.mode != vm::RunMode::Memory) out.memory = input.memory;
    if (out.ok()) {
      const Comparability c = check_comparability(program, input.memory, input.mode, input.limits);
      out.kernel->uninitialized_stack_read = c.uninitialized_stack_read;
      out.kernel->pointer_bits_exposed = c.pointer_bits_exposed;
    }
    return out;
  }

 protected:
  // The verifier sees the memory's size, so one load serves one input only.
  Result<std::unique_ptr<Executor>> prepare_with(const vm::Program&, const vm::ExecLimits&,
                                                 const vm::HelperRegistry&) override {
    return make_error(name_ + " loads the program per input and cannot be prepared ahead: use `bpfdiff run --engine " +
                      name_ + " FILE`, `bpfdiff diff --engines interp," + name_ + " FILE` or `bpfdiff repro`");
  }

 private:
  std::string name_;
  uint32_t flags_;
  kernel::guest::GuestPool& pool_;
};

}  // namespace

std::vector<std::string> kernel_qemu_engine_names() {
  return {kKernelQemuEngine, kKernelQemuInterpEngine};
}

bool is_kernel_qemu_engine(std::string_view name) {
  return name == kKernelQemuEngine || name == kKernelQemuInterpEngine;
}

Result<std::unique_ptr<Engine>> make_kernel_qemu_engine(std::string_view name, const vm::HelperRegistry& helpers) {
  if (!is_kernel_qemu_engine(name)) return make_error("unknown engine '" + std::string(name) + "'");
  const std::string prefix = std::string(name) + " unavailable: ";
  // The cheap checks first, so a machine without the image is told at once
  // rather than after a failed boot.
  if (auto available = kernel::guest::guest_engines_available(kernel::guest::shared_guest_service_options());
      !available) {
    return make_error(prefix + available.error().message);
  }
  auto service = kernel::guest::shared_guest_service();
  if (!service) return make_error(prefix + service.error().message);
  const uint32_t flags = name == kKernelQemuInterpEngine ? kernel::kJitDisable : 0u;
  return std::unique_ptr<Engine>(
      std::make_unique<KernelQemuEngine>(helpers, std::string(name), flags, (*service)->pool()));
}

}  // namespace bpfdiff::oracle
