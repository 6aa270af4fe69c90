#include "oracle/smt/bpf_model.hpp"

#include <string>

namespace bpfdiff::oracle::smt {
namespace {

using isa::AluOp;
using isa::EndianOp;
using isa::Family;
using isa::JmpCond;
using isa::Width;

unsigned bits_of(Width width) {
  return width == Width::W64 ? 64 : 32;
}

// The low `w` bits of a 64-bit value (the value itself when w is 64).
z3::expr low(const z3::expr& v, unsigned w) {
  return w == 64 ? v : v.extract(w - 1, 0);
}

// `dst op src` on operands of `w` bits. Each case is RFC 9669's table of
// arithmetic instructions, with Z3's own conventions neutralised where they
// differ from BPF's: Z3 defines bvudiv by zero as all ones and bvurem/bvsrem
// by zero as the dividend, BPF gives 0 and the dividend, so division by zero
// is spelled out rather than left to Z3; Z3 shifts by the width or more give 0,
// BPF masks the count to the width, so the count is masked first.
z3::expr alu_at_width(z3::context& ctx, AluOp op, unsigned w, const z3::expr& d, const z3::expr& s) {
  const z3::expr zero = ctx.bv_val(0, w);
  const z3::expr count = s & ctx.bv_val(w - 1, w);
  switch (op) {
    case AluOp::Add:
      return d + s;
    case AluOp::Sub:
      return d - s;
    case AluOp::Mul:
      return d * s;
    case AluOp::Div:
      return z3::ite(s == zero, zero, z3::udiv(d, s));
    case AluOp::Sdiv:
      // bvsdiv truncates toward zero, and INT_MIN / -1 wraps to INT_MIN, which
      // is the result RFC 9669 asks for on signed overflow.
      return z3::ite(s == zero, zero, d / s);
    case AluOp::Or:
      return d | s;
    case AluOp::And:
      return d & s;
    case AluOp::Lsh:
      return z3::shl(d, count);
    case AluOp::Rsh:
      return z3::lshr(d, count);
    case AluOp::Neg:
      return -d;
    case AluOp::Mod:
      return z3::ite(s == zero, d, z3::urem(d, s));
    case AluOp::Smod:
      // BPF's signed modulo takes the sign of the dividend (truncated
      // division): that is bvsrem, not bvsmod (which follows the divisor).
      // INT_MIN % -1 is 0 under bvsrem, as RFC 9669 asks.
      return z3::ite(s == zero, d, z3::srem(d, s));
    case AluOp::Xor:
      return d ^ s;
    case AluOp::Mov:
      return s;
    case AluOp::Movsx8:
      return z3::sext(s.extract(7, 0), w - 8);
    case AluOp::Movsx16:
      return z3::sext(s.extract(15, 0), w - 16);
    case AluOp::Movsx32:
      // Sign-extending 32 bits to 32 bits is the identity; no ALU32 movsx32
      // form exists, the case keeps the function total.
      return w == 32 ? s : z3::sext(s.extract(31, 0), w - 32);
    case AluOp::Arsh:
      return z3::ashr(d, count);
  }
  return d;  // unreachable: every enumerator is handled above
}

// The low `bits` bits of v with their bytes in reverse order.
z3::expr byte_swap(const z3::expr& v, unsigned bits) {
  // concat puts its first operand in the high bits, so the lowest byte of v
  // comes first.
  z3::expr out = v.extract(7, 0);
  for (unsigned byte = 1; byte < bits / 8; ++byte)
    out = z3::concat(out, v.extract(byte * 8 + 7, byte * 8));
  return out;
}

z3::expr widen(const z3::expr& v) {
  const unsigned w = v.get_sort().bv_size();
  return w == 64 ? v : z3::zext(v, 64 - w);
}

bool is_bv64(const z3::expr& e) {
  return e.is_bv() && e.get_sort().bv_size() == 64;
}

Result<void> check_operands(isa::Form form, const z3::expr& dst, const z3::expr& src) {
  if (!is_bv64(dst) || !is_bv64(src)) {
    return make_error("smt model: operands of " + std::string(isa::info(form).name) +
                      " must be 64-bit bit-vectors");
  }
  return {};
}

Error wrong_family(isa::Form form, const char* wanted) {
  const isa::FormInfo& fi = isa::info(form);
  return make_error("smt model: " + std::string(fi.name) + " (family " + isa::to_string(fi.sem.family) +
                    ") is not " + wanted);
}

}  // namespace

bool covers(isa::Family family) {
  switch (family) {
    case Family::Alu:
    case Family::Endian:
    case Family::Jump:
      return true;
    case Family::Call:
    case Family::Exit:
    case Family::Lddw:
    case Family::Load:
    case Family::LoadSigned:
    case Family::StoreImm:
    case Family::StoreReg:
    case Family::Atomic:
    case Family::PacketLoad:
      return false;
  }
  return false;
}

bool covers(isa::Form form) {
  return covers(isa::info(form).sem.family);
}

std::vector<isa::Form> covered_forms() {
  std::vector<isa::Form> forms;
  for (const isa::FormInfo& fi : isa::all_forms())
    if (covers(fi.sem.family)) forms.push_back(fi.form);
  return forms;
}

z3::expr bv64(z3::context& ctx, uint64_t value) {
  return ctx.bv_val(value, 64);
}

z3::expr imm_operand(z3::context& ctx, int32_t imm) {
  return z3::sext(ctx.bv_val(static_cast<uint64_t>(static_cast<uint32_t>(imm)), 32), 32);
}

z3::expr alu_result(z3::context& ctx, AluOp op, Width width, const z3::expr& dst, const z3::expr& src) {
  const unsigned w = bits_of(width);
  // The 32-bit forms see only the low halves and zero-extend their result,
  // including the dividend that modulo by zero leaves in place.
  return widen(alu_at_width(ctx, op, w, low(dst, w), low(src, w)));
}

z3::expr endian_result(z3::context&, EndianOp op, unsigned bits, const z3::expr& dst) {
  if (bits != 16 && bits != 32) bits = 64;
  switch (op) {
    case EndianOp::ToLe:
      // Our hosts are little-endian: converting to little-endian keeps the
      // low `bits` bits as they are and clears the rest.
      return widen(low(dst, bits));
    case EndianOp::ToBe:
    case EndianOp::Bswap:
      return widen(byte_swap(dst, bits));
  }
  return dst;  // unreachable
}

z3::expr condition(z3::context& ctx, JmpCond cond, Width width, const z3::expr& dst, const z3::expr& src) {
  const unsigned w = bits_of(width);
  const z3::expr a = low(dst, w);
  const z3::expr b = low(src, w);
  // z3++'s <, <=, >, >= on bit-vectors are the signed comparisons.
  switch (cond) {
    case JmpCond::Always:
      return ctx.bool_val(true);
    case JmpCond::Eq:
      return a == b;
    case JmpCond::Gt:
      return z3::ugt(a, b);
    case JmpCond::Ge:
      return z3::uge(a, b);
    case JmpCond::Set:
      return (a & b) != ctx.bv_val(0, w);
    case JmpCond::Ne:
      return a != b;
    case JmpCond::Sgt:
      return a > b;
    case JmpCond::Sge:
      return a >= b;
    case JmpCond::Lt:
      return z3::ult(a, b);
    case JmpCond::Le:
      return z3::ule(a, b);
    case JmpCond::Slt:
      return a < b;
    case JmpCond::Sle:
      return a <= b;
  }
  return ctx.bool_val(false);  // unreachable
}

Result<z3::expr> alu_result(z3::context& ctx, isa::Form form, const z3::expr& dst, const z3::expr& src) {
  const isa::Semantics& s = isa::info(form).sem;
  if (s.family != Family::Alu) return wrong_family(form, "an alu form");
  if (auto ok = check_operands(form, dst, src); !ok) return ok.error();
  return alu_result(ctx, s.alu, s.width, dst, src);
}

Result<z3::expr> dst_result(z3::context& ctx, isa::Form form, const z3::expr& dst, const z3::expr& src) {
  const isa::Semantics& s = isa::info(form).sem;
  if (s.family == Family::Alu) return alu_result(ctx, form, dst, src);
  if (s.family != Family::Endian) return wrong_family(form, "an alu or endian form");
  if (auto ok = check_operands(form, dst, src); !ok) return ok.error();
  return endian_result(ctx, s.endian, s.endian_bits, dst);
}

Result<z3::expr> branch_taken(z3::context& ctx, isa::Form form, const z3::expr& dst, const z3::expr& src) {
  const isa::Semantics& s = isa::info(form).sem;
  if (s.family != Family::Jump) return wrong_family(form, "a jump form");
  if (auto ok = check_operands(form, dst, src); !ok) return ok.error();
  return condition(ctx, s.cond, s.width, dst, src);
}

}  // namespace bpfdiff::oracle::smt
