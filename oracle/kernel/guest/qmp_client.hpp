#pragma once
// A minimal QMP (QEMU Machine Protocol) client: enough to save a snapshot by
// migrating the running guest to a file and to resume it afterwards.
#include <memory>
#include <string>

#include "oracle/kernel/guest/child_process.hpp"
#include "oracle/kernel/guest/frame_stream.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

class QmpClient {
 public:
  ~QmpClient();
  // Connects and negotiates capabilities.
  static Result<std::unique_ptr<QmpClient>> connect(const std::string& socket, ChildProcess& vmm,
                                                    Clock::time_point deadline);
  // Runs `command` with `arguments_json` (an object, "{}" for none) and
  // returns the JSON text of its "return" value.
  Result<std::string> execute(const std::string& command, const std::string& arguments_json,
                              Clock::time_point deadline);

 private:
  explicit QmpClient(int fd) : fd_(fd) {}
  Result<std::string> read_line(Clock::time_point deadline);
  int fd_;
  std::string pending_;
};

}  // namespace bpfdiff::oracle::kernel::guest
