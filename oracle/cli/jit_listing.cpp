#include "oracle/cli/jit_listing.hpp"

#include <cstdio>

#include "vm/isa/table.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/x86/disasm.hpp"
#include "vm/program/validate.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {

Result<std::string> jit_listing(const vm::Program& program, const vm::HelperRegistry& helpers,
                                const jit::JitOptions& options) {
  auto loaded = vm::validate(program, helpers);
  if (!loaded) return loaded.error();
  auto compiled = jit::JitProgram::compile(*loaded, helpers, {}, options);
  if (!compiled) return compiled.error();
  const jit::JitProgram& jit = **compiled;
  const auto code = jit.code();
  const auto& offsets = jit.insn_offsets();
  const std::size_t n = loaded->insns.size();

  auto x86 = [&](std::size_t from, std::size_t to) {
    return jit::x86::format_listing(code.subspan(from, to - from), from);
  };
  char header[128];
  std::snprintf(header, sizeof header, "; %s: %zu bytes of x86-64 for %zu slots, compiled in %llu ns\n",
                jit::engine_name(jit.options()).c_str(), code.size(), n,
                static_cast<unsigned long long>(jit.compile_ns()));
  std::string out = header;
  out += "; prologue\n" + x86(0, n > 0 ? offsets[0] : code.size());
  for (std::size_t pc = 0; pc < n; ++pc) {
    const auto& raw = program.slots[pc];
    const std::size_t slots = isa::info(loaded->insns[pc].form).slots;
    const isa::RawInsn* next = pc + 1 < n ? &program.slots[pc + 1] : nullptr;
    std::snprintf(header, sizeof header, "pc %zu: ", pc);
    out += std::string(header) + text::disassemble_one(raw, next) + "\n";
    const std::size_t end_pc = pc + slots;  // the second slot of lddw has no code of its own
    out += x86(offsets[pc], end_pc < n ? offsets[end_pc] : jit.body_size());
    pc = end_pc - 1;
  }
  out += "; trap, out-of-line checks and epilogue\n" + x86(jit.body_size(), code.size());
  return out;
}

}  // namespace bpfdiff::cli
