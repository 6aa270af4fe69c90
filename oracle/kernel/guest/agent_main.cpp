// bpfdiff-agent: /init of the QEMU guest. Sets the guest up (guest_init.hpp)
// and serves KernelRequests from the host with the kernel executor, the same
// one the kernel-host engine uses on this machine.
#include <memory>

#include "oracle/kernel/guest/guest_init.hpp"
#include "oracle/kernel/kernel_executor.hpp"

int main() {
  using namespace bpfdiff::oracle::kernel;
  // The executor needs /proc (sysctls), so it is created once /init has
  // mounted it, inside the first request.
  std::unique_ptr<KernelExecutor> executor;
  std::string setup_error;
  guest::run_as_init([&](const KernelRequest& request) {
    if (!executor && setup_error.empty()) {
      // The guest is disposable, so helper calls may act on it.
      ExecutorOptions options;
      options.allow_helper_calls = true;
      auto created = KernelExecutor::create(options);
      if (created)
        executor = std::move(*created);
      else
        setup_error = "kernel executor unavailable in the guest: " + created.error().message;
    }
    if (!executor) {
      KernelResponse failed;
      failed.verdict = KernelVerdict::Failed;
      failed.log = setup_error;
      failed.kernel_release = guest::kernel_release();
      return failed;
    }
    return executor->execute(request);
  });
}
