// Shifts and rotates (SDM "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR", "SARX/SHLX/SHRX").
#include "oracle/smt/x86/semantics_impl.hpp"

namespace bpfdiff::oracle::smt::x86::detail {

Result<Control> shift(Machine& m, const Instruction& insn) {
  const Operand& dst = insn.operands[0];
  const Operand& count_op = insn.operands[1];
  const unsigned n = dst.bits;
  z3::context& c = m.ctx();
  // The count is an imm8 or cl, masked to 5 bits (6 with REX.W) before use,
  // also for 8- and 16-bit operands.
  z3::expr count8 = c.bv_val(0, 8);
  if (count_op.kind == Operand::Kind::Imm) {
    count8 = read_imm(m, count_op, 8);
  } else if (count_op.kind == Operand::Kind::Reg && count_op.reg == kRcx && count_op.bits == 8 &&
             !count_op.high_byte) {
    count8 = read_reg(m, count_op);
  } else {
    return unsupported(insn, "a shift count is an immediate or cl");
  }
  const z3::expr masked = count8 & c.bv_val(n == 64 ? 63 : 31, 8);
  const z3::expr zero8 = c.bv_val(0, 8);
  const z3::expr a = read_reg(m, dst);
  // The count at the operand's width (it may exceed an 8- or 16-bit width).
  const z3::expr k = n == 8 ? masked : z3::zext(masked, n - 8);
  const z3::expr one = c.bv_val(1, n);
  const z3::expr nonzero = masked != zero8;
  const z3::expr count_is_one = masked == c.bv_val(1, 8);
  std::optional<z3::expr> r, cf, of;
  bool arithmetic_flags = true;
  switch (
      static_cast<int>(insn.mnemonic)) {  // int: Zydis has ~1700 mnemonics, -Wswitch-enum would want them all
    case ZYDIS_MNEMONIC_SHL:
      r = z3::shl(a, k);
      cf = lsb(z3::lshr(a, c.bv_val(n, n) - k));  // the last bit shifted out
      of = msb(*r) != *cf;
      break;
    case ZYDIS_MNEMONIC_SHR:
      r = z3::lshr(a, k);
      cf = lsb(z3::lshr(a, k - one));
      of = msb(a);
      break;
    case ZYDIS_MNEMONIC_SAR:
      r = z3::ashr(a, k);
      cf = lsb(z3::ashr(a, k - one));
      of = c.bool_val(false);
      break;
    case ZYDIS_MNEMONIC_ROL:
    case ZYDIS_MNEMONIC_ROR: {
      // Rotation is by the masked count modulo the width; flags follow the
      // masked count, so a 16-bit rotate by 16 still writes CF.
      const z3::expr by = z3::urem(k, c.bv_val(n, n));
      const z3::expr back = c.bv_val(n, n) - by;
      const bool right = insn.mnemonic == ZYDIS_MNEMONIC_ROR;
      r = right ? (z3::lshr(a, by) | z3::shl(a, back)) : (z3::shl(a, by) | z3::lshr(a, back));
      if (right) {
        cf = msb(*r);
        of = msb(*r) != (r->extract(n - 2, n - 2) == c.bv_val(1, 1));
      } else {
        cf = lsb(*r);
        of = msb(*r) != *cf;
      }
      arithmetic_flags = false;
      break;
    }
    default:
      return unsupported(insn, "not a shift");
  }
  // A count beyond an 8- or 16-bit operand leaves CF undefined; OF is
  // defined for a count of one only.
  if (n < 32 && arithmetic_flags) cf = z3::ite(z3::ugt(masked, c.bv_val(n, 8)), m.undefined_bool(), *cf);
  of = z3::ite(count_is_one, *of, m.undefined_bool());
  Machine before = m;
  m.flag(Flag::CF) = z3::ite(nonzero, *cf, before.flag(Flag::CF));
  m.flag(Flag::OF) = z3::ite(nonzero, *of, before.flag(Flag::OF));
  if (arithmetic_flags) {
    set_result_flags(m, *r);
    for (Flag f : {Flag::SF, Flag::ZF, Flag::PF})
      m.flag(f) = z3::ite(nonzero, m.flag(f), before.flag(f));
  }
  // A count of 0 still writes the register (so a 32-bit one is zero-extended).
  write_reg(m, dst, *r);
  return Control{};
}

Result<Control> shift_bmi2(Machine& m, const Instruction& insn) {
  const Operand& dst = insn.operands[0];
  const Operand& src = insn.operands[1];
  const Operand& count = insn.operands[2];
  if (!is_reg(src) || !is_reg(count)) return unsupported(insn, "memory source not modelled");
  const unsigned n = dst.bits;
  const z3::expr a = read_reg(m, src);
  const z3::expr k = read_reg(m, count) & m.ctx().bv_val(n == 64 ? 63 : 31, n);
  const z3::expr r = insn.mnemonic == ZYDIS_MNEMONIC_SHLX   ? z3::shl(a, k)
                     : insn.mnemonic == ZYDIS_MNEMONIC_SHRX ? z3::lshr(a, k)
                                                            : z3::ashr(a, k);
  write_reg(m, dst, r);  // no flags
  return Control{};
}

}  // namespace bpfdiff::oracle::smt::x86::detail
