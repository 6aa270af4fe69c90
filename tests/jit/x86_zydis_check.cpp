#include "tests/jit/x86_zydis_check.hpp"

#include <array>
#include <sstream>

namespace bpfdiff::jit::x86::testutil {

namespace {

constexpr std::array<ZydisRegister, 4> kFirst = {ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AX, ZYDIS_REGISTER_EAX,
                                                 ZYDIS_REGISTER_RAX};

std::string reg_text(ZydisRegister r) {
  const char* s = ZydisRegisterGetString(r);
  return s ? s : "none";
}

uint64_t low_bits(uint64_t v, unsigned bits) {
  return bits >= 64 ? v : v & ((uint64_t{1} << bits) - 1);
}

std::string check_mem(const ZydisDecodedOperand& got, const Mem& m) {
  std::ostringstream why;
  const ZydisRegister base = zydis_reg(m.base, Width::W64);
  const ZydisRegister index = m.index ? zydis_reg(m.index->reg, Width::W64) : ZYDIS_REGISTER_NONE;
  if (got.mem.base != base) why << "base " << reg_text(got.mem.base) << " != " << reg_text(base) << "; ";
  if (got.mem.index != index) why << "index " << reg_text(got.mem.index) << " != " << reg_text(index) << "; ";
  if (m.index) {
    const unsigned scale = 1u << static_cast<unsigned>(m.index->scale);
    if (got.mem.scale != scale) why << "scale " << int{got.mem.scale} << " != " << scale << "; ";
  }
  const int64_t disp = got.mem.disp.has_displacement ? got.mem.disp.value : 0;
  if (disp != m.disp) why << "disp " << disp << " != " << m.disp << "; ";
  return why.str();
}

std::string check_operand(const ZydisDecodedOperand& got, const ExpectedOperand& want) {
  std::ostringstream why;
  switch (want.kind) {
    case ExpectedOperand::Kind::Reg:
      if (got.type != ZYDIS_OPERAND_TYPE_REGISTER) return "not a register";
      if (got.reg.value != zydis_reg(want.reg, want.width))
        why << reg_text(got.reg.value) << " != " << reg_text(zydis_reg(want.reg, want.width));
      break;
    case ExpectedOperand::Kind::Mem:
    case ExpectedOperand::Kind::Agen:
      if (got.type != ZYDIS_OPERAND_TYPE_MEMORY) return "not memory";
      why << check_mem(got, want.mem);
      if (want.kind == ExpectedOperand::Kind::Mem && got.size != bits_of(want.width))
        why << "access size " << got.size << " != " << bits_of(want.width);
      break;
    case ExpectedOperand::Kind::Imm:
      if (got.type != ZYDIS_OPERAND_TYPE_IMMEDIATE || got.imm.is_relative) return "not an immediate";
      if (low_bits(got.imm.value.u, want.imm_bits) !=
          low_bits(static_cast<uint64_t>(want.imm), want.imm_bits))
        why << "imm 0x" << std::hex << got.imm.value.u << " != 0x" << static_cast<uint64_t>(want.imm);
      break;
    case ExpectedOperand::Kind::Rel:
      if (got.type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !got.imm.is_relative) return "not a relative offset";
      if (got.imm.value.s != want.imm) why << "rel " << got.imm.value.s << " != " << want.imm;
      break;
  }
  return why.str();
}

}  // namespace

ZydisRegister zydis_reg(Reg r, Width w) {
  const auto first = static_cast<int>(kFirst[static_cast<size_t>(w)]);
  // Zydis lists al, cl, dl, bl, ah, ch, dh, bh, spl, ...: byte registers 4..15
  // sit four places further on, past the high-byte registers we never emit.
  const int skip = (w == Width::W8 && number(r) >= 4) ? 4 : 0;
  return static_cast<ZydisRegister>(first + number(r) + skip);
}

std::string check_decoded(std::span<const uint8_t> code, const Expected& expected) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction inst;
  std::array<ZydisDecodedOperand, ZYDIS_MAX_OPERAND_COUNT> ops;
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, code.data(), code.size(), &inst, ops.data())))
    return "does not decode";
  std::ostringstream why;
  if (inst.length != code.size())
    why << "decoded length " << int{inst.length} << " != emitted " << code.size() << "; ";
  if (inst.mnemonic != expected.mnemonic)
    why << "mnemonic " << ZydisMnemonicGetString(inst.mnemonic)
        << " != " << ZydisMnemonicGetString(expected.mnemonic) << "; ";
  const bool lock = (inst.attributes & ZYDIS_ATTRIB_HAS_LOCK) != 0;
  if (lock != expected.lock) why << "lock " << lock << " != " << expected.lock << "; ";
  if (inst.operand_count_visible != expected.operands.size()) {
    why << "visible operands " << int{inst.operand_count_visible} << " != " << expected.operands.size()
        << "; ";
  } else {
    for (size_t i = 0; i < expected.operands.size(); ++i) {
      const std::string op_why = check_operand(ops[i], expected.operands[i]);
      if (!op_why.empty()) why << "operand " << i << ": " << op_why << "; ";
    }
  }
  return why.str();
}

std::string describe(const Expected& expected) {
  std::ostringstream out;
  if (expected.lock) out << "lock ";
  out << ZydisMnemonicGetString(expected.mnemonic);
  const char* sep = " ";
  for (const ExpectedOperand& op : expected.operands) {
    out << sep;
    sep = ", ";
    switch (op.kind) {
      case ExpectedOperand::Kind::Reg:
        out << name(op.reg, op.width);
        break;
      case ExpectedOperand::Kind::Mem:
      case ExpectedOperand::Kind::Agen:
        out << (op.kind == ExpectedOperand::Kind::Mem ? name(op.width) : "agen") << "[" << name(op.mem.base);
        if (op.mem.index)
          out << "+" << name(op.mem.index->reg) << "*" << (1 << static_cast<int>(op.mem.index->scale));
        out << "+" << op.mem.disp << "]";
        break;
      case ExpectedOperand::Kind::Imm:
        out << op.imm;
        break;
      case ExpectedOperand::Kind::Rel:
        out << "rel " << op.imm;
        break;
    }
  }
  return out.str();
}

}  // namespace bpfdiff::jit::x86::testutil
