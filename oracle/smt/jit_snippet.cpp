#include "oracle/smt/jit_snippet.hpp"

#include <cstdio>

#include "vm/isa/encode.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::oracle::smt {

isa::RawInsn case_instruction(const JitCase& c) {
  const isa::FormInfo& fi = isa::info(c.form);
  const uint8_t dst = fi.rules.dst != isa::RegRule::Zero ? c.dst : 0;
  const uint8_t src = fi.rules.src != isa::RegRule::Zero ? c.src : 0;
  int32_t imm = fi.rules.imm == isa::ValueRule::Any ? c.imm : 0;
  int16_t off = 0;
  if (fi.sem.family == isa::Family::Jump) {
    // Jump to slot 3, past the fall-through exit in slot 2.
    if (c.form == isa::Form::gotol) {
      imm = 1;
    } else {
      off = 1;
    }
  }
  return isa::encode(c.form, dst, src, off, imm);
}

std::string describe(const JitCase& c) {
  std::string text = text::disassemble_one(case_instruction(c), nullptr);
  return std::string(isa::info(c.form).name) + " (" + text + ") on " + jit::engine_name(c.options);
}

Result<std::unique_ptr<jit::JitProgram>> compile_in_frame(const isa::RawInsn& insn, bool jump_target,
                                                          const jit::JitOptions& options) {
  vm::Program program;
  program.slots.push_back(isa::encode(isa::Form::mov_reg, 0, 0));
  program.slots.push_back(insn);
  program.slots.push_back(isa::encode(isa::Form::exit));
  if (jump_target) program.slots.push_back(isa::encode(isa::Form::exit));
  const vm::HelperRegistry helpers;
  auto loaded = vm::validate(program, helpers);
  if (!loaded) return loaded.error();
  return jit::JitProgram::compile(*loaded, helpers, {}, options);
}

Result<JitSnippet> compile_snippet(const JitCase& c) {
  const isa::FormInfo& fi = isa::info(c.form);
  auto compiled = compile_in_frame(case_instruction(c), fi.sem.family == isa::Family::Jump, c.options);
  if (!compiled) return make_error(describe(c) + ": " + compiled.error().message);
  const jit::JitProgram& jp = **compiled;
  JitSnippet s;
  s.code.assign(jp.code().begin(), jp.code().end());
  s.begin = jp.insn_offsets()[kSnippetPc];
  s.end = jp.insn_offsets()[kSnippetPc + 1];
  s.target = fi.sem.family == isa::Family::Jump ? jp.insn_offsets()[kSnippetPc + 2] : s.end;
  auto insns = x86::decode(std::span<const uint8_t>(s.code).subspan(s.begin, s.end - s.begin), s.begin);
  if (!insns) return make_error(describe(c) + ": " + insns.error().message);
  s.insns = std::move(insns).value();
  return s;
}

}  // namespace bpfdiff::oracle::smt
