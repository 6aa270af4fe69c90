#pragma once
// The run-time instances of a program's maps. Each map's values live in one
// slab mapped as region kFirstMapRegion + i, so a pointer a helper returns is
// an ordinary virtual address, checked like every other access. Contents
// persist across the runs of one engine instance, as kernel maps do across
// program runs; reset() restores the initial contents.
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vm/program/maps.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::vm {

// Linux errno values, returned negated by the map helpers as the kernel does.
inline constexpr int64_t kENOENT = 2;
inline constexpr int64_t kEPERM = 1;
inline constexpr int64_t kE2BIG = 7;
inline constexpr int64_t kEEXIST = 17;
inline constexpr int64_t kEINVAL = 22;

// map_update_elem flags.
inline constexpr uint64_t kBpfAny = 0;
inline constexpr uint64_t kBpfNoExist = 1;
inline constexpr uint64_t kBpfExist = 2;
inline constexpr uint64_t kBpfFLock = 4;  // update under the value's spin lock

// A map's contents at one moment: arrays list every index, hash maps their
// keys in byte order, program arrays the slot each filled index calls.
struct MapSnapshot {
  std::string name;
  MapType type = MapType::Array;
  std::vector<MapEntry> entries;
  bool operator==(const MapSnapshot&) const = default;
};

// Orders hash keys (all of one map's keys have its key_size) by their bytes.
struct KeyLess {
  bool operator()(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) const {
    if (a.size() != b.size()) return a.size() < b.size();
    return !a.empty() && std::memcmp(a.data(), b.data(), a.size()) < 0;
  }
};

class MapInstance {
 public:
  MapInstance(const MapDef& def, uint32_t index);

  const MapDef& def() const { return *def_; }
  // Virtual address of the value in `slot`.
  uint64_t value_address(uint32_t slot) const {
    return map_values_base(index_) + uint64_t{slot} * def_->value_size;
  }
  void reset();

  // The values slab: max_entries * value_size bytes.
  std::span<uint8_t> values() { return values_; }

  // Slot of `key`'s value, if present. `key` has def().key_size bytes.
  std::optional<uint32_t> find(std::span<const uint8_t> key) const;
  // 0 or a negated errno, as bpf_map_update_elem / bpf_map_delete_elem return.
  int64_t update(std::span<const uint8_t> key, std::span<const uint8_t> value, uint64_t flags);
  int64_t remove(std::span<const uint8_t> key);
  // Program arrays: the slot the program at `index` starts at.
  std::optional<uint32_t> program_at(uint32_t index) const;

  MapSnapshot snapshot() const;

 private:
  const MapDef* def_;
  uint32_t index_;
  std::vector<uint8_t> values_;
  std::map<std::vector<uint8_t>, uint32_t, KeyLess> hash_slots_;  // hash maps: key -> slot
  std::vector<uint32_t> free_slots_;                              // hash maps: lowest slot last
  std::vector<std::optional<uint32_t>> programs_;                 // program arrays
};

class MapStore {
 public:
  MapStore() = default;
  explicit MapStore(std::span<const MapDef> defs);

  void reset();
  // Maps every map's values as region kFirstMapRegion + i (read-only maps
  // read-only; program arrays stay unmapped: their values are not data).
  void map_into(AddressSpace& memory);
  // The map a handle from `lddw map_fd/map_idx` names, or nullptr.
  MapInstance* from_handle(uint64_t handle);
  std::size_t size() const { return maps_.size(); }
  MapInstance& at(std::size_t i) { return maps_[i]; }

  std::vector<MapSnapshot> snapshot() const;

 private:
  std::vector<MapInstance> maps_;
};

}  // namespace bpfdiff::vm
