#pragma once
// Z3 semantics of the x86-64 instructions the JIT emits for ALU, byte-order
// and jump forms, after the Intel SDM (volume 2): mov, movzx, movsx(d), add,
// sub, and, or, xor, cmp, test, neg, not, imul, mul, div, idiv, cdq, cqo,
// shl/shr/sar/rol/ror by an immediate or cl, shlx/shrx/sarx, bswap, cmovcc,
// setcc, jcc, jmp and nop; with memory operands mov, movzx, movsx(d), lea,
// add, sub, cmp, and, or, xor, test, xadd and cmpxchg; and the control
// transfers of calls: call rel32 and call reg (push the return address,
// code_address of the next instruction, at rsp - 8), ret (pop it), jmp reg.
// Anything else is an error naming the instruction, never a silent guess.
#include <z3++.h>

#include <cstdint>
#include <optional>

#include "oracle/smt/x86/decode.hpp"
#include "oracle/smt/x86/machine.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt::x86 {

// Where control goes after an instruction.
struct Control {
  // Indirect: to a host address held in a register or popped by ret, which
  // only the caller can relate to code (e.g. by an invariant on the stack).
  enum class Kind : uint8_t { Next, Jump, Branch, Indirect };
  Kind kind = Kind::Next;
  uint32_t target = 0;                // Jump, Branch: function offset of the target
  std::optional<z3::expr> condition;  // Branch: taken when true
  std::optional<z3::expr> address;    // Indirect: the 64-bit host address
};

// Applies `insn` to `m`. Division records its #DE condition in
// m.divide_error (the state after a faulting division is meaningless, and
// callers must prove that condition unsatisfiable).
Result<Control> execute(Machine& m, const Instruction& insn);

// The condition code of a jcc/cmovcc/setcc mnemonic (the low nibble of its
// opcode), or nullopt for other mnemonics.
std::optional<uint8_t> condition_code(ZydisMnemonic mnemonic);

// Evaluates condition code `cc` (0 = o ... 15 = g) on the flags of `m`.
z3::expr condition(const Machine& m, uint8_t cc);

}  // namespace bpfdiff::oracle::smt::x86
