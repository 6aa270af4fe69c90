#include "oracle/smt/x86/decode.hpp"

#include <array>
#include <cstdio>

namespace bpfdiff::oracle::smt::x86 {
namespace {

// Maps a Zydis general-purpose register to (number, width, high byte).
// Zydis orders each width's registers by hardware number, except the byte
// registers: al, cl, dl, bl, ah, ch, dh, bh, spl, bpl, sil, dil, r8b..r15b.
bool gpr_of(ZydisRegister r, Operand& out) {
  const auto in = [&](ZydisRegister first, ZydisRegister last) { return r >= first && r <= last; };
  if (in(ZYDIS_REGISTER_AL, ZYDIS_REGISTER_R15B)) {
    const int i = r - ZYDIS_REGISTER_AL;
    out.bits = 8;
    if (i < 4) {
      out.reg = static_cast<uint8_t>(i);
    } else if (i < 8) {
      out.reg = static_cast<uint8_t>(i - 4);
      out.high_byte = true;
    } else {
      out.reg = static_cast<uint8_t>(i - 4);  // spl = 4 ... r15b = 15
    }
    return true;
  }
  if (in(ZYDIS_REGISTER_AX, ZYDIS_REGISTER_R15W)) {
    out.reg = static_cast<uint8_t>(r - ZYDIS_REGISTER_AX);
    out.bits = 16;
    return true;
  }
  if (in(ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_R15D)) {
    out.reg = static_cast<uint8_t>(r - ZYDIS_REGISTER_EAX);
    out.bits = 32;
    return true;
  }
  if (in(ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_R15)) {
    out.reg = static_cast<uint8_t>(r - ZYDIS_REGISTER_RAX);
    out.bits = 64;
    return true;
  }
  return false;
}

std::string format(const ZydisDecodedInstruction& inst, const ZydisDecodedOperand* ops, uint64_t address) {
  ZydisFormatter formatter;
  ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_INTEL);
  std::array<char, 256> text{};
  if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter, &inst, ops, inst.operand_count_visible,
                                                    text.data(), text.size(), address, nullptr)))
    return "?";
  return text.data();
}

}  // namespace

Result<Instruction> decode_one(std::span<const uint8_t> code, uint32_t base) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction inst;
  std::array<ZydisDecodedOperand, ZYDIS_MAX_OPERAND_COUNT> ops;
  if (code.empty() ||
      !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, code.data(), code.size(), &inst, ops.data())))
    return make_error("x86: undecodable bytes at offset " + std::to_string(base));
  Instruction out;
  out.offset = base;
  out.length = inst.length;
  out.mnemonic = inst.mnemonic;
  out.operand_bits = inst.operand_width;
  out.bytes.assign(code.begin(), code.begin() + inst.length);
  out.text = format(inst, ops.data(), base);
  for (unsigned i = 0; i < inst.operand_count_visible; ++i) {
    const ZydisDecodedOperand& op = ops[i];
    Operand o;
    switch (op.type) {
      case ZYDIS_OPERAND_TYPE_REGISTER:
        if (!gpr_of(op.reg.value, o))
          return make_error("x86: " + out.text + ": register " + ZydisRegisterGetString(op.reg.value) +
                            " is not a general-purpose register");
        break;
      case ZYDIS_OPERAND_TYPE_IMMEDIATE:
        if (op.imm.is_relative) {
          o.kind = Operand::Kind::Rel;
          o.imm = static_cast<int64_t>(base) + inst.length + op.imm.value.s;
          out.rel_offset = inst.raw.imm[0].offset;
          out.rel_size = static_cast<uint8_t>(inst.raw.imm[0].size / 8);
        } else {
          o.kind = Operand::Kind::Imm;
          o.bits = op.size;
          // Zydis sign-extends signed immediates to 64 bits; an unsigned
          // one (e.g. a shift count) is already its value.
          o.imm = op.imm.value.s;
        }
        break;
      case ZYDIS_OPERAND_TYPE_MEMORY: {
        o.kind = Operand::Kind::Mem;
        o.bits = op.size;
        o.imm = op.mem.disp.has_displacement ? op.mem.disp.value : 0;
        o.scale = op.mem.scale;
        // Only flat 64-bit addressing: no segment override, no rip-relative,
        // no 32-bit address size (whose effective address wraps at 2^32).
        Operand reg;
        const bool flat = (op.mem.type == ZYDIS_MEMOP_TYPE_MEM || op.mem.type == ZYDIS_MEMOP_TYPE_AGEN) &&
                          inst.address_width == 64 &&
                          (op.mem.segment == ZYDIS_REGISTER_DS || op.mem.segment == ZYDIS_REGISTER_SS ||
                           op.mem.segment == ZYDIS_REGISTER_NONE);
        if (!flat) return make_error("x86: " + out.text + ": only flat 64-bit memory operands are modelled");
        o.base = kNoRegister;
        o.index = kNoRegister;
        if (op.mem.base != ZYDIS_REGISTER_NONE) {
          if (!gpr_of(op.mem.base, reg) || reg.bits != 64)
            return make_error("x86: " + out.text + ": unsupported base register");
          o.base = reg.reg;
        }
        if (op.mem.index != ZYDIS_REGISTER_NONE) {
          if (!gpr_of(op.mem.index, reg) || reg.bits != 64)
            return make_error("x86: " + out.text + ": unsupported index register");
          o.index = reg.reg;
        }
        break;
      }
      case ZYDIS_OPERAND_TYPE_POINTER:
        return make_error("x86: " + out.text + ": far pointers are not modelled");
      case ZYDIS_OPERAND_TYPE_UNUSED:
        return make_error("x86: " + out.text + ": unused operand slot");
    }
    out.operands.push_back(o);
  }
  return out;
}

Result<std::vector<Instruction>> decode(std::span<const uint8_t> code, uint32_t base) {
  std::vector<Instruction> out;
  std::size_t at = 0;
  while (at < code.size()) {
    auto one = decode_one(code.subspan(at), static_cast<uint32_t>(base + at));
    if (!one) return one.error();
    at += one->length;
    out.push_back(std::move(one).value());
  }
  return out;
}

std::string describe(const Instruction& insn) {
  std::string out;
  for (uint8_t b : insn.bytes) {
    std::array<char, 4> hex{};
    std::snprintf(hex.data(), hex.size(), "%02x ", b);
    out += hex.data();
  }
  out += ' ';
  out += insn.text;
  return out;
}

}  // namespace bpfdiff::oracle::smt::x86
