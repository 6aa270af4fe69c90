#pragma once
// The machine code our JIT emits for one BPF instruction, cut out of a real
// compilation. The instruction is compiled inside a tiny program,
//
//   0: mov r0, r0        (so that the instruction does not start a block:
//   1: <instruction>      its code carries no budget charge)
//   2: exit               (jumps: the fall-through)
//   3: exit               (jumps: the target, +1)
//
// with JitProgram::compile, exactly as any program is compiled, and its
// bytes are [insn_offsets[1], insn_offsets[2]) of the emitted code.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oracle/smt/x86/decode.hpp"
#include "vm/isa/raw.hpp"
#include "vm/isa/table.hpp"
#include "vm/jit/options.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::jit {
class JitProgram;
}  // namespace bpfdiff::jit

namespace bpfdiff::oracle::smt {

// One JIT translation to prove: a form, its registers, its immediate and an
// option set.
struct JitCase {
  isa::Form form = isa::Form::add_reg;
  uint8_t dst = 0;
  uint8_t src = 0;  // Reg forms
  int32_t imm = 0;  // Imm forms (not byte-order forms: their imm is the width)
  jit::JitOptions options;
};

// "add32_reg r4, r3 on jit+blind", "lsh_imm r0, 0x7fffffff on jit-bmi2".
std::string describe(const JitCase& c);

// The BPF instruction of `c`, with jump offset +1.
isa::RawInsn case_instruction(const JitCase& c);

inline constexpr uint32_t kSnippetPc = 1;

struct JitSnippet {
  std::vector<uint8_t> code;            // the whole compiled function
  uint32_t begin = 0;                   // the instruction's code: [begin, end)
  uint32_t end = 0;                     // also where its fall-through lands
  uint32_t target = 0;                  // jumps: code offset of the BPF target
  std::vector<x86::Instruction> insns;  // [begin, end), decoded
};

Result<JitSnippet> compile_snippet(const JitCase& c);

// What the JIT makes of `mov r0, r0; insn; exit` (with a second exit, the
// target of a jump, when `jump_target`): the frame every proof compiles its
// instruction in, slot 1 being the instruction (kSnippetPc).
Result<std::unique_ptr<jit::JitProgram>> compile_in_frame(const isa::RawInsn& insn, bool jump_target,
                                                          const jit::JitOptions& options);

}  // namespace bpfdiff::oracle::smt
