#include "vm/text/syntax.hpp"

#include <cstdio>

namespace bpfdiff::text::detail {
namespace {

using O = Operand;
constexpr O kDst[] = {O::Dst};
constexpr O kDstImm[] = {O::Dst, O::Imm};
constexpr O kDstSrc[] = {O::Dst, O::Src};
constexpr O kOffTarget[] = {O::OffTarget};
constexpr O kImmTarget[] = {O::ImmTarget};
constexpr O kDstImmOff[] = {O::Dst, O::Imm, O::OffTarget};
constexpr O kDstSrcOff[] = {O::Dst, O::Src, O::OffTarget};
constexpr O kHelper[] = {O::Helper};
constexpr O kLddw[] = {O::Dst, O::Lddw};
constexpr O kLoad[] = {O::Dst, O::MemSrc};
constexpr O kStoreImm[] = {O::MemDst, O::Imm};
constexpr O kStoreReg[] = {O::MemDst, O::Src};
constexpr O kImm[] = {O::Imm};
constexpr O kSrcImm[] = {O::Src, O::Imm};

// Small magnitudes read best in decimal; large ones as the bit pattern.
constexpr int64_t kDecimalLimit = 0x10000;

const char* placeholder(Operand op) {
  switch (op) {
    case Operand::Dst:
    case Operand::Src:
      return "reg";
    case Operand::Imm:
      return "imm";
    case Operand::OffTarget:
    case Operand::ImmTarget:
      return "+off|label";
    case Operand::MemDst:
    case Operand::MemSrc:
      return "[reg+off]";
    case Operand::Helper:
      return "helper";
    case Operand::Lddw:
      return "imm64";
  }
  return "?";
}

std::string lddw_placeholder(isa::LddwKind kind) {
  const LddwPseudo p = lddw_pseudo(kind);
  if (p.name.empty()) return "imm64";
  return std::string(p.name) + (p.pc_relative ? "(+off|label)" : p.args == 2 ? "(imm, imm)" : "(imm)");
}

}  // namespace

std::span<const Operand> operands_of(isa::Syntax syntax) {
  switch (syntax) {
    case isa::Syntax::None:
      return {};
    case isa::Syntax::Dst:
    case isa::Syntax::CallReg:
      return kDst;
    case isa::Syntax::DstImm:
      return kDstImm;
    case isa::Syntax::DstSrc:
      return kDstSrc;
    case isa::Syntax::Offset:
      return kOffTarget;
    case isa::Syntax::LongOffset:
    case isa::Syntax::CallOffset:
      return kImmTarget;
    case isa::Syntax::DstImmOffset:
      return kDstImmOff;
    case isa::Syntax::DstSrcOffset:
      return kDstSrcOff;
    case isa::Syntax::HelperId:
      return kHelper;
    case isa::Syntax::Lddw:
      return kLddw;
    case isa::Syntax::Load:
      return kLoad;
    case isa::Syntax::StoreImm:
      return kStoreImm;
    case isa::Syntax::StoreReg:
    case isa::Syntax::Atomic:
      return kStoreReg;
    case isa::Syntax::PacketAbs:
      return kImm;
    case isa::Syntax::PacketInd:
      return kSrcImm;
  }
  return {};
}

std::string usage(const isa::FormInfo& form) {
  std::string out(form.mnemonic);
  const char* sep = " ";
  for (Operand op : operands_of(form.syntax)) {
    out += sep;
    out += op == Operand::Lddw ? lddw_placeholder(form.sem.lddw) : std::string(placeholder(op));
    sep = ", ";
  }
  return out;
}

LddwPseudo lddw_pseudo(isa::LddwKind kind) {
  switch (kind) {
    case isa::LddwKind::Imm64:
      return {"", 0, false};
    case isa::LddwKind::MapFd:
      return {"map_fd", 1, false};
    case isa::LddwKind::MapValue:
      return {"map_value", 2, false};
    case isa::LddwKind::BtfVar:
      return {"btf_var", 1, false};
    case isa::LddwKind::CodeAddr:
      return {"code", 1, true};
    case isa::LddwKind::MapIdx:
      return {"map_idx", 1, false};
    case isa::LddwKind::MapIdxValue:
      return {"map_idx_value", 2, false};
  }
  return {"", 0, false};
}

std::string format_register(unsigned reg) {
  return "r" + std::to_string(reg);
}

std::string format_imm32(int32_t value) {
  if (value > -kDecimalLimit && value < kDecimalLimit) return std::to_string(value);
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", static_cast<unsigned>(static_cast<uint32_t>(value)));
  return buf;
}

std::string format_imm64(uint64_t value) {
  const auto s = static_cast<int64_t>(value);
  if (s > -kDecimalLimit && s < kDecimalLimit) return std::to_string(s);
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string format_offset(int64_t value) {
  return (value < 0 ? "" : "+") + std::to_string(value);
}

}  // namespace bpfdiff::text::detail
