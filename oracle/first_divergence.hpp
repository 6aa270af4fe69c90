#pragma once
// Where two engines part ways: bisection on the instruction budget.
//
// Every engine stops a run with BudgetExhausted after exactly `budget`
// instructions, with the same meaning: the state after `budget` instructions
// and, in error.pc, the pc of the next instruction to execute. A run with
// budget k is therefore a snapshot of the machine after k instructions, and
// two engines that agree on everything are equal at every k. The smallest k
// whose snapshots differ names the k-th executed instruction as the one that
// made identical states different (see find_first_divergence for the
// details, and for what the JIT's block-wise budget does to the answer).
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "oracle/compare.hpp"
#include "oracle/outcome.hpp"

namespace bpfdiff::oracle {

// Runs one engine on the program under study with
// ExecLimits.instruction_budget = budget, on a fresh copy of the same input.
using BudgetRunner = std::function<Outcome(uint64_t budget)>;

struct FirstDivergence {
  enum class Kind : uint8_t {
    Agree,            // the outcomes at max_budget agree: nothing to localise
    BeforeExecution,  // they differ at budget 0 already: the load verdict or the initial state
    AtInstruction,    // they agree after instructions - 1 instructions and differ after instructions
  };
  Kind kind = Kind::Agree;
  // AtInstruction: k, the smallest budget whose outcomes differ (found by
  // bisection); BeforeExecution: 0; Agree: max_budget.
  uint64_t instructions = 0;
  // AtInstruction: the pc of the k-th executed instruction, i.e. where the
  // left engine stopped (BudgetExhausted) at budget k - 1. Unset when that run
  // did not stop on the budget (only a non-deterministic runner does that).
  std::optional<uint32_t> pc;
  Outcome left_before, right_before;    // AtInstruction: at budget k - 1, where they agree
  Outcome left, right;                  // at budget k (Agree: at max_budget)
  std::vector<Difference> differences;  // between left and right; empty for Agree
  uint64_t probes = 0;                  // budgets tried, each running both engines once
};

// compare() for two runs cut short by the same budget. When both stopped
// with BudgetExhausted, error.address and error.size carry nothing (always 0)
// and are ignored, but error.pc is kept, reported as field "next_pc": it is
// the machine's program counter, part of the state like any register. A
// mis-taken branch changes nothing but the pc; ignoring it would let the
// bisection blame whatever instruction happens to run next on one side.
std::vector<Difference> compare_at_budget(const Outcome& left, const Outcome& right,
                                          const CompareRules& rules = CompareRules::everything());

// Bisection for the first instruction at which `left` and `right` disagree,
// within budgets [0, max_budget] (max_budget: the budget of the full runs
// being explained, whose outcomes are expected to differ).
//
// Invariant: outcomes agree at budget lo and differ at budget hi. Start with
// lo = 0, hi = max_budget (checked first: when they agree there, Kind::Agree;
// when budget 0 already differs, Kind::BeforeExecution), halve until
// hi = lo + 1. Then the states after hi - 1 instructions are equal -- same
// registers, memory, stack and next pc -- and executing one more instruction,
// the one at that next pc, makes them differ: that instruction is the answer,
// whatever happened before or after. About 2 * log2(max_budget) runs.
//
// Two caveats, both about what "first" means:
//  * If the difference can vanish again (a wrong value later overwritten),
//    the predicate "differ at k" is not monotonic and the bisection finds
//    one transition from agree to differ, not necessarily the earliest. The
//    instruction it names is still one that turned equal states into
//    different ones.
//  * The JIT charges the budget per basic block when it enters one, and when
//    the block does not fit it hands the run to the interpreter at the
//    block's first pc (it never stops inside a block). So a run with budget k
//    executes a JIT-compiled block natively only if the whole block fits in
//    k, and a faulty instruction anywhere in a block shows up first at the
//    budget that ends with the block's LAST instruction. The answer is then
//    that last instruction; the culprit is one of the instructions of its
//    block (the caller knows the JIT's blocks and can say which ones).
FirstDivergence find_first_divergence(const BudgetRunner& left, const BudgetRunner& right,
                                      uint64_t max_budget,
                                      const CompareRules& rules = CompareRules::everything());

}  // namespace bpfdiff::oracle
