#pragma once
// Map definitions for tests: the one place a test builds a vm::MapDef, so a
// new MapDef field needs one default here rather than one in every test
// that hand-assembles a map. Each builder sets what its map type requires
// (an array's 4-byte key, a program array's 4-byte value); tests set the
// rest (initial values, entries, flags) on the result.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vm/program/maps.hpp"

namespace bpfdiff::test_support {

inline vm::MapDef array_map(std::string name, uint32_t value_size, uint32_t max_entries,
                            std::vector<uint8_t> initial_values = {}) {
  vm::MapDef m;
  m.name = std::move(name);
  m.type = vm::MapType::Array;
  m.key_size = 4;
  m.value_size = value_size;
  m.max_entries = max_entries;
  m.initial_values = std::move(initial_values);
  return m;
}

inline vm::MapDef hash_map(std::string name, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                           std::vector<vm::MapEntry> initial_entries = {}) {
  vm::MapDef m = array_map(std::move(name), value_size, max_entries);
  m.type = vm::MapType::Hash;
  m.key_size = key_size;
  m.initial_entries = std::move(initial_entries);
  return m;
}

// `entries`: (key, slot where the target program starts).
inline vm::MapDef prog_array(std::string name, uint32_t max_entries,
                             std::vector<std::pair<uint32_t, uint32_t>> entries) {
  vm::MapDef m = array_map(std::move(name), 4, max_entries);
  m.type = vm::MapType::ProgArray;
  m.prog_entries = std::move(entries);
  return m;
}

// An array map holding `bytes` as its one value (global data, strings).
inline vm::MapDef data_map(std::string name, const std::string& bytes, bool read_only = true) {
  vm::MapDef m = array_map(std::move(name), static_cast<uint32_t>(bytes.size()), 1);
  m.initial_values.assign(bytes.begin(), bytes.end());
  m.read_only = read_only;
  return m;
}

}  // namespace bpfdiff::test_support
