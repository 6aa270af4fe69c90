#include "vm/isa/table.hpp"

#include <array>
#include <cstdio>
#include <vector>

namespace bpfdiff::isa {
namespace {

constexpr FieldRules rules_for(const Semantics& s, Disc disc) {
  FieldRules r;
  const ValueRule disc_or_zero_off = disc == Disc::Off ? ValueRule::Exact : ValueRule::Zero;
  switch (s.family) {
    case Family::Alu:
      r.dst = RegRule::Writable;
      r.off = disc_or_zero_off;
      if (s.alu == AluOp::Neg) break;  // neg has no source operand
      if (s.source == Source::Reg) {
        r.src = RegRule::Readable;
      } else {
        r.imm = ValueRule::Any;
      }
      break;
    case Family::Endian:
      r.dst = RegRule::Writable;
      r.imm = ValueRule::Exact;
      break;
    case Family::Jump:
      if (s.cond == JmpCond::Always) {
        // ja carries its target in off; gotol (the JMP32 encoding) in imm.
        if (s.width == Width::W64) {
          r.off = ValueRule::Any;
        } else {
          r.imm = ValueRule::Any;
        }
        break;
      }
      r.dst = RegRule::Readable;
      r.off = ValueRule::Any;
      if (s.source == Source::Reg) {
        r.src = RegRule::Readable;
      } else {
        r.imm = ValueRule::Any;
      }
      break;
    case Family::Call:
      if (s.call == CallKind::Indirect) {
        r.dst = RegRule::Readable;
      } else {
        r.src = RegRule::Zero;  // checked as the discriminator
        r.imm = ValueRule::Any;
      }
      break;
    case Family::Exit:
      break;
    case Family::Lddw:
      r.dst = RegRule::Writable;
      r.imm = ValueRule::Any;
      break;
    case Family::Load:
    case Family::LoadSigned:
      r.dst = RegRule::Writable;
      r.src = RegRule::Readable;
      r.off = ValueRule::Any;
      break;
    case Family::StoreImm:
      r.dst = RegRule::Readable;
      r.off = ValueRule::Any;
      r.imm = ValueRule::Any;
      break;
    case Family::StoreReg:
      r.dst = RegRule::Readable;
      r.src = RegRule::Readable;
      r.off = ValueRule::Any;
      break;
    case Family::Atomic:
      r.dst = RegRule::Readable;
      // Fetching forms write the old value back into src (cmpxchg into r0).
      r.src = s.fetch && s.atomic != AtomicOp::Cmpxchg ? RegRule::Writable : RegRule::Readable;
      r.off = ValueRule::Any;
      r.imm = ValueRule::Exact;
      break;
    case Family::PacketLoad:
      r.imm = ValueRule::Any;
      if (s.packet == PacketMode::Ind) r.src = RegRule::Readable;
      break;
  }
  return r;
}

constexpr Syntax syntax_for(const Semantics& s) {
  switch (s.family) {
    case Family::Alu:
      if (s.alu == AluOp::Neg) return Syntax::Dst;
      return s.source == Source::Reg ? Syntax::DstSrc : Syntax::DstImm;
    case Family::Endian:
      return Syntax::Dst;
    case Family::Jump:
      if (s.cond == JmpCond::Always) return s.width == Width::W64 ? Syntax::Offset : Syntax::LongOffset;
      return s.source == Source::Reg ? Syntax::DstSrcOffset : Syntax::DstImmOffset;
    case Family::Call:
      switch (s.call) {
        case CallKind::Helper:
          return Syntax::HelperId;
        case CallKind::Local:
          return Syntax::CallOffset;
        case CallKind::Indirect:
          return Syntax::CallReg;
      }
      return Syntax::None;
    case Family::Exit:
      return Syntax::None;
    case Family::Lddw:
      return Syntax::Lddw;
    case Family::Load:
    case Family::LoadSigned:
      return Syntax::Load;
    case Family::StoreImm:
      return Syntax::StoreImm;
    case Family::StoreReg:
      return Syntax::StoreReg;
    case Family::Atomic:
      return Syntax::Atomic;
    case Family::PacketLoad:
      return s.packet == PacketMode::Ind ? Syntax::PacketInd : Syntax::PacketAbs;
  }
  return Syntax::None;
}

constexpr IsaVersion version_for(const Semantics& s) {
  switch (s.family) {
    case Family::Alu:
      switch (s.alu) {
        case AluOp::Sdiv:
        case AluOp::Smod:
        case AluOp::Movsx8:
        case AluOp::Movsx16:
        case AluOp::Movsx32:
          return IsaVersion::V4;
        case AluOp::Add:
        case AluOp::Sub:
        case AluOp::Mul:
        case AluOp::Div:
        case AluOp::Or:
        case AluOp::And:
        case AluOp::Lsh:
        case AluOp::Rsh:
        case AluOp::Neg:
        case AluOp::Mod:
        case AluOp::Xor:
        case AluOp::Mov:
        case AluOp::Arsh:
          return IsaVersion::V1;
      }
      return IsaVersion::V1;
    case Family::Endian:
      return s.endian == EndianOp::Bswap ? IsaVersion::V4 : IsaVersion::V1;
    case Family::Jump:
      if (s.cond == JmpCond::Always) return s.width == Width::W32 ? IsaVersion::V4 : IsaVersion::V1;
      if (s.width == Width::W32) return IsaVersion::V3;
      switch (s.cond) {
        case JmpCond::Lt:
        case JmpCond::Le:
        case JmpCond::Slt:
        case JmpCond::Sle:
          return IsaVersion::V2;
        case JmpCond::Always:
        case JmpCond::Eq:
        case JmpCond::Gt:
        case JmpCond::Ge:
        case JmpCond::Set:
        case JmpCond::Ne:
        case JmpCond::Sgt:
        case JmpCond::Sge:
          return IsaVersion::V1;
      }
      return IsaVersion::V1;
    case Family::LoadSigned:
      return IsaVersion::V4;
    case Family::Atomic:
      return s.atomic == AtomicOp::Add && !s.fetch ? IsaVersion::V1 : IsaVersion::V3;
    case Family::Call:
    case Family::Exit:
    case Family::Lddw:
    case Family::Load:
    case Family::StoreImm:
    case Family::StoreReg:
    case Family::PacketLoad:
      return IsaVersion::V1;
  }
  return IsaVersion::V1;
}

constexpr FormInfo make_info(Form form, std::string_view name, uint8_t opcode, Disc disc, int32_t disc_value,
                             std::string_view mnemonic, Semantics sem) {
  return FormInfo{form,
                  name,
                  opcode,
                  disc,
                  disc_value,
                  mnemonic,
                  sem,
                  rules_for(sem, disc),
                  syntax_for(sem),
                  version_for(sem),
                  static_cast<uint8_t>(sem.family == Family::Lddw ? 2 : 1)};
}

constexpr std::array<FormInfo, kNumForms> kTable = {
#define BPF_FORM(name, opcode, disc, disc_value, mnemonic, sem) \
  make_info(Form::name, #name, opcode, Disc::disc, disc_value, mnemonic, sem),
#include "vm/isa/forms.def"
#undef BPF_FORM
};

constexpr bool table_is_in_enum_order() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].form) != i) return false;
  }
  return true;
}
static_assert(table_is_in_enum_order());

