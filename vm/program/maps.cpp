#include "vm/program/maps.hpp"

#include <set>
#include <string>

namespace bpfdiff::vm {
namespace {

Error map_error(std::size_t index, const MapDef& map, const char* field, const std::string& reason) {
  return make_error("map " + std::to_string(index) + " '" + map.name + "': " + field + ": " + reason);
}

std::string hex_bytes(const std::vector<uint8_t>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Result<void> check_initial_entries(std::size_t index, const MapDef& m) {
  if (m.initial_entries.empty()) return {};
  if (m.type != MapType::Hash) return map_error(index, m, "initial_entries", "only hash maps have them");
  if (m.initial_entries.size() > m.max_entries) {
    return map_error(index, m, "initial_entries",
                     std::to_string(m.initial_entries.size()) + " entries, more than max_entries " +
                         std::to_string(m.max_entries));
  }
  // By their bytes as a string: g++ 12 warns (wrongly) about std::less of
  // byte vectors.
  std::set<std::string> keys;
  for (std::size_t i = 0; i < m.initial_entries.size(); ++i) {
    const MapEntry& e = m.initial_entries[i];
    const std::string which = "entry " + std::to_string(i) + ": ";
    if (e.key.size() != m.key_size) {
      return map_error(index, m, "initial_entries",
                       which + "a key of " + std::to_string(e.key.size()) + " bytes, but key_size is " +
                           std::to_string(m.key_size));
    }
    if (e.value.size() != m.value_size) {
      return map_error(index, m, "initial_entries",
                       which + "a value of " + std::to_string(e.value.size()) + " bytes, but value_size is " +
                           std::to_string(m.value_size));
    }
    if (!keys.emplace(e.key.begin(), e.key.end()).second) {
      return map_error(index, m, "initial_entries", which + "key " + hex_bytes(e.key) + " is given twice");
    }
  }
  return {};
}

Result<void> check_map(std::size_t index, const MapDef& m) {
  switch (m.type) {
    case MapType::Hash:
      if (m.key_size == 0 || m.key_size > kMaxMapKeySize) {
        return map_error(index, m, "key_size",
                         std::to_string(m.key_size) + " is not in 1.." + std::to_string(kMaxMapKeySize));
      }
      break;
    case MapType::Array:
    case MapType::ProgArray:
      if (m.key_size != 4) {
        return map_error(index, m, "key_size", "must be 4 for an array, is " + std::to_string(m.key_size));
      }
      break;
    default:
      return map_error(index, m, "type",
                       "map type " + std::to_string(static_cast<uint32_t>(m.type)) + " is not supported");
  }
  if (m.type == MapType::ProgArray && m.value_size != 4) {
    return map_error(index, m, "value_size",
                     "must be 4 for a program array, is " + std::to_string(m.value_size));
  }
  if (m.value_size == 0 || m.value_size > kMaxMapValueSize) {
    return map_error(index, m, "value_size",
                     std::to_string(m.value_size) + " is not in 1.." + std::to_string(kMaxMapValueSize));
  }
  if (m.max_entries == 0) return map_error(index, m, "max_entries", "0 is not allowed");
  const uint64_t bytes = uint64_t{m.max_entries} * m.value_size;
  if (bytes > kMaxMapBytes) {
    return map_error(index, m, "max_entries",
                     std::to_string(m.max_entries) + " values of " + std::to_string(m.value_size) +
                         " bytes exceed the limit of " + std::to_string(kMaxMapBytes) + " bytes per map");
  }
  if (!m.initial_values.empty()) {
    if (m.type != MapType::Array) return map_error(index, m, "initial_values", "only array maps have them");
    if (m.initial_values.size() != bytes) {
      return map_error(index, m, "initial_values",
                       std::to_string(m.initial_values.size()) + " bytes, but max_entries * value_size is " +
                           std::to_string(bytes));
    }
  }
  if (m.read_only && m.type != MapType::Array) {
    return map_error(index, m, "read_only", "only array maps can be read-only");
  }
  if (auto r = check_initial_entries(index, m); !r.ok()) return r;
  if (!m.prog_entries.empty() && m.type != MapType::ProgArray) {
    return map_error(index, m, "prog_entries", "only program arrays hold programs");
  }
  std::set<uint32_t> keys;
  for (const auto& [key, slot] : m.prog_entries) {
    if (key >= m.max_entries) {
      return map_error(
          index, m, "prog_entries",
          "key " + std::to_string(key) + " is past max_entries " + std::to_string(m.max_entries));
    }
    if (!keys.insert(key).second) {
      return map_error(index, m, "prog_entries", "key " + std::to_string(key) + " is given twice");
    }
  }
  return {};
}

}  // namespace

const char* to_string(MapType type) {
  switch (type) {
    case MapType::Hash:
      return "hash";
    case MapType::Array:
      return "array";
    case MapType::ProgArray:
      return "prog_array";
  }
  return "unknown";
}

Result<void> check_maps(std::span<const MapDef> maps) {
  if (maps.size() > kMaxMaps) {
    return make_error("the program has " + std::to_string(maps.size()) + " maps, more than the limit of " +
                      std::to_string(kMaxMaps));
  }
  for (std::size_t i = 0; i < maps.size(); ++i) {
    if (auto r = check_map(i, maps[i]); !r.ok()) return r;
  }
  return {};
}

}  // namespace bpfdiff::vm
