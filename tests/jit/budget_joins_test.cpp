// Where the JIT charges the instruction budget (vm/jit/budget_joins.cpp):
// the joins of if-then diamonds are charged ahead by the diamond's head,
// and what is charged ahead is refunded wherever a run stops early.
// tests/vm/data/budget-diamond-*.data run such programs on every engine.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vm/jit/lowering.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/std_helpers.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::jit {
namespace {

BlockInfo blocks_of(const std::string& source) {
  auto program = text::assemble(source);
  EXPECT_TRUE(program.ok()) << program.error().message;
  if (!program.ok()) return {};
  auto loaded = vm::validate(*program, vm::standard_helpers());
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  if (!loaded.ok()) return {};
  return analyse_blocks(*loaded);
}

using U = std::vector<uint32_t>;

TEST(BudgetJoins, AChainOfDiamondsIsChargedByItsFirstHead) {
  const BlockInfo b = blocks_of(R"(
    mov r0, 0
    jeq r1, 0, +1
    add r0, 1
    add r0, 2
    jeq r1, 1, +1
    add r0, 3
    add r0, 4
    exit
  )");
  // Blocks: head [0,1], then [2], join [3,4] (itself a head), then [5], join [6,7].
  EXPECT_EQ(b.charge, (U{6, 0, 1, 0, 0, 1, 0, 0}));
  EXPECT_EQ(b.deopt_refund, (U{6, 0, 5, 0, 0, 3, 0, 0}));
  EXPECT_EQ(b.prepaid, (U{4, 4, 4, 2, 2, 2, 0, 0}));
}

TEST(BudgetJoins, AJoinWithAnotherEntryChargesItself) {
  // pc 4 is also the target of the jump at pc 0, so it is no diamond's join.
  const BlockInfo b = blocks_of(R"(
    jeq r1, 5, +3
    mov r0, 0
    jeq r1, 0, +1
    add r0, 1
    add r0, 2
    exit
  )");
  EXPECT_EQ(b.charge, (U{1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(b.prepaid, (U{0, 0, 0, 0, 0, 0}));
}

TEST(BudgetJoins, AThenBranchThatJumpsOrCallsIsNoDiamond) {
  const BlockInfo b = blocks_of(R"(
    jeq r1, 0, +1
    call 7
    mov r0, 1
    jeq r1, 0, +1
    ja +0
    exit
  )");
  EXPECT_EQ(b.charge, (U{1, 1, 2, 0, 1, 1}));
  EXPECT_EQ(b.prepaid, (U{0, 0, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace bpfdiff::jit
