#pragma once
// The differential rules between our VM and a kernel engine, as explicit
// code (the kernel's outcome carries Outcome::kernel). A kernel engine runs
// every program twice (kernel_executor.hpp): unmodified ("plain": the
// verdict on the program as written, r0's low 32 bits, the memory) and
// wrapped in the full-state recipe ("full": r0..r9 and the memory, under a
// wrapper that changes what the verifier sees).
//
//  kernel verdict           | our VM          | result
//  -------------------------+-----------------+-----------------------------------------------
//  plain rejected           | rejected        | BothRejected, whatever the full-state run says:
//                           |                 | a wrapper can make a program valid (it defines
//                           |                 | registers, adds an exit to fall into)
//  plain accepted           | rejected        | WeRejected (a finding: the verifier is the
//                           |                 | stricter, so a program it runs and we refuse
//                           |                 | points at our validator) -- or NotComparable
//                           |                 | when our rule is ours alone (helpers we lack,
//                           |                 | our length limit)
//  neither ran, one rejected| ran             | KernelRejected: counted by rejection reason
//  neither ran, none reject.| anything        | NotComparable (unsupported, or a run failed)
//  either ran               | BudgetExhausted | NotComparable: the kernel has no budget
//  either ran               | any other fault | VerifierSoundness: a finding
//  either ran               | ran             | Agree, or Mismatch (a finding) on: full -- any
//                           |                 | exported register r0..r9 or memory byte; plain
//                           |                 | -- r0's low 32 bits or a memory byte
//
// Not compared, because the kernel does not expose them: the stack (not
// exported), the instruction count, helper calls, fault details; r1..r5
// after a call when the kernel did not export them (regs_valid); in the
// plain run, an r0 that holds a pointer in our VM and the memory when our
// run stored a pointer in it (kernel addresses with no base to translate
// by). When the registers or memory differ but our run read stack bytes it
// never wrote (the kernel's stack is not zeroed, ours is; RFC 9669 says
// nothing), or used a pointer's bits beyond what translation preserves
// (32-bit ops on a pointer, partial pointer stores, masks;
// oracle/comparability.hpp), the result is NotComparable rather than
// Mismatch.
#include <string>
#include <vector>

#include "oracle/compare.hpp"
#include "oracle/outcome.hpp"

namespace bpfdiff::oracle {

enum class KernelAgreement : uint8_t {
  Agree,
  BothRejected,
  KernelRejected,
  NotComparable,
  WeRejected,
  VerifierSoundness,
  Mismatch,
};

struct KernelComparison {
  KernelAgreement kind = KernelAgreement::Agree;
  // KernelRejected: the rejection reason; NotComparable: why; findings: a title.
  std::string reason;
  std::vector<Difference> differences;  // left = ours, right = the kernel's

  bool finding() const {
    return kind == KernelAgreement::WeRejected || kind == KernelAgreement::VerifierSoundness ||
           kind == KernelAgreement::Mismatch;
  }
};

// `ours` is an outcome of one of our engines, `kernel` of a kernel engine.
KernelComparison compare_with_kernel(const Outcome& ours, const Outcome& kernel);

// Whether the kernel's final state can differ from ours by luck alone: the
// program reads stack bytes it never wrote, uses a pointer's bits or a hash
// map value pointer older than an update. A difference is then not
// comparable, and an agreement is no more than the kernel's stale stack or
// addresses happening to match ours (a rerun may not repeat it).
bool agreement_is_luck(const KernelOutcome& kernel);

// Two kernel outcomes (e.g. host and guest, JIT and interpreter): verdicts
// (plain, then full; only when both come from one kernel release, and not
// when the interpreter refused a program only JIT-compiled ones may be, such
// as tail calls with bpf-to-bpf calls), then the
// registers both exported and the memory, and the plain runs' retval (unless
// r0 holds a pointer) and memory.
std::vector<Difference> compare_kernels(const Outcome& left, const Outcome& right);

// What compare() does when either side is a kernel outcome: the findings'
// differences only (a rejection is no difference), oriented left/right.
std::vector<Difference> kernel_differences(const Outcome& left, const Outcome& right);

const char* to_string(KernelAgreement kind);

}  // namespace bpfdiff::oracle
