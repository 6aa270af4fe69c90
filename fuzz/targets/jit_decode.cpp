// JIT robustness: any program the validator accepts compiles, and the code
// the JIT emits decodes with Zydis contiguously -- every byte of the program
// body belongs to a valid instruction and every BPF instruction starts on an
// instruction boundary -- so no encoding bug (a wrong length, a stray REX)
// can hide behind code that happens to run.
#include <cstdint>
#include <set>
#include <string>

#include "fuzz/check.hpp"
#include "fuzz/custom_mutator.hpp"
#include "fuzz/raw_input.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/x86/disasm.hpp"
#include "vm/program/validate.hpp"

using namespace bpfdiff;

// The first byte picks the JIT option set; the raw layout follows it.
BPFDIFF_RAW_CUSTOM_MUTATOR(1)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const fuzz::RawInput in = fuzz::split_raw_input({data + 1, size - 1});
  auto program = vm::program_from_bytes(in.program);
  if (!program) return 0;
  static const vm::HelperRegistry helpers;
  auto loaded = vm::validate(*program, helpers);
  if (!loaded) return 0;
  // The first byte picks the option set, so all four are covered.
  const jit::JitOptions options{(data[0] & 1) != 0, (data[0] & 2) != 0};
  auto compiled = jit::JitProgram::compile(*loaded, helpers, {}, options);
  BPFDIFF_FUZZ_CHECK(compiled.ok(), "jit: valid program failed to compile",
                     compiled.ok() ? std::string() : compiled.error().message);
  const jit::JitProgram& jit = **compiled;

  std::set<std::size_t> boundaries;
  for (const jit::x86::DisasmLine& line : jit::x86::disassemble(jit.code())) {
    BPFDIFF_FUZZ_CHECK(line.valid, "jit: emitted code does not decode",
                       jit::engine_name(options) + " at offset " + std::to_string(line.offset));
    boundaries.insert(line.offset);
  }
  for (std::size_t pc = 0; pc < jit.insn_offsets().size(); pc += isa::info(loaded->insns[pc].form).slots) {
    BPFDIFF_FUZZ_CHECK(boundaries.count(jit.insn_offsets()[pc]) == 1,
                       "jit: instruction starts mid-instruction", "pc " + std::to_string(pc));
  }
  return 0;
}
