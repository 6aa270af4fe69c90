#pragma once
// A counterexample of the callx proof (call_out_proof.hpp) as a ready-to-run
// bpf_conformance .data test, its expected outcome from the interpreter, so
// that `bpfdiff run FILE.data --engine jit` on the JIT the proof refuted
// shows the difference. The test's program keeps what decides callx's
// target in the proof's program: two function starts (the entry, and a
// second function that sets r0 = 2), slots that are no function start, and
// the end of the program. At depth d the callx function is reached by a
// chain of d local calls (`call +0; exit` each, the last calling it):
//   0: call +0; exit      d times (none at depth 0)
//   c = 2d: lddw rK, V'   V' = the counterexample's value, its slot moved
//   c+2: lddw r6..r9, ... (the counterexample's r6..r9, kept in the frame)
//   c+10: mov r0, 1
//   c+11: callx rK        at depth d
//   c+12: fold r6..r9 into r0; exit
//   k = c+21: mov r0, 2; exit    the second function
//      lddw r0, code(k); exit
// A code-region value names slot s of the proof's program; the test's value
// names the slot of the same kind (the entry, slot 0; the second
// function; no function start; past the end) with the same low three bits. Values outside the code region are
// kept. The test runs under the case's depth limit ("# max-call-depth"), so a depth check off by one shows at
// the depth the proof found. A counterexample whose value is a helper id (the helpers of a run differ from
// the proof's arbitrary one) has no test.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "oracle/smt/call_out_proof.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

struct CallxWitness {
  uint64_t value = 0;                      // callx's register
  uint32_t depth = 0;                      // ctx.depth at the callx
  std::array<uint64_t, 4> callee_saved{};  // r6..r9
};

// `function_starts` and `slots` describe the proof's program.
Result<std::string> callx_counterexample_data(const CallOutCase& c, const CallxWitness& w,
                                              const std::vector<uint32_t>& function_starts, uint64_t slots,
                                              std::string_view comment);

}  // namespace bpfdiff::oracle::smt
