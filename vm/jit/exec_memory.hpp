#pragma once
// Executable memory that is never writable and executable at once: code is
// written into a read-write mapping that is then switched to read-execute,
// with an inaccessible guard page on each side and INT3 in the slack.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vm/util/result.hpp"

namespace bpfdiff::jit {

class ExecMemory {
 public:
  ExecMemory() = default;
  ExecMemory(const ExecMemory&) = delete;
  ExecMemory& operator=(const ExecMemory&) = delete;
  ExecMemory(ExecMemory&& other) noexcept;
  ExecMemory& operator=(ExecMemory&& other) noexcept;
  ~ExecMemory();

  // Maps, copies `code`, fills the rest of the last page with INT3 and seals
  // the pages read+execute.
  static Result<ExecMemory> create(std::span<const uint8_t> code);

  const uint8_t* code() const { return code_; }
  std::size_t code_size() const { return code_size_; }
  std::size_t mapped_size() const { return mapped_size_; }  // guard pages included

 private:
  uint8_t* base_ = nullptr;  // first guard page
  std::size_t mapped_size_ = 0;
  uint8_t* code_ = nullptr;
  std::size_t code_size_ = 0;
};

}  // namespace bpfdiff::jit
