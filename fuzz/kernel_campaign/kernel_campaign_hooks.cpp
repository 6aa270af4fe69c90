// The kernel campaign's engines as `bpfdiff fuzz` makes them: kernel
// engines with reason-only logs, and QEMU guests from a pool of the
// campaign's own (its --guests, its findings directory, its restart counts).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "fuzz/kernel_campaign/kernel_campaign.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel_engine.hpp"
#include "oracle/kernel_qemu_engine.hpp"

namespace bpfdiff::cli {

KernelCampaignHooks default_kernel_campaign_hooks(const KernelCampaignOptions& options) {
  KernelCampaignHooks hooks;
  const bool guests = std::any_of(options.engines.begin(), options.engines.end(),
                                  [](const std::string& n) { return oracle::is_kernel_qemu_engine(n); });
  auto guest_options = std::make_shared<oracle::kernel::guest::GuestServiceOptions>(
      oracle::kernel::guest::shared_guest_service_options());
  guest_options->guests = options.guests;
  // The pool's own record of a guest failure (request, console) lands here
  // before the guest is restored.
  guest_options->findings_dir = (std::filesystem::path(options.out) / "findings" / "guest").string();
  guest_options->use_daemon = false;  // its own pool: --guests N, findings under --out, restart counts
  if (options.guest_request_limit_seconds > 0)
    guest_options->timeouts.request_limit =
        std::chrono::milliseconds(static_cast<int64_t>(options.guest_request_limit_seconds * 1000));
  hooks.make_engine = [guest_options, configured = std::make_shared<bool>(false)](
                          const std::string& name) -> Result<std::unique_ptr<oracle::Engine>> {
    if (oracle::is_kernel_qemu_engine(name) && !*configured) {
      *configured = true;
      (void)oracle::kernel::guest::configure_shared_guest_service(*guest_options);
    }
    auto engine = oracle::make_engine(name);
    // A rejection is tallied by its reason, never a finding: the level-1
    // log's instruction trace would only cost time.
    if (engine) oracle::use_reason_only_logs(**engine);
    return engine;
  };
  if (guests) {
    hooks.guest_restarts_and_failures = []() -> std::optional<std::pair<uint64_t, uint64_t>> {
      auto service = oracle::kernel::guest::shared_guest_service();
      if (!service) return std::nullopt;
      const auto s = (*service)->pool().stats();
      return std::make_pair(s.restores + s.cold_boots, s.failures);
    };
    // Only a pool this campaign started: a failed start was reported when
    // its engines were made.
    hooks.abandon_kernel_requests_from = [](std::chrono::steady_clock::time_point deadline) {
      if (auto service = oracle::kernel::guest::shared_guest_service())
        (*service)->pool().abandon_from(deadline);
    };
  }
  return hooks;
}

}  // namespace bpfdiff::cli
