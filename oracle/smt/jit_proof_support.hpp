#pragma once
// Small facts every proof over the JIT's real code needs (the ALU/jump proof
// jit_proof, the memory proof mem_proof, the call/exit proof call_proof): where
// a BPF register lives, the context register, how a model value and an
// address are printed, and how the error exit is recognised in the emitted code.
#include <z3++.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "oracle/smt/x86/decode.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/jit/offsets.hpp"

namespace bpfdiff::oracle::smt::proof_support {

// Physical register of a BPF register; the JIT's map is the one truth.
inline uint8_t x86_of(uint8_t bpf) {
  return jit::x86::number(jit::kRegMap[bpf]);
}

// The register holding the JIT context during a run.
inline constexpr uint8_t kContext = jit::x86::number(jit::kCtx);

inline std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// A bit-vector's value in a model (0 when the model leaves it free).
inline uint64_t value_in(const z3::model& m, const z3::expr& e) {
  uint64_t v = 0;
  m.eval(e, true).is_numeral_u64(v);
  return v;
}

// `mov dword [r12 + status], Error`: the first instruction of the error exit.
inline bool sets_error_status(const x86::Instruction& insn) {
  if (insn.mnemonic != ZYDIS_MNEMONIC_MOV || insn.operands.size() != 2) return false;
  const x86::Operand& dst = insn.operands[0];
  const x86::Operand& src = insn.operands[1];
  return dst.kind == x86::Operand::Kind::Mem && dst.base == kContext && dst.index == x86::kNoRegister &&
         dst.imm == jit::offsets::kStatus && dst.bits == 32 && src.kind == x86::Operand::Kind::Imm &&
         src.imm == static_cast<int64_t>(jit::JitStatus::Error);
}

}  // namespace bpfdiff::oracle::smt::proof_support
