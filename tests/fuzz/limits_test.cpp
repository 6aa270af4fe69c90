// Execution limits at, below and above what a run needs: the interpreter
// measures the run, every variant is compared across engines, and the
// variants mean what they say -- one instruction short of the run exhausts
// the budget, one frame short exceeds the call depth.
#include "fuzz/limits.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fuzz/differential.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/program_edit.hpp"
#include "oracle/interp_engine.hpp"
#include "vm/isa/encode.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::fuzz {
namespace {

TEST(Limits, VariantsAreAtBelowAndAboveTheBudgetAndDepthAndSweepTheRun) {
  const auto v = limit_variants(RunExtent{10, 3, {}}, vm::ExecLimits{1000, 8}, 100);
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
  const auto long_run = limit_variants(RunExtent{10'000, 1, {}}, vm::ExecLimits{20'000, 8}, 50);
  EXPECT_LE(long_run.size(), 3u + 50u + 2u);
  EXPECT_GE(long_run.size(), 50u);
  // Nothing of 0.
  for (const vm::ExecLimits& l : limit_variants(RunExtent{1, 1, {}}, vm::ExecLimits{5, 8}, 10)) {
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

TEST(Limits, EachBlockTheRunEntersGetsABudgetEndingAtItsEntryAndAtItsLastInstruction) {
  using isa::encode;
  using isa::Form;
  vm::Program p;
  const auto wide = isa::encode_lddw_imm64(3, 7);
  p.slots = {encode(Form::mov_imm, 0, 0, 0, 1),     // 0
             encode(Form::mov_imm, 2, 0, 0, 2),     // 1
             encode(Form::jne_imm, 0, 0, 1, 0),     // 2: taken, to 4
             encode(Form::mov_imm, 0, 0, 0, 5),     // 3: never runs
             encode(Form::add_reg, 0, 2),           // 4
             encode(Form::call_local, 0, 1, 0, 1),  // 5: call 7
             encode(Form::exit),                    // 6
             wide[0],                               // 7-8: the callee
             wide[1],
             encode(Form::exit)};  // 9
  const std::vector<bool> leaders = block_leaders(p, instruction_starts(p.slots));
  EXPECT_EQ(leaders, (std::vector<bool>{true, false, false, true, true, false, true, true, false, false}));
  oracle::InterpEngine interp(oracle::default_helpers());
  const auto e = measure_extent(interp, p, oracle::EngineInput{});
  ASSERT_TRUE(e);
  // Run order: 0 1 2 | 4 5 | 7 9 | 6.
  ASSERT_EQ(e->blocks.size(), 4u);
  const std::vector<std::array<uint64_t, 3>> want = {{0, 0, 3}, {4, 3, 2}, {7, 5, 2}, {6, 7, 1}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(e->blocks[i].pc, want[i][0]) << i;
    EXPECT_EQ(e->blocks[i].before, want[i][1]) << i;
    EXPECT_EQ(e->blocks[i].length, want[i][2]) << i;
  }
  EXPECT_EQ(e->instructions, 8u);
  // With no sweep: the blocks' budgets 2 (ends at pc 2), 3, 4, 5, 6, 7,
  // then 7, 8, 9 around the run's end and depths 1..3.
  std::vector<uint64_t> budgets;
  for (const vm::ExecLimits& l : limit_variants(*e, vm::ExecLimits{1000, 8}, 0)) {
    if (l.max_call_depth == 8) budgets.push_back(l.instruction_budget);
  }
  std::sort(budgets.begin(), budgets.end());
  EXPECT_EQ(budgets, (std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8, 9}));
}

// The budgets of limit_variants make the JIT hand the run to the interpreter
// at every block boundary where it charges the budget: each such block the
// run enters is among the blocks measure_extent reports, and the budget that
// runs out at its entry deoptimises there.
TEST(Limits, TheJitDeoptimisesAtEveryChargingBlockTheRunEnters) {
  const vm::HelperRegistry& helpers = oracle::default_helpers();
  oracle::InterpEngine interp(helpers);
  std::size_t checked = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    ByteSource src(seed);
    const GeneratedCase c = generate(src, {64});
    const oracle::EngineInput input = engine_input(c);
    const auto extent = measure_extent(interp, c.program, input);
    ASSERT_TRUE(extent);
    auto loaded = vm::validate(c.program, helpers);
    ASSERT_TRUE(loaded) << seed;
    jit::BlockInfo blocks = jit::analyse_blocks(*loaded);
    jit::plan_charges(*loaded, blocks);
    for (const RunExtent::BlockEntry& block : extent->blocks) {
      if (blocks.charge[block.pc] == 0 || block.before == 0) continue;
      vm::ExecLimits limits = input.limits;
      limits.instruction_budget = block.before;
      auto compiled = jit::JitProgram::compile(*loaded, helpers, limits);
      ASSERT_TRUE(compiled) << seed;
      std::vector<uint8_t> memory = input.memory;
      std::vector<uint8_t> metadata = input.metadata;
      const vm::RunResult r = (*compiled)->run(oracle::run_input(input, memory, metadata));
      EXPECT_EQ(r.error.kind, vm::ErrorKind::BudgetExhausted) << seed << " pc " << block.pc;
      EXPECT_EQ(r.error.pc, block.pc) << seed;
      EXPECT_EQ((*compiled)->deopts(), 1u) << seed << " pc " << block.pc;
      ++checked;
    }
    // No charging block the run enters is missing from the extent.
    std::vector<bool> reported(loaded->insns.size(), false);
    for (const RunExtent::BlockEntry& block : extent->blocks)
      reported[block.pc] = true;
    auto executor = interp.prepare(c.program, input.limits);
    ASSERT_TRUE(executor);
    std::vector<uint8_t> memory = input.memory;
    std::vector<uint8_t> metadata = input.metadata;
    (*executor)->run_traced(oracle::run_input(input, memory, metadata),
                            [&](uint32_t pc, const std::array<uint64_t, isa::kNumRegisters>&) {
                              if (blocks.charge[pc] != 0) {
                                EXPECT_TRUE(reported[pc]) << seed << " pc " << pc;
                              }
                            });
  }
  EXPECT_GT(checked, 150u);
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
