#include "oracle/kernel/guest/kcov_tracer.hpp"

#include <fcntl.h>
#include <linux/kcov.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace bpfdiff::oracle::kernel::guest {
namespace {

constexpr const char* kDebugfs = "/sys/kernel/debug";
constexpr const char* kKcovPath = "/sys/kernel/debug/kcov";

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

Result<std::unique_ptr<KcovTracer>> KcovTracer::open(std::size_t entries) {
  if (entries < 2) return make_error("a KCOV trace needs room for at least one PC");
  struct stat st {};
  if (::stat(kKcovPath, &st) != 0) {
    // /init mounts nothing beyond proc, sys and dev; debugfs is ours to mount.
    if (::mount("debugfs", kDebugfs, "debugfs", 0, nullptr) != 0 && errno != EBUSY)
      return make_error(errno_text("mount debugfs") +
                        " (a kernel without debugfs has no KCOV; build one with "
                        "scripts/build-guest.sh --source 6.12 --kcov)");
  }
  const int fd = ::open(kKcovPath, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return make_error(errno_text(kKcovPath) +
                      " (a kernel without CONFIG_KCOV; build one with "
                      "scripts/build-guest.sh --source 6.12 --kcov)");
  if (::ioctl(fd, KCOV_INIT_TRACE, static_cast<unsigned long>(entries)) != 0) {
    const std::string why = errno_text("KCOV_INIT_TRACE");
    ::close(fd);
    return make_error(why);
  }
  void* area = ::mmap(nullptr, entries * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (area == MAP_FAILED) {
    const std::string why = errno_text("mmap of the KCOV trace");
    ::close(fd);
    return make_error(why);
  }
  if (::ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC) != 0) {
    const std::string why = errno_text("KCOV_ENABLE");
    ::munmap(area, entries * sizeof(uint64_t));
    ::close(fd);
    return make_error(why);
  }
  auto* words = static_cast<uint64_t*>(area);
  __atomic_store_n(&words[0], 0, __ATOMIC_RELAXED);
  return std::unique_ptr<KcovTracer>(new KcovTracer(fd, words, entries));
}

KcovTracer::~KcovTracer() {
  (void)::ioctl(fd_, KCOV_DISABLE, 0);
  ::munmap(area_, entries_ * sizeof(uint64_t));
  ::close(fd_);
}

void KcovTracer::begin() {
  __atomic_store_n(&area_[0], 0, __ATOMIC_RELAXED);
}

std::span<const uint64_t> KcovTracer::end() const {
  const uint64_t n = __atomic_load_n(&area_[0], __ATOMIC_RELAXED);
  return {area_ + 1, static_cast<std::size_t>(std::min<uint64_t>(n, entries_ - 1))};
}

bool KcovTracer::truncated() const {
  return __atomic_load_n(&area_[0], __ATOMIC_RELAXED) >= entries_ - 1;
}

}  // namespace bpfdiff::oracle::kernel::guest
