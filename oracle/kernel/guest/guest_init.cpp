#include "oracle/kernel/guest/guest_init.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "oracle/kernel/guest/kmsg_reader.hpp"

namespace bpfdiff::oracle::kernel::guest {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(path.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void log_console(const std::string& line) {
  std::fprintf(stderr, "bpfdiff-agent: %s\n", line.c_str());
}

}  // namespace

std::string mount_pseudo_filesystems() {
  std::string notes;
  struct Mount {
    const char* source;
    const char* target;
    const char* type;
  };
  for (const Mount& m : {Mount{"proc", "/proc", "proc"}, Mount{"sysfs", "/sys", "sysfs"},
                         Mount{"devtmpfs", "/dev", "devtmpfs"}}) {
    ::mkdir(m.target, 0755);
    if (::mount(m.source, m.target, m.type, 0, nullptr) != 0 && errno != EBUSY)
      notes += std::string("mount ") + m.target + ": " + std::strerror(errno) + "\n";
  }
  // The kernel opens /dev/console for init only if the initramfs has it;
  // reopening after devtmpfs is mounted makes stdio work either way.
  const int console = ::open("/dev/console", O_RDWR | O_NOCTTY);
  if (console >= 0) {
    for (int fd = 0; fd <= 2; ++fd)
      ::dup2(console, fd);
    if (console > 2) ::close(console);
  }
  return notes;
}

std::string load_modules() {
  std::string notes;
  for (const std::string& name : list_dir(kModuleDir)) {
    const std::string path = std::string(kModuleDir) + "/" + name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      notes += name + ": open: " + std::strerror(errno) + "\n";
      continue;
    }
    const long rc = ::syscall(SYS_finit_module, fd, "", 0);
    const int err = errno;
    ::close(fd);
    // EEXIST: built in or already loaded, which is what we wanted.
    if (rc != 0 && err != EEXIST) notes += name + ": " + std::strerror(err) + "\n";
  }
  return notes;
}

Result<int> open_agent_port(int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    for (const std::string& port : list_dir("/sys/class/virtio-ports")) {
      std::string name = read_file("/sys/class/virtio-ports/" + port + "/name");
      while (!name.empty() && (name.back() == '\n' || name.back() == '\0'))
        name.pop_back();
      if (name != kPortName) continue;
      const std::string dev = "/dev/" + port;
      const int fd = ::open(dev.c_str(), O_RDWR | O_CLOEXEC);
      if (fd >= 0) return fd;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error(std::string("no virtio-serial port named ") + kPortName +
                        " (is virtio_console loaded and the virtserialport configured?)");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string kernel_release() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  return u.release;
}

bool kernel_cmdline_has(const std::string& word) {
  std::istringstream in(read_file("/proc/cmdline"));
  std::string token;
  while (in >> token) {
    if (token == word) return true;
  }
  return false;
}

void perform_fault(FaultKind kind) {
  if (kind == FaultKind::Panic) {
    const int fd = ::open("/proc/sysrq-trigger", O_WRONLY);
    if (fd >= 0) {
      const ssize_t written = ::write(fd, "c", 1);
      (void)written;  // on success the kernel never returns here
    }
    log_console("sysrq-trigger failed; hanging instead");
  }
  for (;;)
    ::pause();
}

void power_off(const std::string& why) {
  log_console(why + "; powering off");
  ::sync();
  ::reboot(RB_POWER_OFF);
  for (;;)
    ::pause();
}

void run_as_init(const ExecuteFn& execute) {
  AgentConfig config;
  config.hello.agent_notes = mount_pseudo_filesystems();
  config.hello.agent_notes += load_modules();
  config.hello.kernel_release = kernel_release();
  config.wait_when_closed = true;
  if (kernel_cmdline_has(kFaultsAllowedArg)) config.on_fault = [](FaultKind kind) { perform_fault(kind); };
  // Opened once devtmpfs is mounted; boot messages are skipped.
  std::shared_ptr<KernelMessageReader> kmsg;
  if (auto opened = KernelMessageReader::open()) {
    kmsg = std::move(*opened);
    config.kernel_messages = [kmsg]() -> std::optional<std::string> { return kmsg->take(); };
  } else {
    config.hello.agent_notes += "kernel messages unavailable: " + opened.error().message + "\n";
  }
  if (!config.hello.agent_notes.empty()) log_console(config.hello.agent_notes);
  auto port = open_agent_port(10);
  if (!port) power_off(port.error().message);
  log_console("serving on the virtio port (kernel " + config.hello.kernel_release + ")");
  serve(*port, config, execute);
  power_off("the request loop ended");
}

}  // namespace bpfdiff::oracle::kernel::guest
