#include "oracle/kernel_host_engine.hpp"

#include "oracle/kernel/kernel_executor.hpp"
#include "oracle/kernel_engine.hpp"

namespace bpfdiff::oracle {

Result<void> kernel_host_available() {
  static const Result<void> probe = kernel::probe_kernel();
  return probe;
}

Result<std::unique_ptr<Engine>> make_kernel_host_engine(const vm::HelperRegistry& helpers) {
  const std::string prefix = std::string(kKernelHostEngine) + " unavailable: ";
  if (auto probe = kernel_host_available(); !probe) return make_error(prefix + probe.error().message);
  auto created = kernel::KernelExecutor::create();
  if (!created) return make_error(prefix + created.error().message);
  // The engine owns the executor through the function that calls it.
  std::shared_ptr<kernel::KernelExecutor> executor = std::move(created).value();
  return std::unique_ptr<Engine>(std::make_unique<KernelEngine>(
      helpers, kKernelHostEngine, 0u,
      [executor](const kernel::KernelRequest& request) { return executor->execute(request); }));
}

}  // namespace bpfdiff::oracle
