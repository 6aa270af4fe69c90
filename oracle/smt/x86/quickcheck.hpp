#pragma once
// Validates the Z3 semantics of one decoded instruction against the CPU:
// for each input state, the Z3 model evaluated on it must give the register
// file, the defined status flags and the branch decision the instruction
// gives when it really runs (NativeRunner). Flags the SDM leaves undefined
// are not compared. States on which the model predicts #DE are not run in
// process; a few of them are run in a forked child, which must die of SIGFPE.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "oracle/smt/x86/decode.hpp"
#include "oracle/smt/x86/native_runner.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt::x86 {

struct QuickcheckReport {
  unsigned compared = 0;                // states run natively and compared
  unsigned divide_errors = 0;           // states the model says raise #DE
  unsigned divide_errors_forked = 0;    // of those, confirmed in a child process
  std::vector<std::string> mismatches;  // one line per disagreement (at most a few)
};

// Register states mixing boundary values (0, ±1, sign bits of every width,
// shift counts around 8/16/32/64) and random ones; deterministic in `seed`.
std::vector<NativeState> boundary_states(unsigned count, uint64_t seed);
// The same, adapted to `insn`: for div and idiv most states get the dividend
// the JIT builds (rdx zeroed, or the sign of rax), since random rdx:rax pairs
// almost always overflow.
std::vector<NativeState> states_for(const Instruction& insn, unsigned count, uint64_t seed);

// `fork_limit`: how many #DE states to confirm in a child process.
Result<QuickcheckReport> quickcheck(const Instruction& insn, std::span<const NativeState> states,
                                    unsigned fork_limit = 1);

}  // namespace bpfdiff::oracle::smt::x86
