#pragma once
// Bytecode to text. The output assembles back to the same bytes for every
// slot, legal or not: slots that are not a valid form print as a `.slot`
// directive carrying the raw fields, so disassembly never fails.
#include <cstdint>
#include <span>
#include <string>

#include "vm/isa/raw.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::text {

struct DisasmOptions {
  bool pc_prefix = false;  // prefix each line with its slot index ("  12: ")
  bool raw_bytes = false;  // append the slot's bytes as a comment
};

// One instruction. `next` is the following slot (for lddw), may be null.
std::string disassemble_one(const isa::RawInsn& insn, const isa::RawInsn* next);

// A whole program, one instruction per line (lddw is one line for two slots).
std::string disassemble(std::span<const isa::RawInsn> slots, const DisasmOptions& options = {});

}  // namespace bpfdiff::text
