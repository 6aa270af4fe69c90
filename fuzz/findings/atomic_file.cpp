#include "fuzz/findings/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

Result<void> write_file_atomically(const std::string& path, std::span<const uint8_t> bytes) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string tmp =
      (dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  const auto fail = [&](const std::string& what) {
    const std::string message = what + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(message);
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return fail(tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail(tmp + ": fsync");
  }
  if (::close(fd) != 0) return fail(tmp + ": close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(path + ": rename");
  sync_directory(dir.string());
  return {};
}

Result<void> write_text_atomically(const std::string& path, std::string_view text) {
  return write_file_atomically(path, bytes_of(text));
}

Result<void> write_json_atomically(const std::string& path, const nlohmann::ordered_json& json, int indent) {
  return write_text_atomically(path, json.dump(indent) + "\n");
}

Result<void> write_json_atomically(const std::string& path, const nlohmann::json& json, int indent) {
  return write_text_atomically(path, json.dump(indent) + "\n");
}

void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Result<StagedDirectory> StagedDirectory::create(const std::string& parent, const std::string& name) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return make_error(parent + ": " + ec.message());
  const fs::path staging = fs::path(parent) / (".tmp-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(staging, ec);  // left by an earlier process of the same id that died
  fs::create_directories(staging, ec);
  if (ec) return make_error(staging.string() + ": " + ec.message());
  return StagedDirectory(parent, staging.string(), (fs::path(parent) / name).string());
}

StagedDirectory::StagedDirectory(std::string parent, std::string staging, std::string final_dir)
    : parent_(std::move(parent)), staging_(std::move(staging)), final_(std::move(final_dir)) {}

StagedDirectory::StagedDirectory(StagedDirectory&& other) noexcept
    : parent_(std::move(other.parent_)),
      staging_(std::exchange(other.staging_, std::string())),
      final_(std::move(other.final_)) {}

StagedDirectory::~StagedDirectory() {
  if (staging_.empty()) return;
  std::error_code ignored;
  fs::remove_all(staging_, ignored);
}

Result<void> StagedDirectory::write_file(const std::string& name, std::span<const uint8_t> bytes) const {
  return write_file_atomically((fs::path(staging_) / name).string(), bytes);
}

Result<void> StagedDirectory::write_text(const std::string& name, std::string_view text) const {
  return write_file(name, bytes_of(text));
}

Result<bool> StagedDirectory::publish() {
  if (staging_.empty()) return make_error(final_ + ": already published");
  if (::rename(staging_.c_str(), final_.c_str()) != 0) {
    const int err = errno;
    std::error_code ec;
    // rename(2) onto a non-empty directory fails: someone published it first.
    if (fs::exists(final_, ec)) return false;
    return make_error(final_ + ": rename: " + std::strerror(err));
  }
  staging_.clear();
  sync_directory(parent_);
  return true;
}

}  // namespace bpfdiff::cli
