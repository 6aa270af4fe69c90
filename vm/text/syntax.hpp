#pragma once
// Internal to the text library: the operand layout of each isa::Syntax, shared
// by the assembler (which parses operands into fields) and the disassembler
// (which prints fields as operands), so the two cannot drift apart. Also the
// spelling of numbers, registers and lddw pseudo forms.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vm/isa/semantics.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::text::detail {

// One operand position and the slot field(s) it carries.
enum class Operand : uint8_t {
  Dst,        // r1 -> dst
  Src,        // r2 -> src
  Imm,        // 5 -> imm (32 bits)
  OffTarget,  // +3, -3 or a label -> off (ja, conditional jumps)
  ImmTarget,  // +3, -3 or a label -> imm (gotol, call local)
  MemDst,     // [r1+4] -> dst, off
  MemSrc,     // [r2+4] -> src, off
  Helper,     // helper id or registered helper name -> imm
  Lddw,       // 64-bit value or pseudo form map_fd(3) -> imm and the next slot's imm
};

std::span<const Operand> operands_of(isa::Syntax syntax);

// Operand placeholders for messages: "add reg, imm".
std::string usage(const isa::FormInfo& form);

// How an lddw kind is written: lddw r1, map_value(3, 16). Imm64 has no pseudo name.
struct LddwPseudo {
  std::string_view name;     // empty for LddwKind::Imm64
  int args = 0;              // 1: imm only; 2: imm and the next slot's imm
  bool pc_relative = false;  // the argument is a jump-style target (+N or a label)
};
LddwPseudo lddw_pseudo(isa::LddwKind kind);

// Canonical spellings, all read back exactly by the assembler.
std::string format_register(unsigned reg);  // r1
std::string format_imm32(int32_t value);    // decimal when small, else 0x of the 32-bit pattern
std::string format_imm64(uint64_t value);   // decimal when small, else 0x of the 64-bit pattern
std::string format_offset(int64_t value);   // +3 / -3 / +0

}  // namespace bpfdiff::text::detail
