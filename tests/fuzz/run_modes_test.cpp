// Generated programs recast for every run mode: each recast program still
// validates, its input fits its mode, the interpreter and every JIT option
// set agree on it, and the probes reach the read-only regions -- stores and
// atomics to the XDP context and to .rodata fault, reads do not.
#include "fuzz/run_modes.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fuzz/differential.hpp"
#include "fuzz/generator.hpp"
#include "oracle/engine.hpp"
#include "vm/program/validate.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::fuzz {
namespace {

ModeCase recast(uint64_t seed, vm::RunMode mode) {
  ByteSource gen(seed);
  const GeneratedCase c = generate(gen, {64});
  ByteSource src(seed ^ 0x5eed);
  return recast_for_mode(c.program, c.memory, mode, kGeneratedInstructionBudget, src);
}

TEST(RunModes, EveryModeRecastValidatesFitsAndAgreesOnEveryEngine) {
  std::map<vm::RunMode, std::size_t> ran_ok;
  std::size_t kept_in_memory_mode = 0;
  for (const vm::RunMode mode : all_run_modes()) {
    for (uint64_t seed = 0; seed < 150; ++seed) {
      const ModeCase m = recast(seed, mode);
      // The few programs whose slot 0 is a function start stay in memory mode.
      if (m.input.mode != mode) {
        EXPECT_EQ(m.input.mode, vm::RunMode::Memory);
        ++kept_in_memory_mode;
      }
      auto loaded = vm::validate(m.program, oracle::default_helpers());
      ASSERT_TRUE(loaded) << text::run_mode_name(mode) << " seed " << seed << ": " << loaded.error().message;
      std::vector<uint8_t> memory = m.input.memory;
      std::vector<uint8_t> metadata = m.input.metadata;
      EXPECT_EQ(vm::check_run_input(oracle::run_input(m.input, memory, metadata)), "");
      oracle::Outcome reference;
      const auto divergence = find_divergence(m.program, m.input, &reference);
      ASSERT_FALSE(divergence) << text::run_mode_name(mode) << " seed " << seed << ": "
                               << divergence->title();
      if (reference.ok()) ++ran_ok[mode];
    }
  }
  EXPECT_LT(kept_in_memory_mode, 4 * 150 / 20);
  // The adapters hand the body a usable memory: many programs run to exit.
  for (const vm::RunMode mode : all_run_modes())
    EXPECT_GT(ran_ok[mode], 30u) << text::run_mode_name(mode);
}

TEST(RunModes, MemoryModeWithoutAProbeIsTheProgramAsItIs) {
  std::size_t unchanged = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    ByteSource gen(seed);
    const GeneratedCase c = generate(gen, {64});
    ByteSource src(seed);
    const ModeCase m = recast_for_mode(c.program, c.memory, vm::RunMode::Memory, 100, src);
    EXPECT_EQ(m.input.limits.instruction_budget, 100u);
    if (m.program.slots == c.program.slots) {
      ++unchanged;
      EXPECT_EQ(m.program.maps.size(), c.program.maps.size());
      EXPECT_EQ(m.input.memory, c.memory);
    }
  }
  EXPECT_GT(unchanged, 50u);
}

// Over many seeds the probes produce write faults in read-only regions
// (the XDP context, .rodata) and runs that read them without faulting.
TEST(RunModes, ProbesWriteToReadOnlyRegionsAndFault) {
  std::size_t write_faults = 0;
  std::size_t rodata_maps = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    const ModeCase m = recast(seed, vm::RunMode::Packet);
    for (const vm::MapDef& map : m.program.maps)
      rodata_maps += map.read_only ? 1 : 0;
    oracle::Outcome reference;
    ASSERT_FALSE(find_divergence(m.program, m.input, &reference)) << "seed " << seed;
    if (reference.loaded && reference.error.kind != vm::ErrorKind::None &&
        vm::describe(reference.error).find("write") != std::string::npos && reference.error.pc < 8) {
      ++write_faults;
    }
  }
  EXPECT_GT(write_faults, 10u);
  EXPECT_GT(rodata_maps, 10u);
}

TEST(RunModes, MbuffLayoutsKeepTheTwoAddressesApartAndInTheBuffer) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const ModeCase m = recast(seed, vm::RunMode::MetaBuffer);
    if (m.input.mode != vm::RunMode::MetaBuffer) continue;  // kept in memory mode
    const auto size = m.input.metadata.size();
    ASSERT_GE(size, 16u);
    EXPECT_LE(m.input.data_offset + 8, size);
    EXPECT_LE(m.input.data_end_offset + 8, size);
    const uint32_t lo = std::min(m.input.data_offset, m.input.data_end_offset);
    const uint32_t hi = std::max(m.input.data_offset, m.input.data_end_offset);
    EXPECT_GE(hi - lo, 8u);
  }
}

// The decisions after the program pick the mode; a byte input that ends
// with the program runs in memory mode, unchanged, as it did before modes.
TEST(RunModes, GeneratedCaseRecordsItsModeInItsDecisions) {
  std::map<vm::RunMode, std::size_t> seen;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    ByteSource a(seed);
    const ModeCase m = generate_mode_case(a, {64});
    ++seen[m.input.mode];
    ByteSource b(seed);
    const ModeCase again = generate_mode_case(b, {64});
    EXPECT_EQ(again.program.slots, m.program.slots);
    EXPECT_EQ(again.input.mode, m.input.mode);
  }
  for (const vm::RunMode mode : all_run_modes())
    EXPECT_GT(seen[mode], 20u) << text::run_mode_name(mode);

  const std::vector<uint8_t> short_input = {1, 2, 3, 4, 5, 6, 7, 8};
  ByteSource src{std::span<const uint8_t>(short_input)};
  ByteSource gen_src{std::span<const uint8_t>(short_input)};
  const ModeCase m = generate_mode_case(src, {64});
  const GeneratedCase g = generate(gen_src, {64});
  EXPECT_EQ(m.input.mode, vm::RunMode::Memory);
  EXPECT_EQ(m.program.slots, g.program.slots);
  EXPECT_EQ(m.input.memory, g.memory);
}

}  // namespace
}  // namespace bpfdiff::fuzz
