#pragma once
// Which JIT translations to prove: per form, register assignments x
// immediate shape classes x JIT option sets.
//
// Register assignments matter because the JIT's code depends on where the
// operands live: rcx (BPF r4) is the only register x86 shifts by, rax and
// rdx (r0, r3) are the implicit operands of div/idiv, dst == src aliases,
// r5..r9 need REX bits, rsi/rdi (r2, r1) need a REX to be byte registers.
// Immediates matter because the JIT picks encodings (imm8 vs imm32) and
// shortcuts (x / 0, x / -1, shifts by 0) by value.
#include <cstdint>
#include <string>
#include <vector>

#include "oracle/smt/jit_snippet.hpp"
#include "vm/jit/options.hpp"

namespace bpfdiff::oracle::smt {

struct RegisterAssignment {
  uint8_t dst = 0;
  uint8_t src = 0;
  std::string name() const;  // "r4,r3"
};

// The sampled set CTest runs: rcx/rdx both ways, rax with rdx both ways,
// dst == src in rcx and rax, and REX-extended / byte-register pairs.
std::vector<RegisterAssignment> representative_assignments();
// Every (dst, src): dst r0..r9 (jumps also r10, which they only read), src r0..r10.
std::vector<RegisterAssignment> all_assignments();

struct ImmClass {
  const char* name;
  int32_t value;
};
// 0, 1, -1, an imm8, an imm32 and INT32_MIN.
const std::vector<ImmClass>& imm_classes();

// The cases of `form` for the given assignments, immediate classes and
// option sets. Assignments a form cannot express collapse: an immediate
// form ignores src, a byte-order form has no immediate operand, ja and
// gotol have no registers; dst r10 is kept for jumps only.
std::vector<JitCase> cases_for(isa::Form form, const std::vector<RegisterAssignment>& assignments,
                               const std::vector<ImmClass>& imms,
                               const std::vector<jit::JitOptions>& option_sets);

}  // namespace bpfdiff::oracle::smt
