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

#include "tests/support/map_defs.hpp"
#include "tests/vm/program_builder.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::test {

using test_support::array_map;
using test_support::data_map;
using test_support::hash_map;
using test_support::prog_array;

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
