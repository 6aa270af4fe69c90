#include "oracle/kernel/jit_sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "oracle/kernel/kernel_request.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

std::optional<std::string> read_value(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[32];
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  std::string v(buf, static_cast<std::size_t>(n));
  while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
    v.pop_back();
  return v;
}

// One write(2) of the whole value, as sysctl files require; the errno of a
// refused value (EINVAL) is reported by write, not open.
int write_value(const std::string& path, const std::string& value) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const std::string line = value + "\n";
  const ssize_t n = write(fd, line.data(), line.size());
  const int err = n < 0 ? errno : 0;
  close(fd);
  return err;
}

}  // namespace

JitSysctl::JitSysctl(std::string dir) {
  enable_.path = dir + "/bpf_jit_enable";
  harden_.path = dir + "/bpf_jit_harden";
  for (Setting* s : {&enable_, &harden_}) {
    s->original = read_value(s->path);
    s->current = s->original;
  }
}

JitSysctl::~JitSysctl() {
  for (Setting* s : {&enable_, &harden_}) {
    if (s->original && s->current != s->original) (void)write_value(s->path, *s->original);
  }
}

Result<void> JitSysctl::set(Setting& s, const std::optional<std::string>& wanted) {
  if (!wanted || wanted == s.current) return {};
  if (const int err = write_value(s.path, *wanted); err != 0) {
    return make_error("cannot set " + s.path + " to " + *wanted + ": " + std::strerror(err));
  }
  // Read back: some kernels accept the write and keep their own value.
  s.current = read_value(s.path);
  if (s.current != wanted) {
    return make_error("cannot set " + s.path + " to " + *wanted + ": it reads back as " +
                      s.current.value_or("(unreadable)"));
  }
  return {};
}

Result<void> JitSysctl::apply(uint32_t flags) {
  const std::optional<std::string> enable =
      (flags & kJitDisable) ? std::optional<std::string>("0") : enable_.original;
  const std::optional<std::string> harden =
      (flags & kJitHarden) ? std::optional<std::string>("2") : harden_.original;
  if (auto r = set(enable_, enable); !r) return r;
  return set(harden_, harden);
}

}  // namespace bpfdiff::oracle::kernel
