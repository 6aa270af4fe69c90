#pragma once
// The kernel maps of the requests an executor serves (kernel_request.hpp's
// KernelMap): created in the kernel, filled with the initial contents
// before each run, read back after it.
//
// Cost. Creating a map is a syscall and a kernel allocation per map per
// request, and closing it defers its freeing to an RCU grace period, so a
// pool keeps the maps of every shape (type, key size, value size, entries)
// seen recently and resets their contents instead: an array is an
// mmappable BPF_MAP_TYPE_ARRAY written and read through its mapping (no
// syscall), a hash map is emptied key by key (a generated program inserts a
// handful) and its starting entries inserted again. Read-only maps (.rodata)
// cannot be reused: once frozen their contents are fixed, so each request
// gets fresh ones, closed at its end.
//
// Runs do not leak into each other: reset() restores every map of the
// request before each of its two runs (unmodified, full state). A hash map
// whose contents, as read back after the last run, are already its
// starting entries in the same order is left alone: most programs never
// change their hash maps, and emptying and refilling one costs a syscall
// per key, a tenth of a guest's time under TCG. Equal contents in equal
// iteration order leave nothing a program can observe different (element
// addresses aside, which are kernel pointers we never compare).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oracle/kernel/bpf_syscall.hpp"
#include "oracle/kernel/kernel_request.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel {

// Refuses what the executor cannot create with the same meaning, with the
// reason: too many maps, an unknown type, a program array with a target
// other than the program itself, sizes past the request bounds, initial values of the
// wrong length, a key size other than 4 for an array, starting entries
// anywhere but in a hash map, of the wrong sizes, repeated or too many.
Result<void> check_request_maps(std::span<const KernelMap> maps);

// The target at `index` of a program array: 1 + its slot, 0 when empty.
uint32_t program_array_target(const KernelMap& map, uint32_t index);

class KernelMapPool {
 public:
  KernelMapPool() = default;
  ~KernelMapPool();
  KernelMapPool(const KernelMapPool&) = delete;
  KernelMapPool& operator=(const KernelMapPool&) = delete;

  // Takes (or creates) one kernel map per request map, in order; the
  // previous request's maps go back to the pool. Fails with the syscall's
  // error (e.g. "bpf(BPF_MAP_FREEZE): EINVAL" on a kernel without it).
  Result<void> acquire(std::span<const KernelMap> maps);
  // The descriptors of the acquired maps, in request order.
  const std::vector<int>& fds() const { return fds_; }
  // Every acquired map back to its initial contents.
  Result<void> reset();
  // Every acquired map's contents. Remembers a hash map's as its known
  // contents, which the next reset() may keep.
  Result<std::vector<KernelMapContents>> read();

  std::size_t pooled() const { return pool_.size(); }
  // Hash maps emptied and refilled by reset() so far (the others were
  // already as they start).
  uint64_t hash_refills() const { return hash_refills_; }

  // The request has a program array (its programs are tail-call targets).
  bool has_program_array() const;
  // A kernel program and the slot of our program it starts at.
  struct ProgramAt {
    uint32_t slot = 0;
    int prog_fd = -1;
  };
  // Puts at every index of every program array the kernel program of the
  // slot our VM tail-calls there (program_pieces.hpp); fails when none of
  // `programs` starts there.
  Result<void> fill_program_arrays(std::span<const ProgramAt> programs);

 private:
  struct Pooled {
    Fd fd;
    KernelMap shape;          // initial_values empty: only the shape matters for reuse
    uint8_t* data = nullptr;  // mmappable arrays
    std::size_t mapped = 0;
    bool in_use = false;
    // A hash map's entries in iteration order, as last read back (empty
    // when created); unknown from a reset() until the next read(), since a
    // run follows every reset and may change them.
    std::optional<std::vector<KernelMapEntry>> known;
    ~Pooled();
  };
  Result<std::unique_ptr<Pooled>> create(const KernelMap& map) const;
  void release();

  std::vector<std::unique_ptr<Pooled>> pool_;
  std::vector<std::unique_ptr<Pooled>> read_only_;  // this request's only (read-only and program arrays)
  std::vector<Pooled*> active_;                     // request order
  std::vector<KernelMap> defs_;                     // the request's maps, with initial contents
  std::vector<int> fds_;
  uint64_t hash_refills_ = 0;
};

}  // namespace bpfdiff::oracle::kernel
