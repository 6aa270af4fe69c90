#pragma once
// Executable memory that is never writable and executable at once, with an
// inaccessible guard page on each side and INT3 in the slack. Code up to
// ExecPool::kMaxPooledBytes goes into a slot of the process-wide pool (no
// system call per compile once the pool is warm); larger code gets its own
// mapping, written read-write and then switched to read-execute.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vm/jit/exec_pool.hpp"
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

  // Copies `code` into executable memory whose slack is INT3.
  static Result<ExecMemory> create(std::span<const uint8_t> code);

  const uint8_t* code() const { return code_; }
  std::size_t code_size() const { return code_size_; }
  // The code's pages and one guard page on each side (pooled slots share
  // their guard pages with the neighbouring slots).
  std::size_t mapped_size() const { return mapped_size_; }
  bool pooled() const { return slot_.exec != nullptr; }

 private:
  static Result<ExecMemory> create_mapping(std::span<const uint8_t> code);

  uint8_t* base_ = nullptr;  // own mapping (large code): its first guard page
  std::size_t mapped_size_ = 0;
  uint8_t* code_ = nullptr;
  std::size_t code_size_ = 0;
  ExecPool::Slot slot_{};  // pooled code: the slot it occupies
};

}  // namespace bpfdiff::jit
