// mul, div and idiv: the rdx:rax forms (SDM "MUL", "DIV", "IDIV").
#include "oracle/smt/x86/semantics_impl.hpp"

namespace bpfdiff::oracle::smt::x86::detail {
namespace {

bool same_term(const z3::expr& a, const z3::expr& b) {
  return z3::eq(a.simplify(), b.simplify());
}

void undefine_all_flags(Machine& m) {
  for (unsigned f = 0; f < kFlagCount; ++f)
    m.flags[f] = m.undefined_bool();
}

}  // namespace

Result<Control> multiply(Machine& m, const Instruction& insn) {
  const Operand& src = insn.operands[0];
  const unsigned n = src.bits;
  if (n != 32 && n != 64) return unsupported(insn, "only 32- and 64-bit mul is modelled");
  const z3::expr wide = z3::zext(m.gpr[kRax].extract(n - 1, 0), n) * z3::zext(read_reg(m, src), n);
  const z3::expr high = wide.extract(2 * n - 1, n);
  undefine_all_flags(m);
  m.flag(Flag::CF) = high != m.ctx().bv_val(0, n);
  m.flag(Flag::OF) = m.flag(Flag::CF);
  write_full(m, kRax, n, wide.extract(n - 1, 0));
  write_full(m, kRdx, n, high);
  return Control{};
}

// The dividend is rdx:rax (edx:eax). When the code has just zeroed rdx (div)
// or sign-extended rax into it (idiv, after cqo/cdq), the 2n-bit division
// is exactly the n-bit one, and saying so keeps the proofs to n-bit
// dividers; otherwise the full 2n-bit division with its overflow check.
Result<Control> divide(Machine& m, const Instruction& insn) {
  const Operand& src = insn.operands[0];
  const unsigned n = src.bits;
  if (n != 32 && n != 64) return unsupported(insn, "only 32- and 64-bit div/idiv is modelled");
  z3::context& c = m.ctx();
  const bool is_signed = insn.mnemonic == ZYDIS_MNEMONIC_IDIV;
  const z3::expr lo = m.gpr[kRax].extract(n - 1, 0);
  const z3::expr hi = m.gpr[kRdx].extract(n - 1, 0);
  const z3::expr d = read_reg(m, src);
  const z3::expr zero = c.bv_val(0, n);
  std::optional<z3::expr> q, r, fault;
  if (!is_signed && same_term(hi, zero)) {
    q = z3::udiv(lo, d);
    r = z3::urem(lo, d);
    fault = d == zero;
  } else if (is_signed && same_term(hi, z3::ashr(lo, static_cast<int>(n - 1)))) {
    q = lo / d;  // bvsdiv: truncates toward zero, like idiv
    r = z3::srem(lo, d);
    const z3::expr int_min = c.bv_val(uint64_t{1} << (n - 1), n);
    fault = d == zero || (lo == int_min && d == c.bv_val(~uint64_t{0}, n));
  } else {
    const z3::expr dividend = z3::concat(hi, lo);
    const z3::expr wide_d = is_signed ? z3::sext(d, n) : z3::zext(d, n);
    const z3::expr wq = is_signed ? dividend / wide_d : z3::udiv(dividend, wide_d);
    const z3::expr wr = is_signed ? z3::srem(dividend, wide_d) : z3::urem(dividend, wide_d);
    q = wq.extract(n - 1, 0);
    r = wr.extract(n - 1, 0);
    // #DE: division by zero or a quotient that does not fit n bits.
    const z3::expr fits = is_signed ? z3::sext(*q, n) == wq : z3::zext(*q, n) == wq;
    fault = d == zero || !fits;
  }
  m.divide_error = m.divide_error || *fault;
  undefine_all_flags(m);
  write_full(m, kRax, n, *q);
  write_full(m, kRdx, n, *r);
  return Control{};
}

}  // namespace bpfdiff::oracle::smt::x86::detail
