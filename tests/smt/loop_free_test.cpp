// The loop-free generator behind the smt_vs_engines fuzz target: every case
// is a valid program the smt engine runs, and on them the model agrees with
// the interpreter (the fuzz target's oracle, on a fixed batch).
#include "fuzz/loop_free.hpp"

#include <gtest/gtest.h>

#include <set>

#include "oracle/compare.hpp"

namespace bpfdiff::fuzz {
namespace {

TEST(LoopFree, GeneratedProgramsLoadEverywhereAndTheModelAgreesWithTheInterpreter) {
  auto interp = oracle::make_engine("interp");
  auto smt = oracle::make_engine("smt");
  ASSERT_TRUE(interp.ok() && smt.ok());
  std::set<isa::Family> families;
  std::size_t taken_jumps = 0, budget_stops = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    ByteSource src(seed);
    const LoopFreeCase c = generate_loop_free(src);
    const oracle::Outcome a = (*interp)->run(c.program, c.input);
    const oracle::Outcome b = (*smt)->run(c.program, c.input);
    ASSERT_TRUE(a.loaded) << "seed " << seed << ": " << a.load_error;
    ASSERT_TRUE(b.loaded) << "seed " << seed << ": " << b.load_error;
    for (const oracle::Difference& d : oracle::compare(a, b, oracle::CompareRules::everything()))
      ADD_FAILURE() << "seed " << seed << ": " << oracle::to_string(d);
    for (std::size_t pc = 20; pc < c.program.slots.size(); ++pc) {
      if (auto f = isa::find_form(c.program.slots[pc])) families.insert(isa::info(*f).sem.family);
    }
    // Fewer instructions ran than the program has: some jump skipped ahead.
    if (a.ok() && a.instructions < c.program.slots.size() - 10) ++taken_jumps;
    if (a.error.kind == vm::ErrorKind::BudgetExhausted) ++budget_stops;
  }
  EXPECT_TRUE(families.count(isa::Family::Alu));
  EXPECT_TRUE(families.count(isa::Family::Endian));
  EXPECT_TRUE(families.count(isa::Family::Jump));
  EXPECT_GT(taken_jumps, 10u);
  EXPECT_GT(budget_stops, 0u);
}

TEST(LoopFree, ShortInputsStillGiveAProgram) {
  ByteSource src(std::span<const uint8_t>{});
  const LoopFreeCase c = generate_loop_free(src);
  EXPECT_EQ(c.program.slots.size(), 22u);  // ten lddw, one body instruction, exit
}

}  // namespace
}  // namespace bpfdiff::fuzz
