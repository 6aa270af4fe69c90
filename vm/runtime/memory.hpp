#pragma once
// The address space every engine runs programs in.
//
// Programs see virtual addresses, not host pointers: region k occupies
// [k << 32, (k + 1) << 32), and an address translates by a shift, a table
// index and one range compare. Why virtual: the same program and input give
// bit-identical register values in the interpreter, the JIT and every re-run,
// so the differential harness can compare pointer-valued registers directly
// and a finding reproduces on another machine. Region 0 is never mapped, so
// a null or small-integer pointer always faults.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace bpfdiff::vm {

inline constexpr unsigned kRegionShift = 32;
inline constexpr uint64_t kRegionOffsetMask = (uint64_t{1} << kRegionShift) - 1;
inline constexpr uint32_t kMaxRegions = 64;

// Fixed region numbers; regions from kFirstDynamicRegion on are handed out
// for maps, global data and caller-registered buffers.
enum class RegionId : uint32_t {
  Null = 0,
  Stack = 1,
  Input = 2,   // the run's input memory or context (r1)
  Packet = 3,  // packet data in packet run modes
  Code = 4,    // function addresses (lddw code, callx); never readable
  Maps = 5,    // map handles (lddw map_fd/map_idx); never readable
  FirstDynamic = 8,
};

constexpr uint64_t region_base(RegionId id) {
  return static_cast<uint64_t>(id) << kRegionShift;
}
constexpr uint64_t region_base(uint32_t index) {
  return static_cast<uint64_t>(index) << kRegionShift;
}

// A mapped region. Only offsets in [lo, hi) are live; the stack moves lo as
// frames are pushed and popped so dead frames are out of bounds.
struct Region {
  uint8_t* host = nullptr;  // host address of offset 0
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool writable = false;
};

class AddressSpace {
 public:
  // Maps `bytes` as region `index`; returns the virtual address of bytes[0].
  uint64_t map(uint32_t index, std::span<uint8_t> bytes, bool writable) {
    regions_[index] = Region{bytes.data(), 0, bytes.size(), writable};
    return region_base(index);
  }
  // Maps `bytes` as offsets [offset, offset + size) of region `index`; the
  // rest of the region stays out of bounds. Used for packets, which sit high
  // in region 0 so that their addresses fit 32 bits while null still faults.
  uint64_t map_at(uint32_t index, uint64_t offset, std::span<uint8_t> bytes, bool writable) {
    // host is the address offset 0 would have: never dereferenced itself,
    // only offset back into [lo, hi) by translate.
    auto* host = reinterpret_cast<uint8_t*>(reinterpret_cast<uintptr_t>(bytes.data()) - offset);
    regions_[index] = Region{host, offset, offset + bytes.size(), writable};
    return region_base(index) + offset;
  }
  void unmap(uint32_t index) { regions_[index] = Region{}; }
  void clear() { regions_.fill(Region{}); }

  Region& region(uint32_t index) { return regions_[index]; }
  const Region& region(uint32_t index) const { return regions_[index]; }

  // The hot path of every load and store: host pointer or nullptr.
  uint8_t* translate(uint64_t addr, uint64_t size, bool write) const {
    const uint64_t index = addr >> kRegionShift;
    if (index >= kMaxRegions) return nullptr;
    const Region& r = regions_[index];
    const uint64_t off = addr & kRegionOffsetMask;
    // off < 2^32 and size is small, so off + size cannot wrap.
    if (off < r.lo || off + size > r.hi || (write && !r.writable)) return nullptr;
    // Integer arithmetic: a region mapped with map_at has a host base that
    // is not inside any object, so C++ pointer arithmetic on it would be UB.
    return reinterpret_cast<uint8_t*>(reinterpret_cast<uintptr_t>(r.host) + off);
  }

  // For the JIT: the table it indexes directly.
  const Region* table() const { return regions_.data(); }

 private:
  std::array<Region, kMaxRegions> regions_{};
};

}  // namespace bpfdiff::vm
