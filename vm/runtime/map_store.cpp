#include "vm/runtime/map_store.hpp"

#include <algorithm>
#include <cstring>

namespace bpfdiff::vm {
namespace {

uint32_t array_index(std::span<const uint8_t> key) {
  uint32_t index = 0;
  std::memcpy(&index, key.data(), sizeof index);
  return index;
}

std::vector<uint8_t> le32(uint32_t v) {
  std::vector<uint8_t> out(4);
  std::memcpy(out.data(), &v, 4);
  return out;
}

}  // namespace

MapInstance::MapInstance(const MapDef& def, uint32_t index) : def_(&def), index_(index) {
  reset();
}

void MapInstance::reset() {
  const MapDef& d = *def_;
  const std::size_t bytes = std::size_t{d.max_entries} * d.value_size;
  if (d.initial_values.size() == bytes) {
    values_ = d.initial_values;
  } else {
    values_.assign(bytes, 0);
  }
  hash_slots_.clear();
  free_slots_.clear();
  programs_.clear();
  switch (d.type) {
    case MapType::Hash:
      // Handed out lowest first, so the slots (and the addresses lookups
      // return) are a deterministic function of the operations.
      free_slots_.reserve(d.max_entries);
      for (uint32_t s = d.max_entries; s > 0; --s)
        free_slots_.push_back(s - 1);
      // The starting entries take slots as inserts by the program would.
      // check_maps refuses wrong sizes; skipping them here keeps an
      // unchecked definition from reading past a short value.
      for (const MapEntry& e : d.initial_entries) {
        if (e.key.size() == d.key_size && e.value.size() == d.value_size) update(e.key, e.value, kBpfNoExist);
      }
      break;
    case MapType::ProgArray:
      programs_.assign(d.max_entries, std::nullopt);
      for (const auto& [key, slot] : d.prog_entries) {
        if (key < d.max_entries) programs_[key] = slot;
      }
      break;
    case MapType::Array:
      break;
  }
}

std::optional<uint32_t> MapInstance::find(std::span<const uint8_t> key) const {
  switch (def_->type) {
    case MapType::Array: {
      const uint32_t index = array_index(key);
      if (index >= def_->max_entries) return std::nullopt;
      return index;
    }
    case MapType::Hash: {
      auto it = hash_slots_.find(std::vector<uint8_t>(key.begin(), key.end()));
      if (it == hash_slots_.end()) return std::nullopt;
      return it->second;
    }
    case MapType::ProgArray:
      return std::nullopt;  // program arrays hold programs, not data a program may read
  }
  return std::nullopt;
}

int64_t MapInstance::update(std::span<const uint8_t> key, std::span<const uint8_t> value, uint64_t flags) {
  // The kernel's checks, in its order (array_map_update_elem and
  // htab_map_update_elem): unknown flags, BPF_F_LOCK aside; for an array the
  // index, then NOEXIST, then BPF_F_LOCK (none of our maps has a spin lock, so
  // it is invalid); for a hash BPF_F_LOCK at once, then existence. The order
  // decides which errno a program sees when several checks fail.
  if ((flags & ~kBpfFLock) > kBpfExist) return -kEINVAL;
  const uint32_t vsize = def_->value_size;
  switch (def_->type) {
    case MapType::Array: {
      if (def_->read_only) return -kEPERM;
      const uint32_t index = array_index(key);
      if (index >= def_->max_entries) return -kE2BIG;
      if ((flags & kBpfNoExist) != 0) return -kEEXIST;  // every array element exists
      if ((flags & kBpfFLock) != 0) return -kEINVAL;
      // memmove: the value may be a pointer into this very slab.
      std::memmove(values_.data() + std::size_t{index} * vsize, value.data(), vsize);
      return 0;
    }
    case MapType::Hash: {
      if ((flags & kBpfFLock) != 0) return -kEINVAL;
      std::vector<uint8_t> k(key.begin(), key.end());
      auto it = hash_slots_.find(k);
      if (it != hash_slots_.end()) {
        if (flags == kBpfNoExist) return -kEEXIST;
        std::memmove(values_.data() + std::size_t{it->second} * vsize, value.data(), vsize);
        return 0;
      }
      if (flags == kBpfExist) return -kENOENT;
      if (free_slots_.empty()) return -kE2BIG;
      const uint32_t slot = free_slots_.back();
      free_slots_.pop_back();
      std::memmove(values_.data() + std::size_t{slot} * vsize, value.data(), vsize);
      hash_slots_.emplace(std::move(k), slot);
      return 0;
    }
    case MapType::ProgArray:
      return -kEINVAL;  // the kernel only lets user space fill program arrays
  }
  return -kEINVAL;
}

int64_t MapInstance::remove(std::span<const uint8_t> key) {
  switch (def_->type) {
    case MapType::Array:
    case MapType::ProgArray:
      return -kEINVAL;  // array elements cannot be deleted
    case MapType::Hash: {
      auto it = hash_slots_.find(std::vector<uint8_t>(key.begin(), key.end()));
      if (it == hash_slots_.end()) return -kENOENT;
      // The slot's bytes stay mapped (a pointer from an earlier lookup still
      // reads them, as RCU lets it in the kernel) until the slot is reused.
      free_slots_.push_back(it->second);
      hash_slots_.erase(it);
      return 0;
    }
  }
  return -kEINVAL;
}

std::optional<uint32_t> MapInstance::program_at(uint32_t index) const {
  if (def_->type != MapType::ProgArray || index >= programs_.size()) return std::nullopt;
  return programs_[index];
}

MapSnapshot MapInstance::snapshot() const {
  MapSnapshot s;
  s.name = def_->name;
  s.type = def_->type;
  const uint32_t vsize = def_->value_size;
  auto value_at = [&](uint32_t slot) {
    const auto* p = values_.data() + std::size_t{slot} * vsize;
    return std::vector<uint8_t>(p, p + vsize);
  };
  switch (def_->type) {
    case MapType::Array:
      for (uint32_t i = 0; i < def_->max_entries; ++i)
        s.entries.push_back({le32(i), value_at(i)});
      break;
    case MapType::Hash:
      for (const auto& [key, slot] : hash_slots_)
        s.entries.push_back({key, value_at(slot)});
      break;
    case MapType::ProgArray:
      for (uint32_t i = 0; i < programs_.size(); ++i) {
        if (programs_[i]) s.entries.push_back({le32(i), le32(*programs_[i])});
      }
      break;
  }
  return s;
}

MapStore::MapStore(std::span<const MapDef> defs) {
  maps_.reserve(defs.size());
  for (std::size_t i = 0; i < defs.size(); ++i)
    maps_.emplace_back(defs[i], static_cast<uint32_t>(i));
}

void MapStore::reset() {
  for (MapInstance& m : maps_)
    m.reset();
}

void MapStore::map_into(AddressSpace& memory) {
  for (std::size_t i = 0; i < maps_.size(); ++i) {
    MapInstance& m = maps_[i];
    if (m.def().type == MapType::ProgArray) continue;
    memory.map(kFirstMapRegion + static_cast<uint32_t>(i), m.values(), !m.def().read_only);
  }
}

MapInstance* MapStore::from_handle(uint64_t handle) {
  if ((handle >> kRegionShift) != static_cast<uint64_t>(RegionId::Maps)) return nullptr;
  const uint64_t index = handle & kRegionOffsetMask;
  if (index >= maps_.size()) return nullptr;
  return &maps_[index];
}

std::vector<MapSnapshot> MapStore::snapshot() const {
  std::vector<MapSnapshot> out;
  out.reserve(maps_.size());
  for (const MapInstance& m : maps_)
    out.push_back(m.snapshot());
  return out;
}

}  // namespace bpfdiff::vm
