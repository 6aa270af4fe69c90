#pragma once
// How a guest machine is started, snapshotted and restored. QemuVmm is the
// real one; the pool tests use a fake VMM process that speaks the same
// protocol on the same kind of socket, so the pool logic (timeouts, failure
// detection, restart policy, findings) is tested without QEMU.
#include <string>
#include <vector>

#include "oracle/kernel/guest/child_process.hpp"
#include "oracle/kernel/guest/frame_stream.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

// The files of one guest slot, all inside its own directory.
struct GuestPaths {
  std::string dir;
  std::string agent_socket() const { return dir + "/agent.sock"; }
  std::string monitor_socket() const { return dir + "/qmp.sock"; }
  std::string console_log() const { return dir + "/console.log"; }
  std::string vmm_log() const { return dir + "/vmm.log"; }
  std::string snapshot() const { return dir + "/snapshot.bin"; }
};

class Vmm {
 public:
  virtual ~Vmm() = default;
  virtual std::string describe() const = 0;
  // Starts a guest from scratch.
  virtual std::vector<std::string> boot_command(const GuestPaths& paths) const = 0;
  // Starts a guest from paths.snapshot(); empty when snapshots are unsupported.
  virtual std::vector<std::string> restore_command(const GuestPaths& paths) const = 0;
  // Saves the running, idle guest to paths.snapshot() and lets it run on.
  virtual Result<void> save_snapshot(const GuestPaths& paths, ChildProcess& vmm,
                                     Clock::time_point deadline) const = 0;
  // Whether the VMM's exit status says the guest kernel panicked.
  virtual bool exit_means_panic(int status) const = 0;
};

}  // namespace bpfdiff::oracle::kernel::guest
