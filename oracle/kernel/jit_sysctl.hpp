#pragma once
// The kernel JIT switches a request may ask for (bpf_jit_enable = 0 for the
// kernel interpreter, bpf_jit_harden = 2 for constant blinding). Meant for a
// guest that is ours alone; on a shared host it changes a global setting
// only when a request asks, and puts back what it found when destroyed.
#include <optional>
#include <string>

#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel {

class JitSysctl {
 public:
  // `dir` holds bpf_jit_enable and bpf_jit_harden (a parameter for tests).
  explicit JitSysctl(std::string dir = "/proc/sys/net/core");
  ~JitSysctl();
  JitSysctl(const JitSysctl&) = delete;
  JitSysctl& operator=(const JitSysctl&) = delete;

  // Sets both files as the request flags (kJitDisable, kJitHarden) want;
  // a flag that is not set means the value found at construction. Writes
  // only what differs from the current value. Fails with the file, the
  // value and the errno text when the kernel refuses (e.g. the JIT is
  // forced on by CONFIG_BPF_JIT_ALWAYS_ON).
  Result<void> apply(uint32_t flags);

 private:
  struct Setting {
    std::string path;
    std::optional<std::string> original;  // nothing when unreadable
    std::optional<std::string> current;
  };
  Result<void> set(Setting& s, const std::optional<std::string>& wanted);

  Setting enable_;
  Setting harden_;
};

}  // namespace bpfdiff::oracle::kernel
