#pragma once
// From a kernel executor's response to an Outcome that compares with ours:
// shared by every kernel engine (kernel-host here, the QEMU guest engines).
//
// The kernel's pointers are kernel addresses; ours are region + offset
// (vm/runtime/memory.hpp). A register that points into (or near) the memory
// value or the entry stack frame is translated so that `r1 + 4` reads
// 0x200000004 in both: memory_base -> region Input, frame_base -> the top of
// our stack (what r10 holds in our VM with the same call-depth limit).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "oracle/kernel/kernel_request.hpp"
#include "oracle/outcome.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::oracle {

// How far from a base a value may lie and still be a pointer derived from
// it: the verifier bounds pointer offsets by 2^29 (BPF_MAX_VAR_OFF).
inline constexpr uint64_t kPointerWindow = uint64_t{1} << 29;

// An array map's values: the kernel lays them out 8-byte aligned, ours
// value_size apart in region 32 + index.
struct MapValueBase {
  uint64_t kernel_base = 0;  // value 0 in the kernel; 0: unknown (hash maps)
  uint32_t value_size = 0;
  uint32_t entries = 0;
  uint32_t index = 0;  // the map's index in the program
};

struct KernelBases {
  uint64_t memory_base = 0;  // 0: no memory
  uint64_t memory_size = 0;
  uint64_t frame_base = 0;  // 0: unknown
  uint64_t our_stack_top = 0;
  std::vector<MapValueBase> maps;
};

// `value` in our address space when it lies within kPointerWindow of one
// of the bases (the nearest wins), else unchanged.
uint64_t translate_pointer(uint64_t value, const KernelBases& bases);
// The same within `window` bytes of either object instead.
uint64_t translate_pointer(uint64_t value, const KernelBases& bases, uint64_t window);

// loaded = the kernel accepted and ran it; load_error = why not (rejection
// reason and errno, or the Unsupported/Failed message); regs translated,
// r10 = our stack top, unexported registers 0; no stack, no instruction
// count (the kernel gives neither); Outcome::kernel filled in.
// `maps` are the request's (their value sizes translate pointers into array
// values); the kernel's map contents become Outcome::maps (full-state run)
// and KernelOutcome::plain_maps, hash keys sorted as our snapshots sort them.
Outcome outcome_from_response(const std::string& engine, const kernel::KernelResponse& response,
                              const vm::ExecLimits& limits, std::span<const kernel::KernelMap> maps = {});

// The kernel's map contents in our snapshot form (arrays by index, hash
// maps by key bytes).
std::vector<vm::MapSnapshot> to_snapshots(const std::vector<kernel::KernelMapContents>& contents,
                                          std::span<const kernel::KernelMap> maps);

const char* to_string(kernel::KernelVerdict verdict);

}  // namespace bpfdiff::oracle
