#pragma once
// Spawning the built tools from tests: argv in, exit status and both output
// streams out, with stdin fed from a string.
#include <string>
#include <string_view>
#include <vector>

namespace bpfdiff::cli::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

ProcessResult run_process(const std::vector<std::string>& argv, std::string_view stdin_data = {});

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `contents` to `name` inside the directory; returns the full path.
  std::string write(const std::string& name, std::string_view contents) const;

 private:
  std::string path_;
};

}  // namespace bpfdiff::cli::testing
