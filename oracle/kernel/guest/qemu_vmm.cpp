#include "oracle/kernel/guest/qemu_vmm.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "oracle/kernel/guest/guest_init.hpp"
#include "oracle/kernel/guest/qmp_client.hpp"

#ifndef BPFDIFF_SOURCE_DIR
#error "BPFDIFF_SOURCE_DIR must name the source tree (set by CMake)"
#endif

namespace bpfdiff::oracle::kernel::guest {
namespace {

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// For `exec:` migration URIs, which QEMU runs through /bin/sh.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string default_image_dir() {
  if (const char* env = std::getenv("BPFDIFF_GUEST_DIR"); env && *env) return env;
  return std::string(BPFDIFF_SOURCE_DIR) + "/build/guest/current";
}

Result<GuestImage> find_guest_image(const std::string& dir) {
  GuestImage image{dir, dir + "/vmlinuz", dir + "/initramfs.cpio", ""};
  if (!is_file(image.kernel) || !is_file(image.initramfs))
    return make_error("no guest image in " + dir + ": run scripts/build-guest.sh");
  std::ifstream in(dir + "/release");
  std::getline(in, image.release);
  if (image.release.empty())
    return make_error("guest image in " + dir + " has no release file: run scripts/build-guest.sh");
  return image;
}

std::string QemuVmm::describe() const {
  return "qemu " + std::string(options_.kvm ? "kvm" : "tcg") + ", kernel " + image_.release;
}

std::vector<std::string> QemuVmm::boot_command(const GuestPaths& paths) const {
  // panic=-1 reboots at once after a panic (-no-reboot turns that into an
  // exit), oops=panic makes every oops a panic that pvpanic reports, and
  // loglevel=5 keeps the console quiet except for warnings and worse, which
  // the guest scans for.
  std::string cmdline = "console=ttyS0 panic=-1 oops=panic loglevel=5 rdinit=/init";
  if (!options_.extra_cmdline.empty()) cmdline += " " + options_.extra_cmdline;
  std::vector<std::string> argv = {options_.qemu};
  if (options_.kvm) {
    argv.insert(argv.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    // Not `max`: under TCG a guest with QEMU's maximal model ran campaign
    // programs about 40% slower (300 against 430 programs/s on the 6.1 guest,
    // back to back) for no gain to the oracle. What the kernel's BPF JIT
    // chooses code by is kept: BMI2 (shlx, shrx and sarx for shifts by a
    // register) and BMI1 with it; the Spectre v2 mitigation (retpolines) is
    // the same on both models. Turning off la57, pcid, smap/smep, pku,
    // xsaves or AVX in `max` did not recover the speed.
    argv.insert(argv.end(), {"-accel", "tcg", "-cpu", "qemu64,+bmi1,+bmi2"});
  }
  argv.insert(argv.end(), {
                              "-m",
                              std::to_string(options_.memory_mb),
                              "-smp",
                              "1",
                              "-nodefaults",
                              "-no-user-config",
                              "-display",
                              "none",
                              "-no-reboot",
                              "-kernel",
                              image_.kernel,
                              "-initrd",
                              image_.initramfs,
                              "-append",
                              cmdline,
                              "-chardev",
                              "file,id=console,append=on,path=" + paths.console_log(),
                              "-serial",
                              "chardev:console",
                              "-device",
                              "virtio-serial-pci,id=vser",
                              "-chardev",
                              "socket,id=agent,server=on,wait=off,path=" + paths.agent_socket(),
                              "-device",
                              std::string("virtserialport,bus=vser.0,chardev=agent,name=") + kPortName,
                              "-device",
                              "pvpanic",
                              "-action",
                              "panic=exit-failure",
                              "-qmp",
                              "unix:" + paths.monitor_socket() + ",server=on,wait=off",
                          });
  return argv;
}

std::vector<std::string> QemuVmm::restore_command(const GuestPaths& paths) const {
  std::vector<std::string> argv = boot_command(paths);
  argv.insert(argv.end(), {"-incoming", "exec:cat " + shell_quote(paths.snapshot())});
  return argv;
}

Result<void> QemuVmm::save_snapshot(const GuestPaths& paths, ChildProcess& vmm,
                                    Clock::time_point deadline) const {
  auto qmp = QmpClient::connect(paths.monitor_socket(), vmm, deadline);
  if (!qmp) return qmp.error();
  const std::string tmp = paths.snapshot() + ".tmp";
  // The default bandwidth cap (32 MiB/s) would make saving take seconds.
  if (auto r = (*qmp)->execute("migrate-set-parameters", R"({"max-bandwidth":1099511627776})", deadline); !r)
    return r.error();
  if (auto r = (*qmp)->execute("migrate", R"({"uri":)" + json_string("exec:cat > " + shell_quote(tmp)) + "}",
                               deadline);
      !r)
    return r.error();
  for (;;) {
    auto status = (*qmp)->execute("query-migrate", "{}", deadline);
    if (!status) return status.error();
    const auto info = nlohmann::json::parse(*status, nullptr, /*allow_exceptions=*/false);
    const std::string state = info.is_object() && info.contains("status") && info["status"].is_string()
                                  ? info["status"].get<std::string>()
                                  : "";
    if (state == "completed") break;
    if (state == "failed" || state == "cancelled") return make_error("snapshot migration failed: " + *status);
    if (Clock::now() >= deadline) return make_error("snapshot migration did not finish in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Migration leaves the source paused; the guest we just saved runs on.
  if (auto r = (*qmp)->execute("cont", "{}", deadline); !r) return r.error();
  if (::rename(tmp.c_str(), paths.snapshot().c_str()) != 0) return make_error("cannot rename " + tmp);
  return {};
}

Result<void> probe_qemu(const std::string& qemu) {
  ChildProcess child;
  if (auto r = child.spawn({qemu, "--version"}, "/dev/null"); !r)
    return make_error(qemu + " is not installed (apt-get install qemu-system-x86)");
  if (!child.wait_exit(std::chrono::seconds(10)) || child.exit_status() != 0)
    return make_error(qemu + " --version failed");
  return {};
}

bool kvm_device_usable() {
  const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace bpfdiff::oracle::kernel::guest
