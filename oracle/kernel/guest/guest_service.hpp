#pragma once
// Starting a pool of QEMU guests from the built image, with the settings a
// user can change through the environment, and the one pool a process shares
// between the kernel-qemu engines (the JIT/interpreter choice travels in each
// request, so both engines use the same guests).
#include <memory>
#include <string>

#include "oracle/kernel/guest/guest_pool.hpp"
#include "oracle/kernel/guest/qemu_vmm.hpp"

namespace bpfdiff::oracle::kernel::guest {

enum class Accel { Auto, Tcg, Kvm };

struct GuestServiceOptions {
  std::string image_dir = default_image_dir();
  std::size_t guests = 1;
  // Auto: KVM when /dev/kvm opens and a guest actually boots with it (on
  // these machines it does not: MSR errors or hangs), else TCG.
  Accel accel = Accel::Auto;
  std::string findings_dir = "bpfdiff-findings/guest";
  std::string extra_cmdline;  // tests: kFaultsAllowedArg
  GuestTimeouts timeouts;
  std::string qemu = "qemu-system-x86_64";
  // Whether the kernel-qemu engines may use a pool daemon of this image
  // (`bpfdiff guest start`) instead of booting their own guests. A campaign
  // does not: it wants its pool size and its guest findings in its own
  // directory.
  bool use_daemon = true;
};

// Defaults overridden by BPFDIFF_GUEST_DIR (image), BPFDIFF_GUEST_POOL
// (number of guests), BPFDIFF_GUEST_ACCEL (auto|tcg|kvm), BPFDIFF_FINDINGS_DIR
// (guest findings go to its guest/ subdirectory), BPFDIFF_GUEST_DAEMON=0 (never
// use a running pool daemon).
GuestServiceOptions options_from_environment();
Result<Accel> parse_accel(const std::string& name);

// Why the kernel-qemu engines cannot run here, or nothing when they can
// (image built, QEMU installed). Cheap: boots nothing.
Result<void> guest_engines_available(const GuestServiceOptions& options);

// A running pool with its scratch directory (sockets, consoles, snapshots),
// removed when the pool is destroyed.
class GuestService {
 public:
  static Result<std::unique_ptr<GuestService>> start(const GuestServiceOptions& options);
  ~GuestService();
  GuestPool& pool() { return *pool_; }
  const std::string& accel_used() const { return accel_used_; }
  const std::string& notes() const { return notes_; }  // e.g. why KVM was not used

 private:
  GuestService() = default;
  std::unique_ptr<GuestPool> pool_;
  std::string work_dir_;
  std::string accel_used_;
  std::string notes_;
};

// The process-wide service behind the kernel-qemu engines, started on first
// use with shared_guest_service_options(); a failed start is remembered and
// reported again rather than retried on every program.
Result<GuestService*> shared_guest_service();

// The options the shared service starts (or started) with:
// options_from_environment() unless configured. A campaign configures the
// pool size and where guest failures go before its first kernel engine is
// made; once the service runs, configuring fails (the pool is not rebuilt).
GuestServiceOptions shared_guest_service_options();
Result<void> configure_shared_guest_service(const GuestServiceOptions& options);

}  // namespace bpfdiff::oracle::kernel::guest
