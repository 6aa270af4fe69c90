// Execution limits at, below and above what a run needs: the interpreter
// measures the run, every variant is compared across engines, and the
// variants mean what they say -- one instruction short of the run exhausts
// the budget, one frame short exceeds the call depth.
#include "fuzz/limits.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fuzz/differential.hpp"
#include "fuzz/generator.hpp"
#include "oracle/interp_engine.hpp"
#include "vm/isa/encode.hpp"

namespace bpfdiff::fuzz {
namespace {

TEST(Limits, VariantsAreAtBelowAndAboveTheBudgetAndDepthAndSweepTheRun) {
  const auto v = limit_variants({10, 3}, vm::ExecLimits{1000, 8}, 100);
  const auto has = [&](uint64_t budget, uint32_t depth) {
    return std::any_of(v.begin(), v.end(), [&](const vm::ExecLimits& l) {
      return l.instruction_budget == budget && l.max_call_depth == depth;
    });
  };
  for (uint64_t b = 1; b <= 11; ++b)
    EXPECT_TRUE(has(b, 8)) << b;
  EXPECT_TRUE(has(1000, 2));
  EXPECT_TRUE(has(1000, 3));
  EXPECT_TRUE(has(1000, 4));
  EXPECT_EQ(v.size(), 14u);
  // A long run is swept evenly, with about `sweep` budgets.
  const auto long_run = limit_variants({10'000, 1}, vm::ExecLimits{20'000, 8}, 50);
  EXPECT_LE(long_run.size(), 3u + 50u + 2u);
  EXPECT_GE(long_run.size(), 50u);
  // Nothing of 0.
  for (const vm::ExecLimits& l : limit_variants({1, 1}, vm::ExecLimits{5, 8}, 10)) {
    EXPECT_GT(l.instruction_budget, 0u);
    EXPECT_GT(l.max_call_depth, 0u);
  }
}

TEST(Limits, ExtentCountsInstructionsAndFrames) {
  using isa::encode;
  using isa::Form;
  // main calls f, f calls g: three frames.
  vm::Program p;
  p.slots = {encode(Form::call_local, 0, 1, 0, 1), encode(Form::exit),   // main
             encode(Form::call_local, 0, 1, 0, 1), encode(Form::exit),   // f
             encode(Form::mov_imm, 0, 0, 0, 1),    encode(Form::exit)};  // g
  oracle::InterpEngine interp(oracle::default_helpers());
  const auto e = measure_extent(interp, p, oracle::EngineInput{});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->instructions, 6u);
  EXPECT_EQ(e->frames, 3u);
}

TEST(Limits, GeneratedProgramsAgreeAtEveryLimitVariant) {
  oracle::InterpEngine interp(oracle::default_helpers());
  std::size_t exhausted = 0, too_deep = 0, variants = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    ByteSource src(seed);
    const GeneratedCase c = generate(src, {64});
    oracle::EngineInput input = engine_input(c);
    const auto extent = measure_extent(interp, c.program, input);
    ASSERT_TRUE(extent);
    for (const vm::ExecLimits& limits : limit_variants(*extent, input.limits, 16)) {
      input.limits = limits;
      oracle::Outcome reference;
      const auto divergence = find_divergence(c.program, input, &reference);
      ASSERT_FALSE(divergence) << "seed " << seed << " budget " << limits.instruction_budget << " depth "
                               << limits.max_call_depth << ": " << divergence->title();
      ++variants;
      if (reference.error.kind == vm::ErrorKind::BudgetExhausted) ++exhausted;
      if (reference.error.kind == vm::ErrorKind::CallDepthExceeded) ++too_deep;
      if (limits.instruction_budget + 1 == extent->instructions &&
          limits.max_call_depth == input.limits.max_call_depth && reference.loaded) {
        EXPECT_EQ(reference.error.kind, vm::ErrorKind::BudgetExhausted) << "seed " << seed;
      }
    }
  }
  EXPECT_GT(variants, 600u);
  EXPECT_GT(exhausted, 300u);
  EXPECT_GT(too_deep, 3u);
}

TEST(LimitCase, TheInputRecordsTheRunModeAndLimitsAndRebuildsThemExactly) {
  std::map<vm::RunMode, std::size_t> modes;
  std::size_t limited = 0;
  const vm::ExecLimits defaults{kGeneratedInstructionBudget, vm::ExecLimits{}.max_call_depth};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    ByteSource src(seed);
    const ModeCase c = generate_limit_case(src, {64});
    ++modes[c.input.mode];
    if (c.input.limits.instruction_budget != defaults.instruction_budget ||
        c.input.limits.max_call_depth != defaults.max_call_depth)
      ++limited;
    // The bytes handed out are an input that makes the same case.
    ByteSource again(seed);
    std::vector<uint8_t> bytes(src.consumed());
    for (uint8_t& b : bytes)
      b = again.byte();
    ByteSource replay(bytes);
    const ModeCase r = generate_limit_case(replay, {64});
    EXPECT_EQ(r.program.slots, c.program.slots) << seed;
    EXPECT_EQ(r.input.mode, c.input.mode) << seed;
    EXPECT_EQ(r.input.memory, c.input.memory) << seed;
    EXPECT_EQ(r.input.metadata, c.input.metadata) << seed;
    EXPECT_EQ(r.input.limits.instruction_budget, c.input.limits.instruction_budget) << seed;
    EXPECT_EQ(r.input.limits.max_call_depth, c.input.limits.max_call_depth) << seed;
    ASSERT_FALSE(find_divergence(c.program, c.input)) << seed;
  }
  EXPECT_EQ(modes.size(), 4u);
  for (const auto& [mode, n] : modes)
    EXPECT_GT(n, 20u);
  EXPECT_GT(limited, 20u);
  EXPECT_LT(limited, 100u);
}

}  // namespace
}  // namespace bpfdiff::fuzz
