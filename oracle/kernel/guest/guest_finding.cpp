#include "oracle/kernel/guest/guest_finding.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <nlohmann/json.hpp>

namespace bpfdiff::oracle::kernel::guest {
namespace {

Result<void> write_file(const std::string& path, const void* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("cannot create " + path + ": " + std::strerror(errno));
  const auto* p = static_cast<const uint8_t*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, p + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return make_error("cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  // Durable before the rename publishes it: the guest restore that follows
  // may be the last thing this host does.
  ::fsync(fd);
  ::close(fd);
  return {};
}

uint64_t fnv1a(const std::vector<uint8_t>& bytes, uint64_t h = 1469598103934665603ull) {
  for (uint8_t b : bytes)
    h = (h ^ b) * 1099511628211ull;
  return h;
}

}  // namespace

Result<std::string> write_guest_finding(const std::string& dir, const KernelRequest& request,
                                        const GuestFailure& failure, const std::string& kernel_release) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("cannot create the findings directory " + dir + ": " + ec.message());

  const std::vector<uint8_t> program = isa::encode_slots(request.program);
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(fnv1a(request.memory, fnv1a(program))));
  static std::atomic<uint64_t> sequence{0};
  const uint64_t seq = sequence++;
  const std::string name = std::string("guest-") + guest_failure_label(failure) + "-" + stamp + "-" + hash;
  const std::string tmp = dir + "/.tmp-" + std::to_string(::getpid()) + "-" + std::to_string(seq);
  std::filesystem::remove_all(tmp, ec);
  if (::mkdir(tmp.c_str(), 0755) != 0)
    return make_error("cannot create " + tmp + ": " + std::strerror(errno));

  nlohmann::json j;
  j["kind"] = guest_failure_name(failure.kind);
  j["detail"] = failure.detail;
  if (failure.report) {
    j["kernel_report"] = kernel_report_name(failure.report->kind);
    j["kernel_report_title"] = failure.report->title;
  }
  j["kernel_release"] = kernel_release;
  j["flags"] = request.flags;
  j["jit"] = (request.flags & kJitDisable) == 0;
  j["program_slots"] = request.program.size();
  j["memory_bytes"] = request.memory.size();
  if (failure.exit_status) j["vmm_exit_status"] = *failure.exit_status;
  if (failure.response) {
    j["agent_answered"] = true;
    j["verdict"] = static_cast<int>(failure.response->verdict);
  }
  j["time_utc"] = stamp;
  j["reproduce"] =
      "bpfdiff guest run " + dir + "/" + name + "/program.bin --mem-file " + dir + "/" + name + "/memory.bin";
  const std::string json = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  for (auto r : {write_file(tmp + "/finding.json", json.data(), json.size()),
                 write_file(tmp + "/program.bin", program.data(), program.size()),
                 write_file(tmp + "/memory.bin", request.memory.data(), request.memory.size()),
                 write_file(tmp + "/console.log", failure.console.data(), failure.console.size())}) {
    if (!r) return r.error();
  }
  std::string final_path = dir + "/" + name;
  // Two identical failures in the same second get distinct names.
  if (std::filesystem::exists(final_path, ec)) final_path += "-" + std::to_string(seq);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    return make_error("cannot publish " + final_path + ": " + std::strerror(errno));
  // The rename itself is durable only once the directory is synced.
  if (const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return final_path;
}

}  // namespace bpfdiff::oracle::kernel::guest
