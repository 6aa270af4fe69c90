#pragma once
// Symbolic execution of a range of decoded x86-64 code, forking at each
// conditional branch. The code the JIT emits for one BPF instruction is
// loop-free (division guards jump forward only), so every path leaves the
// range after a bounded number of steps; a path that does not is an error.
#include <z3++.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "oracle/smt/x86/decode.hpp"
#include "oracle/smt/x86/machine.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt::x86 {

inline constexpr uint32_t kIndirectTarget = UINT32_MAX;

struct PathExit {
  z3::expr condition;  // the path condition (Bool)
  Machine state;       // registers and flags when the path leaves the range
  uint32_t target;     // where it goes: `end` for falling through, else a jump target,
                       // kIndirectTarget for ret, call reg and jmp reg
  std::optional<z3::expr> address = std::nullopt;  // kIndirectTarget: the host address
  uint32_t from = 0;  // kIndirectTarget: the offset of the ret, call or jmp that left
};

inline constexpr unsigned kMaxPathSteps = 256;

// Runs `insns` (decoded with function offsets) from `begin` until control
// leaves [begin, end). Fails on an instruction without semantics, a jump
// into the middle of an instruction, or a path longer than kMaxPathSteps.
Result<std::vector<PathExit>> execute_range(const std::vector<Instruction>& insns, uint32_t begin,
                                            uint32_t end, const Machine& initial);

}  // namespace bpfdiff::oracle::smt::x86
