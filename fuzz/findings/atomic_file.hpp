#pragma once
// The one way the finding store, the gate and the campaigns put files and
// directories on disk, so that a reader -- a resumed campaign, a replay after
// a crash, another process -- sees the old content or the whole new one,
// never a prefix. Findings are written with it before anything restarts.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vm/util/result.hpp"

namespace bpfdiff::cli {

// Writes `bytes` to `path`: a temporary file next to it, fsync, rename over
// `path`, fsync of the directory (so that the rename survives a crash too).
Result<void> write_file_atomically(const std::string& path, std::span<const uint8_t> bytes);
Result<void> write_text_atomically(const std::string& path, std::string_view text);
// json.dump(indent) and a newline.
Result<void> write_json_atomically(const std::string& path, const nlohmann::ordered_json& json,
                                   int indent = 2);
Result<void> write_json_atomically(const std::string& path, const nlohmann::json& json, int indent = 2);

// fsync of a directory, so that renames and creations in it are durable.
// Best effort: a file system that cannot open or sync a directory loses only
// durability, not atomicity.
void sync_directory(const std::string& dir);

// A directory that appears whole or not at all: files are written into a
// hidden staging directory next to `parent/name`, and publish() renames it
// into place. Destroyed unpublished, the staging directory is removed.
class StagedDirectory {
 public:
  // Creates `parent` if needed and an empty staging directory in it.
  static Result<StagedDirectory> create(const std::string& parent, const std::string& name);

  StagedDirectory(StagedDirectory&& other) noexcept;
  StagedDirectory& operator=(StagedDirectory&&) = delete;
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;
  ~StagedDirectory();

  const std::string& staging_path() const { return staging_; }
  const std::string& final_path() const { return final_; }

  Result<void> write_file(const std::string& name, std::span<const uint8_t> bytes) const;
  Result<void> write_text(const std::string& name, std::string_view text) const;

  // Renames the staging directory to final_path() and syncs the parent. If
  // final_path() exists already (the same directory published meanwhile by
  // someone else), the staged copy is dropped and the result is false.
  Result<bool> publish();

 private:
  StagedDirectory(std::string parent, std::string staging, std::string final_dir);

  std::string parent_;
  std::string staging_;  // empty once published or moved from
  std::string final_;
};

}  // namespace bpfdiff::cli
