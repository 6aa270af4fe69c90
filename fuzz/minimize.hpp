#pragma once
// Shrinking a failing case to the smallest one that still fails the same way.
// "The same way" is the caller's predicate -- for divergences, "has the same
// Signature" -- so the minimizer knows nothing about engines and can be
// tested against any property.
//
// Passes, repeated until a round changes nothing:
//   1. instructions: delta debugging over whole instructions (an lddw is one
//      instruction of two slots), removing chunks of n/2, n/4, ... 1, with
//      every jump, local call and `lddw code` repaired (program_edit);
//   2. memory: drop it, halve it, then zero its bytes one by one;
//   3. operands: immediates and offsets toward 0 (0, +-1, then halving),
//      64-bit lddw values the same way, registers toward r0. Fields that hold
//      a jump target are only tried at 0 (jump to the next instruction).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "vm/program/program.hpp"

namespace bpfdiff::fuzz {

struct MinimizeCase {
  vm::Program program;
  std::vector<uint8_t> memory;
};

// True when `candidate` still shows the failure being minimized.
using StillFails = std::function<bool(const MinimizeCase& candidate)>;

struct MinimizeOptions {
  // Calls of the predicate after which the minimizer stops with what it has.
  std::size_t max_tests = 20'000;
  std::size_t max_rounds = 8;
};

struct MinimizeStats {
  std::size_t tests = 0;     // predicate calls
  std::size_t accepted = 0;  // candidates that still failed and were kept
  std::size_t rounds = 0;
  bool hit_test_limit = false;
};

// The smallest case found. `start` itself is assumed to fail; the result
// fails too (it is `start` or a candidate the predicate accepted).
MinimizeCase minimize(MinimizeCase start, const StillFails& still_fails, const MinimizeOptions& options = {},
                      MinimizeStats* stats = nullptr);

}  // namespace bpfdiff::fuzz
