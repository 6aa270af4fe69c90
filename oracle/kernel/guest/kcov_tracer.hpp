#pragma once
// KCOV inside the guest: the PCs the agent's own thread runs in the kernel
// while it serves one request (the verifier, the JIT and the test run it
// causes). Opened once, on the thread that serves requests (KCOV traces the
// task that enabled it), and left enabled; each request resets the trace's
// length and reads it afterwards, so a request costs no system call.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

class KcovTracer {
 public:
  // PCs one request's trace can hold (8 MiB of guest memory). A verifier
  // that works through its whole complexity limit overflows it; the trace is
  // then truncated, which the response says.
  static constexpr std::size_t kDefaultEntries = std::size_t{1} << 20;

  // Mounts debugfs if needed, opens /sys/kernel/debug/kcov, maps a trace of
  // `entries` PCs and enables KCOV_TRACE_PC for the calling thread. Fails,
  // saying why, on a kernel built without CONFIG_KCOV.
  static Result<std::unique_ptr<KcovTracer>> open(std::size_t entries = kDefaultEntries);
  ~KcovTracer();
  KcovTracer(const KcovTracer&) = delete;
  KcovTracer& operator=(const KcovTracer&) = delete;

  // Starts a trace (the PCs traced since the last begin() are dropped).
  void begin();
  // The PCs traced since begin(); valid until the next begin().
  std::span<const uint64_t> end() const;
  // Whether the last trace filled the buffer (PCs past it were not recorded).
  bool truncated() const;

 private:
  KcovTracer(int fd, uint64_t* area, std::size_t entries) : fd_(fd), area_(area), entries_(entries) {}
  int fd_;
  uint64_t* area_;  // area_[0]: PCs recorded; area_[1..]: the PCs
  std::size_t entries_;
};

}  // namespace bpfdiff::oracle::kernel::guest
