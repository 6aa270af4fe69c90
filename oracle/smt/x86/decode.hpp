#pragma once
// Decoding of emitted x86-64 bytes (Zydis) into the small operand model the
// Z3 semantics works on. The semantics never looks at the bytes again, so
// every encoding detail that matters (REX.W, REX.B, ModRM, a byte register
// that became ah..bh because a REX was missing) is decided here, by Zydis,
// exactly as the CPU decodes it.
#include <Zydis/Zydis.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt::x86 {

struct Operand {
  enum class Kind : uint8_t { Reg, Imm, Rel, Mem };
  Kind kind = Kind::Reg;
  uint8_t reg = 0;         // Reg: hardware number 0..15 (rax..r15)
  unsigned bits = 64;      // Reg: access width (8, 16, 32, 64); Imm: operand size
  bool high_byte = false;  // Reg: ah, ch, dh or bh (bits 8..15 of reg 0..3)
  int64_t imm = 0;         // Imm: sign-extended value; Rel: absolute target offset in the decoded range;
                           // Mem: the displacement
  // Mem: the effective address is base + index * scale + imm (base, index:
  // hardware numbers, kNoRegister when absent); `bits` is the access width.
  uint8_t base = 0;
  uint8_t index = 0;
  uint8_t scale = 0;
};

inline constexpr uint8_t kNoRegister = 0xff;

struct Instruction {
  uint32_t offset = 0;  // from the start of the decoded range
  uint8_t length = 0;
  ZydisMnemonic mnemonic = ZYDIS_MNEMONIC_INVALID;
  unsigned operand_bits = 64;     // the instruction's operand size
  std::vector<Operand> operands;  // the visible operands, in Intel order
  std::vector<uint8_t> bytes;
  std::string text;        // Intel syntax, for messages
  uint8_t rel_offset = 0;  // branches: where the displacement starts in `bytes`
  uint8_t rel_size = 0;    // branches: its size in bytes (1 or 4)

  uint32_t end() const { return offset + length; }
};

// Decodes all of `code`; `base` is the offset of code[0] in the function, so
// that relative branch targets come out as function offsets. Fails on bytes
// that are not a whole number of valid instructions.
Result<std::vector<Instruction>> decode(std::span<const uint8_t> code, uint32_t base = 0);

// One instruction at the start of `code`.
Result<Instruction> decode_one(std::span<const uint8_t> code, uint32_t base = 0);

// "48 01 c8  add rax, rcx".
std::string describe(const Instruction& insn);

}  // namespace bpfdiff::oracle::smt::x86
