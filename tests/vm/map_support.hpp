#pragma once
// Test support for programs with maps and the standard helpers: one
// validated program on one engine instance, run as often as a test needs
// (maps persist between runs, as in the kernel), with the maps and the
// trace_printk output after each run.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tests/vm/program_builder.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::test {

inline vm::MapDef array_map(std::string name, uint32_t value_size, uint32_t max_entries) {
  vm::MapDef m;
  m.name = std::move(name);
  m.type = vm::MapType::Array;
  m.key_size = 4;
  m.value_size = value_size;
  m.max_entries = max_entries;
  return m;
}

inline vm::MapDef hash_map(std::string name, uint32_t key_size, uint32_t value_size, uint32_t max_entries) {
  vm::MapDef m = array_map(std::move(name), value_size, max_entries);
  m.type = vm::MapType::Hash;
  m.key_size = key_size;
  return m;
}

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

inline uint64_t u64_at(const std::vector<uint8_t>& bytes, std::size_t offset) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data() + offset, 8);
  return v;
}

inline constexpr uint64_t neg_errno(int64_t e) {
  return static_cast<uint64_t>(-e);
}

class MapProgram {
 public:
  MapProgram(vm::Program program, vm::ExecLimits limits = {}) {
    auto loaded = vm::validate(program, vm::standard_helpers());
    if (!loaded.ok()) {
      ADD_FAILURE() << "validation failed: " << loaded.error().message;
      program = ProgramBuilder().mov(0, 0).exit().program();
      loaded = vm::validate(program, vm::standard_helpers());
    }
    loaded_ = std::make_unique<vm::LoadedProgram>(std::move(loaded).value());
    engine_ = std::make_unique<EngineUnderTest>(*loaded_, vm::standard_helpers(), limits);
  }

  vm::RunResult run(vm::RunInput input = {vm::RunMode::NoData, {}}) { return engine_->run(input); }
  std::vector<vm::MapSnapshot> maps() { return engine_->env().maps.snapshot(); }
  const std::vector<std::string>& trace() { return engine_->env().trace; }
  EngineUnderTest& engine() { return *engine_; }

 private:
  std::unique_ptr<vm::LoadedProgram> loaded_;
  std::unique_ptr<EngineUnderTest> engine_;
};

inline vm::Program with_maps(const ProgramBuilder& b, std::vector<vm::MapDef> maps) {
  vm::Program p = b.program();
  p.maps = std::move(maps);
  return p;
}

}  // namespace bpfdiff::test
