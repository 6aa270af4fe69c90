#include "oracle/kernel/guest/guest_service.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

namespace bpfdiff::oracle::kernel::guest {
namespace {

// Short: unix socket paths are limited to 107 bytes.
std::string make_work_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "bpfdiff-guest-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

std::string host_release() {
  utsname u{};
  return ::uname(&u) == 0 ? u.release : "unknown";
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

Result<Accel> parse_accel(const std::string& name) {
  if (name == "auto") return Accel::Auto;
  if (name == "tcg") return Accel::Tcg;
  if (name == "kvm") return Accel::Kvm;
  return make_error("unknown accelerator '" + name + "' (auto, tcg or kvm)");
}

GuestServiceOptions options_from_environment() {
  GuestServiceOptions o;
  if (const char* v = std::getenv("BPFDIFF_GUEST_POOL"); v && *v) {
    const long n = std::strtol(v, nullptr, 10);
    if (n >= 1 && n <= 64) o.guests = static_cast<std::size_t>(n);
  }
  if (const char* v = std::getenv("BPFDIFF_GUEST_ACCEL"); v && *v) {
    if (auto a = parse_accel(v)) o.accel = *a;
  }
  if (const char* v = std::getenv("BPFDIFF_FINDINGS_DIR"); v && *v)
    o.findings_dir = std::string(v) + "/guest";
  if (const char* v = std::getenv("BPFDIFF_GUEST_DAEMON"); v && std::string(v) == "0") o.use_daemon = false;
  return o;
}

Result<void> guest_engines_available(const GuestServiceOptions& options) {
  if (auto image = find_guest_image(options.image_dir); !image) return image.error();
  if (auto qemu = probe_qemu(options.qemu); !qemu) return qemu.error();
  return {};
}

Result<std::unique_ptr<GuestService>> GuestService::start(const GuestServiceOptions& options) {
  auto image = find_guest_image(options.image_dir);
  if (!image) return image.error();
  if (auto qemu = probe_qemu(options.qemu); !qemu) return qemu.error();
  std::unique_ptr<GuestService> service(new GuestService());
  service->work_dir_ = make_work_dir();
  if (service->work_dir_.empty()) return make_error("cannot create a scratch directory for the guests");

  PoolConfig config;
  config.guests = options.guests;
  config.timeouts = options.timeouts;
  config.findings_dir = options.findings_dir;
  QemuOptions qemu;
  qemu.qemu = options.qemu;
  qemu.extra_cmdline = options.extra_cmdline;

  // A failed probe is remembered next to the image, per host kernel, since
  // a KVM that hangs costs the whole probe timeout on every start.
  const std::string probe_file = options.image_dir + "/kvm-probe-failed";
  const std::string host_kernel = host_release();
  const bool known_bad = read_first_line(probe_file) == host_kernel;
  if (options.accel == Accel::Auto && known_bad)
    service->notes_ = "KVM failed here before (" + probe_file + "), using TCG";
  const bool try_kvm =
      options.accel == Accel::Kvm || (options.accel == Accel::Auto && !known_bad && kvm_device_usable());
  if (try_kvm) {
    // The probe is a real boot of one guest: only that shows KVM works.
    qemu.kvm = true;
    PoolConfig probe = config;
    probe.guests = 1;
    probe.work_dir = service->work_dir_ + "/kvm-probe";
    probe.timeouts.boot = std::chrono::milliseconds(20'000);
    auto pool = GuestPool::start(std::make_shared<QemuVmm>(*image, qemu), probe);
    if (!pool) {
      if (options.accel == Accel::Kvm) return pool.error();
      service->notes_ = "KVM does not boot the guest here, using TCG: " + pool.error().message.substr(0, 300);
      std::ofstream(probe_file) << host_kernel << "\n" << pool.error().message << "\n";
      qemu.kvm = false;
    } else if (options.guests == 1) {
      service->pool_ = std::move(*pool);
      service->accel_used_ = "kvm";
      return service;
    }
  }
  config.work_dir = service->work_dir_ + "/pool";
  auto pool = GuestPool::start(std::make_shared<QemuVmm>(*image, qemu), config);
  if (!pool) return pool.error();
  service->pool_ = std::move(*pool);
  service->accel_used_ = qemu.kvm ? "kvm" : "tcg";
  return service;
}

GuestService::~GuestService() {
  pool_.reset();  // stops the guests before their directory goes
  std::error_code ec;
  if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_, ec);
}

namespace {

struct SharedService {
  std::mutex mutex;
  std::unique_ptr<GuestService> service;
  std::string failure;
  std::optional<GuestServiceOptions> options;  // unset: from the environment
};

SharedService& shared() {
  static SharedService s;
  return s;
}

}  // namespace

GuestServiceOptions shared_guest_service_options() {
  SharedService& s = shared();
  std::lock_guard lock(s.mutex);
  return s.options ? *s.options : options_from_environment();
}

Result<void> configure_shared_guest_service(const GuestServiceOptions& options) {
  SharedService& s = shared();
  std::lock_guard lock(s.mutex);
  if (s.service || !s.failure.empty()) {
    return make_error(
        "the shared guest pool has already been started; configure it before the first kernel-qemu engine");
  }
  s.options = options;
  return {};
}

Result<GuestService*> shared_guest_service() {
  SharedService& s = shared();
  std::lock_guard lock(s.mutex);
  if (s.service) return s.service.get();
  if (!s.failure.empty()) return make_error(s.failure);
  auto started = GuestService::start(s.options ? *s.options : options_from_environment());
  if (!started) {
    s.failure = started.error().message;
    return make_error(s.failure);
  }
  s.service = std::move(*started);
  return s.service.get();
}

}  // namespace bpfdiff::oracle::kernel::guest
