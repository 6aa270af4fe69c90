#include "oracle/kernel_qemu_engine.hpp"

#include <iostream>
#include <optional>

#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel/guest/pool_daemon.hpp"
#include "oracle/kernel_engine.hpp"

namespace bpfdiff::oracle {
namespace {

// A daemon started by `bpfdiff guest start` for this image serves the
// request when it answers; otherwise the process boots its own pool. A record
// left by a dead daemon is surprising (the user expects no boot), so that
// fallback is said on stderr; no daemon at all is the normal case and silent.
std::optional<kernel::ExecuteFn> running_daemon(const std::string& image_dir) {
  namespace guest = kernel::guest;
  const std::string run_dir = guest::daemon_run_dir(image_dir);
  const guest::DaemonProbe probe = guest::probe_daemon(run_dir, std::chrono::milliseconds(5000));
  if (probe.state == guest::DaemonProbe::State::Absent) return std::nullopt;
  if (probe.state == guest::DaemonProbe::State::Stale) {
    std::cerr << "note: the guest pool daemon of " << run_dir << " is not usable (" << probe.why
              << "); booting guests in this process (`bpfdiff guest stop` cleans up)\n";
    return std::nullopt;
  }
  auto client = guest::DaemonClient::connect(probe.info.socket, std::chrono::milliseconds(5000));
  if (!client) {
    std::cerr << "note: " << client.error().message << "; booting guests in this process\n";
    return std::nullopt;
  }
  std::shared_ptr<guest::DaemonClient> shared = std::move(*client);
  return kernel::ExecuteFn(
      [shared](const kernel::KernelRequest& request) { return shared->execute(request); });
}

}  // namespace

std::vector<std::string> kernel_qemu_engine_names() {
  return {kKernelQemuEngine, kKernelQemuInterpEngine};
}

bool is_kernel_qemu_engine(std::string_view name) {
  return name == kKernelQemuEngine || name == kKernelQemuInterpEngine;
}

Result<std::unique_ptr<Engine>> make_kernel_qemu_engine(std::string_view name,
                                                        const vm::HelperRegistry& helpers) {
  if (!is_kernel_qemu_engine(name)) return make_error("unknown engine '" + std::string(name) + "'");
  const std::string prefix = std::string(name) + " unavailable: ";
  const uint32_t flags = name == kKernelQemuInterpEngine ? kernel::kJitDisable : 0u;
  const kernel::guest::GuestServiceOptions options = kernel::guest::shared_guest_service_options();
  if (auto daemon = options.use_daemon ? running_daemon(options.image_dir) : std::nullopt)
    return std::unique_ptr<Engine>(
        std::make_unique<KernelEngine>(helpers, std::string(name), flags, *daemon));
  // The cheap checks first, so a machine without the image is told at once
  // rather than after a failed boot.
  if (auto available = kernel::guest::guest_engines_available(options); !available) {
    return make_error(prefix + available.error().message);
  }
  auto service = kernel::guest::shared_guest_service();
  if (!service) return make_error(prefix + service.error().message);
  kernel::guest::GuestPool* pool = &(*service)->pool();
  auto engine = std::make_unique<KernelEngine>(
      helpers, std::string(name), flags,
      [pool](const kernel::KernelRequest& request) { return pool->execute(request); });
  // A campaign's batches go to one guest pipelined (GuestPool::execute_batch).
  engine->set_batch_executor(
      [pool](std::span<const kernel::KernelRequest> requests,
             const std::function<void(std::size_t, kernel::KernelResponse &&)>& on_response) {
        pool->execute_batch(requests, on_response);
      });
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace bpfdiff::oracle