// Forms grouped by opcode byte: a slot's opcode selects at most a handful of
// rows, and the discriminator picks one of them.
struct OpcodeIndex {
  std::array<std::vector<Form>, 256> by_opcode;
  OpcodeIndex() {
    for (const FormInfo& f : kTable)
      by_opcode[f.opcode].push_back(f.form);
  }
};

const OpcodeIndex& opcode_index() {
  static const OpcodeIndex index;
  return index;
}

int32_t disc_field(const RawInsn& insn, Disc disc) {
  switch (disc) {
    case Disc::None:
      return 0;
    case Disc::Off:
      return insn.off;
    case Disc::Imm:
      return insn.imm;
    case Disc::Src:
      return insn.src;
  }
  return 0;
}

const char* disc_name(Disc d) {
  switch (d) {
    case Disc::None:
      return "";
    case Disc::Off:
      return "off";
    case Disc::Imm:
      return "imm";
    case Disc::Src:
      return "src";
  }
  return "";
}

}  // namespace

std::span<const FormInfo> all_forms() {
  return kTable;
}

const FormInfo& info(Form form) {
  return kTable[static_cast<std::size_t>(form)];
}

std::optional<Form> find_form(const RawInsn& insn) {
  for (Form f : opcode_index().by_opcode[insn.opcode]) {
    const FormInfo& fi = info(f);
    if (fi.disc == Disc::None || disc_field(insn, fi.disc) == fi.disc_value) return f;
  }
  return std::nullopt;
}

