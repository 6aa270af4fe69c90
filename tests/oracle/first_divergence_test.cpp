// find_first_divergence against fake engines: a program of straight-line
// instructions whose state after k instructions is known, and a "buggy"
// engine that goes wrong at a chosen instruction.
#include "oracle/first_divergence.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

namespace bpfdiff::oracle {
namespace {

constexpr uint64_t kProgramLength = 1000;  // instructions the program executes before it exits

// The reference: instruction i (0-based, at pc i % 50 in a loop of 50) adds
// i to r0. With a budget below the program's length the run stops with
// BudgetExhausted at the next pc, as every engine does.
Outcome fake_run(uint64_t budget, uint64_t bad_from, uint64_t bad_value, bool fault = false) {
  Outcome o;
  o.engine = "fake";
  o.loaded = true;
  const uint64_t executed = std::min(budget, kProgramLength);
  for (uint64_t i = 0; i < executed; ++i) {
    o.regs[0] += i;
    if (i + 1 == bad_from) {
      if (fault) {
        o.instructions = i + 1;
        o.error = {vm::ErrorKind::MemoryRead, static_cast<uint32_t>(i % 50), 0x1000, 4};
        return o;
      }
      o.regs[3] = bad_value;  // the bug: a register the program never writes
    }
  }
  o.instructions = executed;
  if (budget < kProgramLength)
    o.error = {vm::ErrorKind::BudgetExhausted, static_cast<uint32_t>(executed % 50), 0, 0};
  return o;
}

constexpr uint64_t kNever = UINT64_MAX;

BudgetRunner good(std::set<uint64_t>* budgets = nullptr) {
  return [budgets](uint64_t budget) {
    if (budgets) budgets->insert(budget);
    return fake_run(budget, kNever, 0);
  };
}

BudgetRunner bad(uint64_t from, bool fault = false) {
  return [from, fault](uint64_t budget) { return fake_run(budget, from, 0xbad, fault); };
}

TEST(FirstDivergence, FindsTheChosenInstructionForEveryK) {
  for (uint64_t k : {1ull, 2ull, 3ull, 49ull, 50ull, 51ull, 377ull, 999ull, 1000ull}) {
    const FirstDivergence d = find_first_divergence(good(), bad(k), 4096);
    ASSERT_EQ(d.kind, FirstDivergence::Kind::AtInstruction) << k;
    EXPECT_EQ(d.instructions, k);
    ASSERT_TRUE(d.pc.has_value()) << k;
    EXPECT_EQ(*d.pc, (k - 1) % 50) << "the k-th instruction is at pc (k - 1) % 50";
    ASSERT_FALSE(d.differences.empty());
    EXPECT_EQ(d.differences.front().field, "r3");
    EXPECT_TRUE(compare_at_budget(d.left_before, d.right_before).empty());
    EXPECT_EQ(d.left_before.instructions, k - 1);
    EXPECT_LE(d.probes, 2u + 12u) << "two ends plus log2(4096) halvings";
  }
}

TEST(FirstDivergence, AgreeingEnginesNeedOneProbe) {
  const FirstDivergence d = find_first_divergence(good(), good(), 4096);
  EXPECT_EQ(d.kind, FirstDivergence::Kind::Agree);
  EXPECT_EQ(d.probes, 1u);
  EXPECT_TRUE(d.differences.empty());
  EXPECT_EQ(d.left.regs[0], d.right.regs[0]);
}

TEST(FirstDivergence, AFaultLocalisesToTheFaultingInstruction) {
  const FirstDivergence d = find_first_divergence(good(), bad(120, /*fault=*/true), 4096);
  ASSERT_EQ(d.kind, FirstDivergence::Kind::AtInstruction);
  EXPECT_EQ(d.instructions, 120u);
  ASSERT_TRUE(d.pc.has_value());
  EXPECT_EQ(*d.pc, 119u % 50);
  EXPECT_EQ(d.right.error.kind, vm::ErrorKind::MemoryRead);
  EXPECT_EQ(d.differences.front().field, "error.kind");
}

TEST(FirstDivergence, ADifferenceAtBudgetZeroIsBeforeExecution) {
  BudgetRunner rejected = [](uint64_t) {
    Outcome o;
    o.engine = "rejecting";
    o.load_error = "no";
    return o;
  };
  const FirstDivergence d = find_first_divergence(good(), rejected, 4096);
  EXPECT_EQ(d.kind, FirstDivergence::Kind::BeforeExecution);
  EXPECT_EQ(d.instructions, 0u);
  ASSERT_FALSE(d.differences.empty());
  EXPECT_EQ(d.differences.front().field, "load");
}

TEST(FirstDivergence, ProbesStayWithinZeroAndTheMaximum) {
  std::set<uint64_t> budgets;
  find_first_divergence(good(&budgets), bad(700), 1000);
  ASSERT_FALSE(budgets.empty());
  EXPECT_EQ(*budgets.begin(), 0u);
  EXPECT_EQ(*budgets.rbegin(), 1000u);
}

TEST(FirstDivergence, TheNextPcIsPartOfTheStateAtABudgetStop) {
  Outcome a;
  a.loaded = true;
  a.error = {vm::ErrorKind::BudgetExhausted, 7, 0, 0};
  Outcome b = a;
  EXPECT_TRUE(compare_at_budget(a, b).empty());
  b.error.address = 0x40;  // carries nothing at a budget stop
  EXPECT_TRUE(compare_at_budget(a, b).empty());
  b.error.pc = 9;  // a branch went the other way
  const auto diffs = compare_at_budget(a, b);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].field, "next_pc");
  EXPECT_EQ(diffs[0].left, "7");
  EXPECT_EQ(diffs[0].right, "9");
}

