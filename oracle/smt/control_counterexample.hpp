#pragma once
// A counterexample of the call/exit/charge proof (call_proof.hpp) as a
// ready-to-run bpf_conformance .data test, its expected outcome from the
// interpreter, so that `bpfdiff run FILE.data --engine jit` on the JIT the
// proof refuted shows the difference. The proof's state (a depth, a budget)
// is reached by a real program rather than set:
//   - a call or an exit at depth d: a chain of local calls in which every
//     function loads r6..r9 (the counterexample's values, made distinct per
//     depth), stores r6 in its frame, calls the next one, then folds r6..r9,
//     its stack slot and its depth into r0 and exits; the innermost function
//     clobbers r6..r9 and its own slot. The chain makes the call at depth d
//     (the call unit) or exits from depth d (the exit unit), under the
//     case's depth limit ("# max-call-depth"), so a wrong depth limit, frame,
//     return address or restored register changes the outcome;
//   - a block charge with b instructions of budget left: the proof's own
//     program (`mov r0, r0; call +1; exit; <callee>`) with the budget that
//     leaves b at that block ("# budget").
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "oracle/smt/call_proof.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

struct ControlWitness {
  uint32_t depth = 0;                      // ctx.depth at the unit
  uint64_t remaining = 0;                  // ctx.remaining at the unit
  std::array<uint64_t, 4> callee_saved{};  // r6..r9
};

Result<std::string> control_counterexample_data(const ControlCase& c, const ControlWitness& w,
                                                std::string_view comment);

}  // namespace bpfdiff::oracle::smt
