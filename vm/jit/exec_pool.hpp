#pragma once
// A process-wide pool of executable slots, so that compiling a program costs
// no mmap, mprotect or munmap once the pool is warm.
//
// W^X without flipping permissions: each chunk is one memfd mapped twice, a
// read+execute view the code runs from and a read+write view it is written
// through, at unrelated addresses. No mapping is ever writable and executable
// (the kernel's view in /proc/self/maps shows r-x and rw-, never rwx), and no
// page changes its permissions after the chunk is made. Slots of one size
// class sit between inaccessible guard pages in the executable view; a slot
// is filled with INT3 when first handed out and its code overwritten with
// INT3 when freed, so no stale code is ever reachable.
//
// After fork() a child stops using (and writing to) the chunks it inherited:
// they are shared with the parent, whose code lives in them.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vm/util/result.hpp"

namespace bpfdiff::jit {

class ExecPool {
 public:
  struct Slot {
    uint8_t* exec = nullptr;   // read+execute view: where the code runs
    uint8_t* write = nullptr;  // read+write view of the same pages
    std::size_t bytes = 0;     // pages of the slot, without its guard pages
    uint32_t chunk = 0;        // the owner's bookkeeping
    uint32_t index = 0;
    uint64_t generation = 0;  // the pool's fork generation when handed out
  };

  // The largest code a pooled slot holds; larger code gets its own mapping.
  // 4 MiB: a 100,000-slot program's code (about 1.4 MB) is pooled too, so
  // compiling it again costs no mapping and no page faults.
  static constexpr std::size_t kMaxPooledBytes = std::size_t{4} << 20;

  static ExecPool& instance();

  // A slot of at least `bytes` bytes (at most kMaxPooledBytes), all INT3.
  Result<Slot> acquire(std::size_t bytes);
  // Fills the first `used` bytes of the slot (the rest never left INT3)
  // with INT3 again and makes it available; a slot handed out before a fork
  // is only forgotten in the child.
  void release(const Slot& slot, std::size_t used);

  // Chunks created so far (each is a set of mappings made once).
  std::size_t chunks_created() const;

 private:
  ExecPool() = default;
  struct Impl;
  Impl& impl() const;
};

}  // namespace bpfdiff::jit
