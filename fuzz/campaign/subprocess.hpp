#pragma once
// Child processes for the campaign: fuzzers run in the background with their
// output in a log file (read back for progress), triage runs a target to
// completion with its output captured.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vm/util/result.hpp"

namespace bpfdiff::cli {

using Environment = std::vector<std::pair<std::string, std::string>>;

// A process started in its own process group, stdout and stderr appended to
// a log file, stdin from /dev/null. Killed (the whole group) on destruction
// unless it has exited.
class Subprocess {
 public:
  // stderr goes to the log too, or to /dev/null when `discard_stderr`.
  static Result<Subprocess> start(const std::vector<std::string>& argv, const std::string& log_path,
                                  const Environment& extra_env = {}, bool discard_stderr = false);
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  // The exit status once the process has ended (128 + signal when killed);
  // does not block.
  std::optional<int> poll();
  // SIGTERM to the group, then SIGKILL after `grace`; waits for it.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(2));
  pid_t pid() const { return pid_; }

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct Completed {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
  bool timed_out = false;
};

// Runs to completion (or `timeout`, then kills it), output captured through
// a temporary log file `scratch_log` (stdout alone when `discard_stderr`).
Result<Completed> run_to_completion(const std::vector<std::string>& argv, const std::string& scratch_log,
                                    std::chrono::seconds timeout, const Environment& extra_env = {},
                                    bool discard_stderr = false);

// Reads what was appended to a file since `offset` (advanced past it).
std::string read_new_bytes(const std::string& path, std::size_t& offset);

}  // namespace bpfdiff::cli
