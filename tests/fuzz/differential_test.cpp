// The real differential test: generated and single-instruction programs must
// behave identically in the interpreter and in every JIT option set. A
// failure here is a bug in an engine, not in the test.
#include "fuzz/differential.hpp"

#include <gtest/gtest.h>

#include "fuzz/single_insn.hpp"
#include "vm/isa/raw.hpp"

namespace bpfdiff::fuzz {
namespace {

std::string hex_slots(const vm::Program& p) {
  std::string out;
  char buf[64];
  for (const isa::RawInsn& s : p.slots) {
    std::snprintf(buf, sizeof buf, "  {0x%02x, %u, %u, %d, %d}\n", s.opcode, s.dst, s.src, s.off, s.imm);
    out += buf;
  }
  return out;
}

TEST(Differential, EngineListHasTheInterpreterAndAtLeastOneJit) {
  const auto names = oracle::engine_names();
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names.front(), "interp");
}

TEST(Differential, GeneratedProgramsAgreeInEveryEngine) {
  std::size_t divergent = 0;
  for (uint64_t seed = 0; seed < 2'000; ++seed) {
    ByteSource src(seed);
    const GeneratedCase c = generate(src);
    oracle::Outcome ref;
    const auto d = find_divergence(c.program, engine_input(c), &ref);
    ASSERT_TRUE(ref.loaded) << ref.load_error;
    if (d && ++divergent <= 3) {
      ADD_FAILURE() << "seed " << seed << ": " << d->title() << "\n" << d->details() << hex_slots(c.program);
    }
  }
  EXPECT_EQ(divergent, 0u);
}

// Programs full of helper calls, valid and not, on the maps they declare:
// the full outcome -- maps, helper-call trace, printk output included -- is
// the same on every engine, and the interpreter's outcome shows the maps.
TEST(Differential, HelperCallsAndMapsAgreeInEveryEngine) {
  GeneratorOptions opt;
  opt.helper_rate = 0.3;
  opt.max_instructions = 128;
  std::size_t divergent = 0, with_maps = 0, with_calls = 0, with_trace = 0;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    ByteSource src(seed);
    const GeneratedCase c = generate(src, opt);
    oracle::Outcome ref;
    const auto d = find_divergence(c.program, engine_input(c), &ref);
    ASSERT_TRUE(ref.loaded) << ref.load_error;
    EXPECT_EQ(ref.maps_observed, true);
    EXPECT_EQ(ref.maps.size(), c.program.maps.size());
    if (!ref.maps.empty()) ++with_maps;
    if (!ref.helper_calls.empty()) ++with_calls;
    if (!ref.trace.empty()) ++with_trace;
    if (d && ++divergent <= 3) {
      ADD_FAILURE() << "seed " << seed << ": " << d->title() << "\n" << d->details() << hex_slots(c.program);
    }
  }
  EXPECT_EQ(divergent, 0u);
  EXPECT_GT(with_maps, 250u);
  EXPECT_GT(with_calls, 250u);
  EXPECT_GT(with_trace, 0u);
}

TEST(Differential, SingleInstructionProgramsAgreeInEveryEngine) {
  std::size_t divergent = 0;
  for (const SingleInsnCase& c : enumerate_single_insn_cases(16)) {
    const auto d = find_divergence(c.c.program, engine_input(c.c));
    if (d && ++divergent <= 5) {
      ADD_FAILURE() << isa::info(c.form).name << ": " << d->title() << "\n"
                    << d->details() << hex_slots(c.c.program);
    }
  }
  EXPECT_EQ(divergent, 0u);
}

// The interp_vs_jit_gen and _raw targets compare one option set per input:
// the sum of the input's bytes picks it, so one byte more or less reaches
// each set in turn, and the names are those of engine_names() after interp.
TEST(Differential, FuzzInputSelectsEachOptionSetByItsByteSum) {
  const auto names = oracle::engine_names();
  ASSERT_EQ(jit_option_set_count(), names.size() - 1);
  std::vector<uint8_t> input = {0x10, 0x20, 0x30};  // sum 0x60
  const std::size_t first = jit_option_set_of(input);
  EXPECT_EQ(first, 0x60 % jit_option_set_count());
  std::vector<bool> seen(jit_option_set_count(), false);
  for (std::size_t k = 0; k < jit_option_set_count(); ++k) {
    const std::size_t set = jit_option_set_of(input);
    EXPECT_EQ(set, (first + k) % jit_option_set_count());
    EXPECT_EQ(jit_option_set_of(input), set) << "the same bytes select the same set";
    seen[set] = true;
    EXPECT_EQ(jit_option_set_name(set), names[set + 1]);
    ++input.back();
  }
  for (std::size_t set = 0; set < seen.size(); ++set)
    EXPECT_TRUE(seen[set]) << names[set + 1];
  EXPECT_EQ(jit_option_set_of({}), 0u);
  EXPECT_EQ(jit_option_set_name(jit_option_set_count()), "");
}

// Each option set on its own agrees with the interpreter where all of them
// together do, and the reference outcome is the one every set is held to.
TEST(Differential, EachOptionSetAloneAgreesOnGeneratedPrograms) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    ByteSource src(seed);
    const GeneratedCase c = generate(src);
    oracle::Outcome ref;
    ASSERT_FALSE(find_divergence(c.program, engine_input(c), &ref)) << seed;
    ASSERT_TRUE(ref.loaded) << ref.load_error;
    for (std::size_t set = 0; set < jit_option_set_count(); ++set)
      EXPECT_FALSE(find_divergence_on(c.program, engine_input(c), set)) << seed << " " << set;
  }
}

}  // namespace
}  // namespace bpfdiff::fuzz
