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

}  // namespace
}  // namespace bpfdiff::fuzz
