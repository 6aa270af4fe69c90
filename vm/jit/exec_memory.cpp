#include "vm/jit/exec_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace bpfdiff::jit {
namespace {

std::size_t page_size() {
  return static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

ExecMemory::ExecMemory(ExecMemory&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      mapped_size_(std::exchange(other.mapped_size_, 0)),
      code_(std::exchange(other.code_, nullptr)),
      code_size_(std::exchange(other.code_size_, 0)),
      slot_(std::exchange(other.slot_, ExecPool::Slot{})) {}

ExecMemory& ExecMemory::operator=(ExecMemory&& other) noexcept {
  if (this != &other) {
    this->~ExecMemory();
    new (this) ExecMemory(std::move(other));
  }
  return *this;
}

ExecMemory::~ExecMemory() {
  if (pooled()) ExecPool::instance().release(slot_, code_size_);
  if (base_ != nullptr) munmap(base_, mapped_size_);
}

Result<ExecMemory> ExecMemory::create(std::span<const uint8_t> code) {
  if (code.size() > ExecPool::kMaxPooledBytes) return create_mapping(code);
  auto slot = ExecPool::instance().acquire(code.size());
  // Without memfd (a sandbox may forbid it) every compile maps its own pages.
  if (!slot) return create_mapping(code);
  ExecMemory m;
  m.slot_ = *slot;
  m.code_ = slot->exec;
  m.code_size_ = code.size();
  m.mapped_size_ = slot->bytes + 2 * page_size();
  if (!code.empty()) std::memcpy(slot->write, code.data(), code.size());
  return m;
}

Result<ExecMemory> ExecMemory::create_mapping(std::span<const uint8_t> code) {
  const std::size_t page = page_size();
  const std::size_t body = (code.size() + page - 1) / page * page;
  const std::size_t total = body + 2 * page;
  void* p = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return make_error(std::string("jit: mmap failed: ") + std::strerror(errno));
  ExecMemory m;
  m.base_ = static_cast<uint8_t*>(p);
  m.mapped_size_ = total;
  m.code_ = m.base_ + page;
  m.code_size_ = code.size();
  if (body == 0) return m;
  if (mprotect(m.code_, body, PROT_READ | PROT_WRITE) != 0) {
    return make_error(std::string("jit: mprotect(RW) failed: ") + std::strerror(errno));
  }
  std::memcpy(m.code_, code.data(), code.size());
  std::memset(m.code_ + code.size(), 0xCC, body - code.size());  // INT3
  if (mprotect(m.code_, body, PROT_READ | PROT_EXEC) != 0) {
    return make_error(std::string("jit: mprotect(RX) failed: ") + std::strerror(errno));
  }
  return m;
}

}  // namespace bpfdiff::jit