std::string describe_unknown(const RawInsn& insn) {
  const auto& candidates = opcode_index().by_opcode[insn.opcode];
  char buf[160];
  if (candidates.empty()) {
    std::snprintf(buf, sizeof buf, "unknown opcode 0x%02x", insn.opcode);
    return buf;
  }
  const FormInfo& first = info(candidates.front());
  std::string expected;
  for (Form f : candidates) {
    if (!expected.empty()) expected += ", ";
    expected += std::to_string(info(f).disc_value) + " (" + std::string(info(f).mnemonic) + ")";
  }
  std::snprintf(buf, sizeof buf, "opcode 0x%02x has %s %d; expected %s ", insn.opcode, disc_name(first.disc),
                disc_field(insn, first.disc), disc_name(first.disc));
  return buf + expected;
}

const char* to_string(Family f) {
  switch (f) {
    case Family::Alu:
      return "alu";
    case Family::Endian:
      return "endian";
    case Family::Jump:
      return "jump";
    case Family::Call:
      return "call";
    case Family::Exit:
      return "exit";
    case Family::Lddw:
      return "lddw";
    case Family::Load:
      return "load";
    case Family::LoadSigned:
      return "load-signed";
    case Family::StoreImm:
      return "store-imm";
    case Family::StoreReg:
      return "store-reg";
    case Family::Atomic:
      return "atomic";
    case Family::PacketLoad:
      return "packet-load";
  }
  return "?";
}

const char* to_string(AluOp op) {
  switch (op) {
    case AluOp::Add:
      return "add";
    case AluOp::Sub:
      return "sub";
    case AluOp::Mul:
      return "mul";
    case AluOp::Div:
      return "div";
    case AluOp::Sdiv:
      return "sdiv";
    case AluOp::Or:
      return "or";
    case AluOp::And:
      return "and";
    case AluOp::Lsh:
      return "lsh";
    case AluOp::Rsh:
      return "rsh";
    case AluOp::Neg:
      return "neg";
    case AluOp::Mod:
      return "mod";
    case AluOp::Smod:
      return "smod";
    case AluOp::Xor:
      return "xor";
    case AluOp::Mov:
      return "mov";
    case AluOp::Movsx8:
      return "movsx8";
    case AluOp::Movsx16:
      return "movsx16";
    case AluOp::Movsx32:
      return "movsx32";
    case AluOp::Arsh:
      return "arsh";
  }
  return "?";
}

const char* to_string(JmpCond c) {
  switch (c) {
    case JmpCond::Always:
      return "ja";
    case JmpCond::Eq:
      return "jeq";
    case JmpCond::Gt:
      return "jgt";
    case JmpCond::Ge:
      return "jge";
    case JmpCond::Set:
      return "jset";
    case JmpCond::Ne:
      return "jne";
    case JmpCond::Sgt:
      return "jsgt";
    case JmpCond::Sge:
      return "jsge";
    case JmpCond::Lt:
      return "jlt";
    case JmpCond::Le:
      return "jle";
    case JmpCond::Slt:
      return "jslt";
    case JmpCond::Sle:
      return "jsle";
  }
  return "?";
}

}  // namespace bpfdiff::isa
