#pragma once
// A child process (QEMU, or a fake VMM in tests) with its output sent to a
// log file, and the unix-socket connection to its serial channel.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { kill(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (searched in PATH) with stdin from /dev/null and stdout and
  // stderr appended to `log_path`.
  Result<void> spawn(const std::vector<std::string>& argv, const std::string& log_path);
  bool running();
  // The exit status once it has exited: the code, or 128 + signal.
  std::optional<int> exit_status();
  // Waits up to `timeout` for the exit; true when it has exited.
  bool wait_exit(std::chrono::milliseconds timeout);
  // SIGKILL and reap; nothing when not running.
  void kill();
  pid_t pid() const { return pid_; }

 private:
  void reap(bool block);
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Connects to a unix stream socket that the child listens on, retrying until
// it exists and accepts or `deadline` passes (or the child exits).
Result<int> connect_unix(const std::string& path, std::chrono::steady_clock::time_point deadline,
                         ChildProcess& child);

}  // namespace bpfdiff::oracle::kernel::guest
