#include "vm/jit/exec_pool.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace bpfdiff::jit {
namespace {

std::size_t page_size() {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// Size classes: slots of 1, 2, 4, ... pages up to kMaxPooledBytes.
constexpr unsigned kClasses = 11;  // 4 KiB .. 4 MiB with 4 KiB pages

// Slots per chunk: the first chunk of a class is small, so a process that
// compiles once pays a handful of system calls (about what one own mapping
// costs); each further chunk of the class doubles, up to many small slots
// (most programs are small) or two large ones.
std::size_t slots_per_chunk(unsigned cls, unsigned chunks_of_class) {
  const std::size_t most = std::max<std::size_t>(2, std::size_t{64} >> cls);
  const std::size_t first = std::min<std::size_t>(4, most);
  return std::min(most, first << std::min(chunks_of_class, 8u));
}

std::string os_error(const char* what) {
  return std::string("jit: ") + what + " failed: " + std::strerror(errno);
}

}  // namespace

struct ExecPool::Impl {
  struct Chunk {
    uint8_t* exec = nullptr;   // first guard page of the executable view
    uint8_t* write = nullptr;  // the writable view (slots only, no guards)
    std::size_t slot_bytes = 0;
  };
  std::mutex mutex;
  std::vector<Chunk> chunks;
  struct FreeSlot {
    uint32_t chunk;
    uint32_t index;
    bool fresh;  // never handed out: still zero, not yet INT3
  };
  std::array<std::vector<FreeSlot>, kClasses> free;
  std::array<unsigned, kClasses> chunks_of_class{};
  uint64_t generation = 0;  // bumped in a forked child
  std::size_t created = 0;

  Result<uint32_t> add_chunk(unsigned cls);
};

Result<uint32_t> ExecPool::Impl::add_chunk(unsigned cls) {
  const std::size_t page = page_size();
  const std::size_t slot_bytes = page << cls;
  const std::size_t n = slots_per_chunk(cls, chunks_of_class[cls]);
  const std::size_t data_bytes = n * slot_bytes;
  const std::size_t exec_bytes = n * (slot_bytes + page) + page;

  const int fd = memfd_create("bpfdiff-jit", MFD_CLOEXEC);
  if (fd < 0) return make_error(os_error("memfd_create"));
  if (ftruncate(fd, static_cast<off_t>(data_bytes)) != 0) {
    std::string why = os_error("ftruncate");
    close(fd);
    return make_error(why);
  }
  void* w = mmap(nullptr, data_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (w == MAP_FAILED) {
    std::string why = os_error("mmap(RW view)");
    close(fd);
    return make_error(why);
  }
  // Reserve the executable view inaccessible, then map each slot into it:
  // the pages left between slots are the guard pages.
  void* x = mmap(nullptr, exec_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (x == MAP_FAILED) {
    std::string why = os_error("mmap(guard reservation)");
    munmap(w, data_bytes);
    close(fd);
    return make_error(why);
  }
  auto* exec = static_cast<uint8_t*>(x);
  for (std::size_t i = 0; i < n; ++i) {
    void* at = exec + page + i * (slot_bytes + page);
    if (mmap(at, slot_bytes, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd,
             static_cast<off_t>(i * slot_bytes)) == MAP_FAILED) {
      std::string why = os_error("mmap(RX view)");
      munmap(x, exec_bytes);
      munmap(w, data_bytes);
      close(fd);
      return make_error(why);
    }
  }
  close(fd);  // the mappings keep the memory
  const auto index = static_cast<uint32_t>(chunks.size());
  chunks.push_back(Chunk{exec, static_cast<uint8_t*>(w), slot_bytes});
  // Slots are filled with INT3 when first handed out, so a chunk costs no
  // page faults for slots never used.
  for (std::size_t i = n; i-- > 0;)
    free[cls].push_back({index, static_cast<uint32_t>(i), true});  // lowest slot handed out first
  ++chunks_of_class[cls];
  ++created;
  return index;
}

ExecPool& ExecPool::instance() {
  static ExecPool pool;
  static std::once_flag fork_hooks;
  std::call_once(fork_hooks, [] {
    // Hold the lock across fork() so the child never inherits it held;
    // the child then forgets every chunk (they are shared with the parent).
    pthread_atfork([] { pool.impl().mutex.lock(); }, [] { pool.impl().mutex.unlock(); },
                   [] {
                     Impl& im = pool.impl();
                     im.mutex.unlock();
                     im.chunks.clear();
                     for (auto& list : im.free)
                       list.clear();
                     im.chunks_of_class.fill(0);
                     ++im.generation;
                   });
  });
  return pool;
}

ExecPool::Impl& ExecPool::impl() const {
  static Impl* impl = new Impl;  // never destroyed: code may run until the process ends
  return *impl;
}

Result<ExecPool::Slot> ExecPool::acquire(std::size_t bytes) {
  const std::size_t page = page_size();
  unsigned cls = 0;
  while (cls + 1 < kClasses && (page << cls) < bytes)
    ++cls;
  if ((page << cls) < bytes)
    return make_error("jit: code of " + std::to_string(bytes) + " bytes is too large for the pool");
  Impl& im = impl();
  std::lock_guard lock(im.mutex);
  if (im.free[cls].empty()) {
    auto added = im.add_chunk(cls);
    if (!added) return added.error();
  }
  const Impl::FreeSlot f = im.free[cls].back();
  im.free[cls].pop_back();
  const Impl::Chunk& c = im.chunks[f.chunk];
  Slot s;
  s.exec = c.exec + page + f.index * (c.slot_bytes + page);
  s.write = c.write + f.index * c.slot_bytes;
  if (f.fresh) std::memset(s.write, 0xCC, c.slot_bytes);  // INT3
  s.bytes = c.slot_bytes;
  s.chunk = f.chunk;
  s.index = f.index;
  s.generation = im.generation;
  return s;
}

void ExecPool::release(const Slot& slot, std::size_t used) {
  Impl& im = impl();
  std::lock_guard lock(im.mutex);
  if (slot.generation != im.generation) return;  // the parent's slot, seen from a forked child
  std::memset(slot.write, 0xCC, std::min(used, slot.bytes));
  unsigned cls = 0;
  while ((page_size() << cls) < slot.bytes)
    ++cls;
  im.free[cls].push_back({slot.chunk, slot.index, false});
}

std::size_t ExecPool::chunks_created() const {
  Impl& im = impl();
  std::lock_guard lock(im.mutex);
  return im.created;
}

}  // namespace bpfdiff::jit
