#pragma once
// The guest kernel's messages as the agent reads them from /dev/kmsg after
// each request: whatever the kernel logged while that program ran, so a
// report (WARN, oops, sanitizer) is attributed to exactly that program even
// when the host has sent the next requests already (protocol.hpp, v5). The
// serial console shows the same messages, but the host cannot tell from it
// which of several requests in flight was running when they were printed.
#include <memory>
#include <string>
#include <string_view>

#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

class KernelMessageReader {
 public:
  // Opens `path` (/dev/kmsg) without blocking and skips what is already
  // logged (the boot): only messages from now on are taken.
  static Result<std::unique_ptr<KernelMessageReader>> open(const char* path = "/dev/kmsg");
  ~KernelMessageReader();
  KernelMessageReader(const KernelMessageReader&) = delete;
  KernelMessageReader& operator=(const KernelMessageReader&) = delete;

  // The messages logged since the last call that the guest's console shows
  // too (its loglevel=5: warnings and worse), one line each as the console
  // prints them ("[    3.141592] WARNING: ..."), so scan_kernel_log() reads
  // them alike; empty when the kernel logged nothing (one read() then).
  std::string take();

 private:
  explicit KernelMessageReader(int fd) : fd_(fd) {}
  int fd_;
};

// Records of this level and above (less severe) are left out, as the
// console (loglevel=5, oracle/kernel/guest/qemu_vmm.cpp) leaves them out.
inline constexpr int kFirstQuietLevel = 5;

// One /dev/kmsg record ("PRIORITY,SEQUENCE,MICROSECONDS,FLAGS;TEXT\n" and
// continuation lines " KEY=VALUE") as a console line; "" when malformed or
// when its level (PRIORITY & 7) is kFirstQuietLevel or less severe.
std::string console_line_of_kmsg_record(std::string_view record);

}  // namespace bpfdiff::oracle::kernel::guest
