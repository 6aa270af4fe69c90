#pragma once
// Runs a BPF program in the host kernel with the raw bpf() syscall (no
// libbpf): BPF_PROG_LOAD as BPF_PROG_TYPE_SOCKET_FILTER, then
// BPF_PROG_TEST_RUN with `repeat`, whose `duration` is the kernel's own
// average nanoseconds per run. For benchmarks only: the program must not
// read its context (r1 = the skb) or call helpers.
#include <cstdint>
#include <span>
#include <string>

#include "vm/isa/raw.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::bench {

struct KernelRun {
  uint32_t retval = 0;       // the program's r0, truncated to 32 bits
  uint32_t duration_ns = 0;  // average per run over `repeat` runs
};

class KernelProgram {
 public:
  // "" when this process can load and test-run a trivial socket filter,
  // otherwise why not ("bpf(BPF_PROG_LOAD): Operation not permitted").
  // Probes once and caches the answer.
  static const std::string& unavailable_reason();

  // Loads without a verifier log; when the kernel rejects the program with
  // EINVAL/EACCES/E2BIG, loads it again with the log and returns the log's
  // tail in the error.
  static Result<KernelProgram> load(std::span<const isa::RawInsn> slots, const std::string& name);

  // `data` is the packet (at least 14 bytes, an Ethernet header).
  Result<KernelRun> test_run(std::span<const uint8_t> data, uint32_t repeat) const;

  KernelProgram(KernelProgram&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  KernelProgram& operator=(KernelProgram&& other) noexcept;
  KernelProgram(const KernelProgram&) = delete;
  KernelProgram& operator=(const KernelProgram&) = delete;
  ~KernelProgram();

  int fd() const { return fd_; }

 private:
  explicit KernelProgram(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace bpfdiff::bench