TEST(FirstDivergence, AMisTakenBranchIsBlamedOnTheBranch) {
  // Both engines run pcs 0, 1, 2, ... one per instruction; after instruction
  // 5 (at pc 4, a branch) the buggy one continues at pc 9 instead of pc 5.
  // Registers never change: only the next pc tells them apart.
  auto run = [](bool buggy) {
    return [buggy](uint64_t budget) {
      Outcome o;
      o.loaded = true;
      o.instructions = budget;
      uint32_t pc = 0;
      for (uint64_t i = 0; i < budget; ++i)
        pc = (buggy && pc == 4) ? 9 : pc + 1;
      o.error = {vm::ErrorKind::BudgetExhausted, pc, 0, 0};
      return o;
    };
  };
  const FirstDivergence d = find_first_divergence(run(false), run(true), 64);
  ASSERT_EQ(d.kind, FirstDivergence::Kind::AtInstruction);
  EXPECT_EQ(d.instructions, 5u);
  ASSERT_TRUE(d.pc.has_value());
  EXPECT_EQ(*d.pc, 4u);
}

TEST(FirstDivergence, BlockWiseDivergenceEndsAtTheBlocksLastInstruction) {
  // A JIT-like engine: blocks of 10 instructions run natively only when the
  // whole block fits in the budget; instruction 23 (in the block 20..29) is
  // wrong natively. The bisection names the block's last instruction.
  auto jit_like = [](uint64_t budget) {
    const uint64_t native_end = budget / 10 * 10;  // instructions run in whole native blocks
    Outcome o = fake_run(budget, kNever, 0);
    if (native_end >= 30) o.regs[3] = 0xbad;
    return o;
  };
  const FirstDivergence d = find_first_divergence(good(), jit_like, 4096);
  ASSERT_EQ(d.kind, FirstDivergence::Kind::AtInstruction);
  EXPECT_EQ(d.instructions, 30u);
  ASSERT_TRUE(d.pc.has_value());
  EXPECT_EQ(*d.pc, 29u);
}

}  // namespace
}  // namespace bpfdiff::oracle
