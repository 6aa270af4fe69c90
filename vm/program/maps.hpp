#pragma once
// Maps and the other programs of an object: the parts of a Program beyond its
// instructions that front ends (the ELF loader, tests, the generator) fill in
// and the runtime instantiates.
//
// Addresses. A program never holds a host pointer to a map:
// - `lddw rX, map_fd/map_idx(i)` loads map i's *handle*, an address in the
//   Maps region, which is never mapped: the handle can be passed to helpers
//   but every load or store through it faults, like a Code address.
// - map i's values live in region kFirstMapRegion + i (a slab of max_entries
//   values), so `lddw rX, map_value(i, off)` is a constant the validator
//   computes and a map lookup returns an ordinary checked address.
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vm/runtime/memory.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::vm {

// Linux BPF_MAP_TYPE_* numbering, so ELF map definitions carry over as is.
enum class MapType : uint32_t {
  Hash = 1,
  Array = 2,
  ProgArray = 3,
};

const char* to_string(MapType type);

// One key and its value: a hash map's starting entry, and in dumps and
// full-state comparisons any map's entry.
struct MapEntry {
  std::vector<uint8_t> key;
  std::vector<uint8_t> value;
  bool operator==(const MapEntry&) const = default;
};

struct MapDef {
  std::string name;
  MapType type = MapType::Array;
  uint32_t key_size = 4;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t flags = 0;
  // Array maps: max_entries * value_size bytes, or empty for all zeros. This
  // is how global data (.data, .rodata) arrives: one entry holding the section.
  std::vector<uint8_t> initial_values;
  // Hash maps: the entries the map holds before the first run, inserted in
  // this order (so they take the lowest slots, first entry first). Keys are
  // key_size bytes and distinct, values value_size bytes, at most
  // max_entries of them. The kernel engines insert them with
  // BPF_MAP_UPDATE_ELEM before each run.
  std::vector<MapEntry> initial_entries;
  // .rodata: the values region is read-only, so a store by the program faults
  // and map_update_elem fails.
  bool read_only = false;
  // ProgArray: key -> slot where the target program starts (a slot of
  // Program::entries or any function start of the same slot array).
  std::vector<std::pair<uint32_t, uint32_t>> prog_entries;
};

// Another program of the same object, living in the same slot array.
struct ProgramEntry {
  std::string name;  // e.g. the ELF section or function name
  uint32_t slot = 0;
};

// Map i's values occupy region kFirstMapRegion + i; regions below are for
// caller-registered buffers.
inline constexpr uint32_t kFirstMapRegion = 32;
inline constexpr uint32_t kMaxMaps = kMaxRegions - kFirstMapRegion;
// Bounds that keep a slab well inside a region and allocations sane.
inline constexpr uint32_t kMaxMapKeySize = 512;
inline constexpr uint32_t kMaxMapValueSize = 1u << 20;
inline constexpr uint64_t kMaxMapBytes = uint64_t{64} << 20;  // values slab of one map
// Linux's MAX_TAIL_CALL_CNT: tail calls one run may take.
inline constexpr uint32_t kMaxTailCalls = 33;

// The definitions are consistent and within the limits above. Errors read
// "map 1 'counts': value_size: 0 is not allowed".
Result<void> check_maps(std::span<const MapDef> maps);

constexpr uint64_t map_handle(uint32_t index) {
  return region_base(RegionId::Maps) + index;
}
constexpr uint64_t map_values_base(uint32_t index) {
  return region_base(kFirstMapRegion + index);
}

}  // namespace bpfdiff::vm
