#pragma once
// Small facts every proof over the JIT's real code needs (the ALU/jump proof
// jit_proof, the memory proof mem_proof, the call/exit proof call_proof): where
// a BPF register lives, the context register, how a model value and an
// address are printed, and how the error exit is recognised in the emitted code.
#include <z3++.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "oracle/smt/x86/decode.hpp"
#include "oracle/smt/x86/machine.hpp"
#include "vm/isa/raw.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/jit/offsets.hpp"
#include "vm/jit/options.hpp"
#include "vm/program/program.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::oracle::smt::proof_support {

// Physical register of a BPF register; the JIT's map is the one truth.
inline uint8_t x86_of(uint8_t bpf) {
  return jit::x86::number(jit::kRegMap[bpf]);
}

// The register holding the JIT context during a run.
inline constexpr uint8_t kContext = jit::x86::number(jit::kCtx);
// The register holding the instruction budget left during a run.
inline constexpr uint8_t kBudget = jit::x86::number(jit::kBudget);
// The register holding ctx.stack_delta at every instruction boundary.
inline constexpr uint8_t kStackDelta = jit::x86::number(jit::kStackDeltaReg);

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

// The BPF registers r0-r10 as a symbolic machine holds them on entry.
inline std::array<z3::expr, isa::kNumRegisters> bpf_registers(const x86::Machine& in) {
  return {in.gpr[x86_of(0)], in.gpr[x86_of(1)], in.gpr[x86_of(2)], in.gpr[x86_of(3)],
          in.gpr[x86_of(4)], in.gpr[x86_of(5)], in.gpr[x86_of(6)], in.gpr[x86_of(7)],
          in.gpr[x86_of(8)], in.gpr[x86_of(9)], in.gpr[x86_of(10)]};
}

// "; rN = 0x..." for BPF registers first..r10 of a counterexample's inputs
// (indexed by x86 register).
template <std::size_t N>
std::string bpf_register_values(const std::array<uint64_t, N>& inputs, uint8_t first) {
  std::string out;
  for (uint8_t r = first; r <= isa::kFramePointer; ++r)
    out += "; r" + std::to_string(r) + " = " + hex(inputs[x86_of(r)]);
  return out;
}

// A whole compiled function decoded, and the end of the first error-status
// store in its out-of-line code: there the error exit falls into the
// epilogue's normal exit, which is where a proof's paths end.
struct DecodedFunction {
  std::vector<x86::Instruction> insns;
  uint32_t exit_label = 0;
};
inline Result<DecodedFunction> decode_function(std::span<const uint8_t> code, uint32_t stubs_begin) {
  auto insns = x86::decode(code, 0);
  if (!insns) return insns.error();
  DecodedFunction out;
  out.insns = std::move(insns).value();
  for (const x86::Instruction& i : out.insns) {
    if (i.offset >= stubs_begin && sets_error_status(i)) {
      out.exit_label = i.end();
      break;
    }
  }
  if (out.exit_label == 0) return make_error("no error exit found after the stubs");
  return out;
}

// A snippet program the proofs compile (call_proof, call_out_proof,
// entry_exit_proof): validated against the standard helpers (a static
// registry, so it outlives the JIT program that refers to it) and compiled
// under a depth limit and an option set. The JitProgram refers to the
// LoadedProgram, which therefore lives on the heap beside it.
struct CompiledSnippet {
  std::unique_ptr<vm::LoadedProgram> loaded;
  std::unique_ptr<jit::JitProgram> jit;
  vm::ExecLimits limits;  // what it was compiled with
};
inline Result<CompiledSnippet> compile_snippet(const vm::Program& program, uint32_t max_call_depth,
                                               const jit::JitOptions& options) {
  const vm::HelperRegistry& helpers = vm::standard_helpers();
  auto loaded = vm::validate(program, helpers);
  if (!loaded) return loaded.error();
  CompiledSnippet out;
  out.loaded = std::make_unique<vm::LoadedProgram>(std::move(loaded).value());
  out.limits.max_call_depth = max_call_depth;
  auto compiled = jit::JitProgram::compile(*out.loaded, helpers, out.limits, options);
  if (!compiled) return compiled.error();
  out.jit = std::move(compiled).value();
  return out;
}

// prove_snippet(c, compile(c), timeout), or a proof whose detail says why
// the case did not compile (verdict left at its default).
template <class Proof, class Case, class Compile, class Prove>
Proof compile_and_prove(const Case& c, Compile compile, Prove prove_snippet, unsigned timeout_ms) {
  auto snippet = compile(c);
  if (!snippet) {
    Proof p;
    p.detail = snippet.error().message;
    return p;
  }
  return prove_snippet(c, *snippet, timeout_ms);
}

}  // namespace bpfdiff::oracle::smt::proof_support
