#include "vm/text/disassembler.hpp"

#include <cstdio>
#include <optional>

#include "vm/isa/table.hpp"
#include "vm/text/syntax.hpp"

namespace bpfdiff::text {
namespace {

using detail::format_imm32;
using detail::format_imm64;
using detail::format_offset;
using detail::format_register;
using detail::Operand;

// The assembler accepts r0..r10 in every register position (it leaves
// "r10 is read-only" to the validator), so any of them prints symbolically.
bool reg_ok(isa::RegRule rule, uint8_t reg, bool is_disc) {
  if (is_disc) return true;
  switch (rule) {
    case isa::RegRule::Zero:
      return reg == 0;
    case isa::RegRule::Readable:
    case isa::RegRule::Writable:
      return reg < isa::kNumRegisters;
  }
  return false;
}

bool value_ok(isa::ValueRule rule, int32_t value, int32_t disc_value, bool is_disc) {
  if (is_disc) return true;  // find_form matched it already
  switch (rule) {
    case isa::ValueRule::Zero:
      return value == 0;
    case isa::ValueRule::Any:
      return true;
    case isa::ValueRule::Exact:
      return value == disc_value;
  }
  return false;
}

bool fields_ok(const isa::FormInfo& fi, const isa::RawInsn& insn) {
  const isa::FieldRules& r = fi.rules;
  return reg_ok(r.dst, insn.dst, false) && reg_ok(r.src, insn.src, fi.disc == isa::Disc::Src) &&
         value_ok(r.off, insn.off, fi.disc_value, fi.disc == isa::Disc::Off) &&
         value_ok(r.imm, insn.imm, fi.disc_value, fi.disc == isa::Disc::Imm);
}

// The second slot of lddw carries only an imm; a pseudo form with one argument
// has no place to print a nonzero second imm, so such a pair prints as .slot.
bool second_slot_ok(const isa::FormInfo& fi, const isa::RawInsn* next) {
  if (next == nullptr) return false;
  if (next->opcode != 0 || next->dst != 0 || next->src != 0 || next->off != 0) return false;
  const detail::LddwPseudo p = detail::lddw_pseudo(fi.sem.lddw);
  return p.name.empty() || p.args == 2 || next->imm == 0;
}

std::string slot_directive(const isa::RawInsn& insn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ".slot 0x%02x, ", insn.opcode);
  return buf + std::to_string(insn.dst) + ", " + std::to_string(insn.src) + ", " + std::to_string(insn.off) +
         ", " + format_imm32(insn.imm);
}

std::string memory(uint8_t reg, int16_t off) {
  return "[" + format_register(reg) + format_offset(off) + "]";
}

std::string lddw_operand(const isa::FormInfo& fi, const isa::RawInsn& insn, const isa::RawInsn& next) {
  const detail::LddwPseudo p = detail::lddw_pseudo(fi.sem.lddw);
  if (p.name.empty()) {
    return format_imm64(static_cast<uint64_t>(static_cast<uint32_t>(insn.imm)) |
                        (static_cast<uint64_t>(static_cast<uint32_t>(next.imm)) << 32));
  }
  std::string out(p.name);
  out += '(';
  out += p.pc_relative ? format_offset(insn.imm) : format_imm32(insn.imm);
  if (p.args == 2) out += ", " + format_imm32(next.imm);
  out += ')';
  return out;
}

std::string operand(Operand op, const isa::FormInfo& fi, const isa::RawInsn& insn, const isa::RawInsn* next) {
  switch (op) {
    case Operand::Dst:
      return format_register(insn.dst);
    case Operand::Src:
      return format_register(insn.src);
    case Operand::Imm:
    case Operand::Helper:
      return format_imm32(insn.imm);
    case Operand::OffTarget:
      return format_offset(insn.off);
    case Operand::ImmTarget:
      return format_offset(insn.imm);
    case Operand::MemDst:
      return memory(insn.dst, insn.off);
    case Operand::MemSrc:
      return memory(insn.src, insn.off);
    case Operand::Lddw:
      return lddw_operand(fi, insn, *next);
  }
  return "?";
}

struct Line {
  std::string text;
  std::size_t slots = 1;
};

Line render(const isa::RawInsn& insn, const isa::RawInsn* next) {
  const std::optional<isa::Form> form = isa::find_form(insn);
  if (!form) return {slot_directive(insn), 1};
  const isa::FormInfo& fi = isa::info(*form);
  if (!fields_ok(fi, insn)) return {slot_directive(insn), 1};
  if (fi.slots == 2 && !second_slot_ok(fi, next)) return {slot_directive(insn), 1};

  std::string text(fi.mnemonic);
  const char* sep = " ";
  for (Operand op : detail::operands_of(fi.syntax)) {
    text += sep;
    text += operand(op, fi, insn, next);
    sep = ", ";
  }
  return {std::move(text), fi.slots};
}

void append_bytes(std::string& out, const isa::RawInsn& insn) {
  char buf[4];
  for (uint8_t b : isa::encode_slot(insn)) {
    std::snprintf(buf, sizeof buf, " %02x", b);
    out += buf;
  }
}

}  // namespace

std::string disassemble_one(const isa::RawInsn& insn, const isa::RawInsn* next) {
  return render(insn, next).text;
}

std::string disassemble(std::span<const isa::RawInsn> slots, const DisasmOptions& options) {
  std::string out;
  std::size_t pc = 0;
  while (pc < slots.size()) {
    const isa::RawInsn* next = pc + 1 < slots.size() ? &slots[pc + 1] : nullptr;
    Line line = render(slots[pc], next);
    if (options.pc_prefix) {
      char buf[24];
      std::snprintf(buf, sizeof buf, "%4zu: ", pc);
      out += buf;
    }
    out += line.text;
    if (options.raw_bytes) {
      out += "  #";
      for (std::size_t i = 0; i < line.slots; ++i)
        append_bytes(out, slots[pc + i]);
    }
    out += '\n';
    pc += line.slots;
  }
  return out;
}

}  // namespace bpfdiff::text
