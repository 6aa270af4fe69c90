#pragma once
// The differential rules between our VM and a kernel engine, as explicit
// code (the kernel's outcome carries Outcome::kernel).
//
//  kernel verdict | our VM                 | result
//  ---------------+------------------------+-----------------------------------------------
//  rejected       | ran (ok or fault)      | KernelRejected: not a mismatch; counted by
//                 |                        | rejection reason (kernel::rejection_reason)
//  rejected       | rejected               | BothRejected
//  unsupported,   | anything               | NotComparable (the recipe cannot express it,
//  failed         |                        | or the test run broke: reported, not a finding)
//  accepted       | rejected by validator  | WeRejected: a finding; the verifier is the
//                 |                        | stricter of the two, so a program it runs and we
//                 |                        | refuse points at our validator
//  accepted       | BudgetExhausted        | NotComparable: the kernel has no instruction
//                 |                        | budget, its loops may run longer than ours
//  accepted       | any other fault        | VerifierSoundness: a finding; the verifier let
//                 |                        | through a program that breaks the hardening contract
//  accepted       | ran                    | Agree, or Mismatch (a finding) on any exported
//                 |                        | register r0..r9 or any byte of the memory
//
// Not compared, because the kernel does not expose them: the stack (not
// exported), the instruction count, helper calls, fault details; r1..r5
// after a call when the kernel did not export them (regs_valid). When the
// registers or memory differ but our run read stack bytes it never wrote
// (the kernel's stack is not zeroed, ours is; RFC 9669 says nothing), or
// used a pointer's bits beyond what translation preserves (32-bit ops on a
// pointer, partial pointer stores, masks; oracle/comparability.hpp), the
// result is NotComparable rather than Mismatch.
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

// Two kernel outcomes (e.g. host and guest, JIT and interpreter): verdicts,
// then the registers both exported and the memory.
std::vector<Difference> compare_kernels(const Outcome& left, const Outcome& right);

// What compare() does when either side is a kernel outcome: the findings'
// differences only (a rejection is no difference), oriented left/right.
std::vector<Difference> kernel_differences(const Outcome& left, const Outcome& right);

const char* to_string(KernelAgreement kind);

}  // namespace bpfdiff::oracle
