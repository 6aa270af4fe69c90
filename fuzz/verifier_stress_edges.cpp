// The edge-branch pattern: a branch on a computed value against a threshold
// at the edge of what the value can be, both paths valid.
//
// Guards (verifier_stress_guards.cpp) ask whether the verifier's bounds are
// wide enough: a bound too narrow shows only when an access it admits goes
// out of bounds. Many verifier slips instead make a bound too narrow in a way
// no access notices: a 32-bit move of a negative immediate tracked as the
// sign-extended constant, a 64-bit logical shift that keeps signed bounds, a
// 32-bit arithmetic shift whose known bits ignore the sign. The verifier then
// judges a branch one-way and (for privileged programs) hard-wires it, so the
// program takes a path the CPU would not. To see that, a pattern needs a branch
// the verifier can almost decide, whose two paths both verify and leave
// different state. The threshold is drawn from what the value's computation
// gives at the edges of its source (0, 1, the signed and unsigned extremes of
// the loaded width, or the constant), computed both faithfully and "twisted"
// the ways verifiers have gone wrong (the other width, the other shift, the
// other extension of an immediate), plus or minus one: exactly where a
// correct and a wrong range part.
#include <vector>

#include "fuzz/verifier_stress_generator.hpp"
#include "vm/runtime/semantics_impl.hpp"

namespace bpfdiff::fuzz::verifier_stress {
namespace {

using isa::AluOp;
using isa::Width;
namespace sem = vm::sem;

// How a step is computed: faithfully, or with one of the slips above.
enum class Twist : uint8_t { None, OtherWidth, OtherShift, Count };

template <AluOp Op>
uint64_t alu_at(Width w, uint64_t dst, uint64_t src) {
  return w == Width::W64 ? sem::alu64<Op>(dst, src) : sem::alu32<Op>(dst, src);
}

uint64_t alu(AluOp op, Width w, uint64_t dst, uint64_t src) {
  switch (op) {
    case AluOp::Add:
      return alu_at<AluOp::Add>(w, dst, src);
    case AluOp::Sub:
      return alu_at<AluOp::Sub>(w, dst, src);
    case AluOp::Mul:
      return alu_at<AluOp::Mul>(w, dst, src);
    case AluOp::Div:
      return alu_at<AluOp::Div>(w, dst, src);
    case AluOp::Sdiv:
      return alu_at<AluOp::Sdiv>(w, dst, src);
    case AluOp::Or:
      return alu_at<AluOp::Or>(w, dst, src);
    case AluOp::And:
      return alu_at<AluOp::And>(w, dst, src);
    case AluOp::Lsh:
      return alu_at<AluOp::Lsh>(w, dst, src);
    case AluOp::Rsh:
      return alu_at<AluOp::Rsh>(w, dst, src);
    case AluOp::Neg:
      return alu_at<AluOp::Neg>(w, dst, src);
    case AluOp::Mod:
      return alu_at<AluOp::Mod>(w, dst, src);
    case AluOp::Smod:
      return alu_at<AluOp::Smod>(w, dst, src);
    case AluOp::Xor:
      return alu_at<AluOp::Xor>(w, dst, src);
    case AluOp::Mov:
      return alu_at<AluOp::Mov>(w, dst, src);
    case AluOp::Movsx8:
      return alu_at<AluOp::Movsx8>(w, dst, src);
    case AluOp::Movsx16:
      return alu_at<AluOp::Movsx16>(w, dst, src);
    case AluOp::Movsx32:
      return alu_at<AluOp::Movsx32>(w, dst, src);
    case AluOp::Arsh:
      return alu_at<AluOp::Arsh>(w, dst, src);
  }
  return 0;
}

uint64_t endian(isa::EndianOp op, unsigned bits, uint64_t v) {
  using E = isa::EndianOp;
  if (op == E::ToLe) return bits == 16 ? v & 0xffff : bits == 32 ? v & 0xffffffff : v;
  if (bits == 16) return sem::bswap16(static_cast<uint16_t>(v));
  if (bits == 32) return sem::bswap32(static_cast<uint32_t>(v));
  return sem::bswap64(v);
}

// One operation of the computation: a form and, for an ALU form with an
// immediate, its operand (a register operand is the value itself).
struct Step {
  isa::Form form;
  int32_t imm;
};

uint64_t apply(const Step& s, uint64_t v, Twist twist) {
  const isa::Semantics& m = isa::info(s.form).sem;
  if (m.family == isa::Family::Endian) return endian(m.endian, m.endian_bits, v);
  AluOp op = m.alu;
  Width w = m.width;
  if (twist == Twist::OtherWidth && op != AluOp::Movsx32) w = w == Width::W64 ? Width::W32 : Width::W64;
  if (twist == Twist::OtherShift && op == AluOp::Rsh) op = AluOp::Arsh;
  if (twist == Twist::OtherShift && op == AluOp::Arsh && m.alu == AluOp::Arsh) op = AluOp::Rsh;
  const uint64_t operand = m.source == isa::Source::Reg ? v : sem::sext_imm(s.imm);
  return alu(op, w, v, operand);
}

// The edges of a value loaded `bits` wide (sign-extended or not).
std::vector<uint64_t> load_edges(const Unknown& u) {
  const uint64_t top = u.bits == 64 ? ~uint64_t{0} : (uint64_t{1} << u.bits) - 1;
  const uint64_t half = uint64_t{1} << (u.bits - 1);
  std::vector<uint64_t> edges = {0, 1, half - 1, half, top, top - 1};
  if (u.sign_extended && u.bits < 64) {
    for (uint64_t& e : edges)
      if ((e & half) != 0) e |= ~top;
  }
  return edges;
}

}  // namespace

void StressGenerator::edge_branch() {
  mark(StressPattern::EdgeBranch);
  const auto [v, w] = regs<2>();
  std::vector<uint64_t> edges;
  if (src_.chance(0.6)) {
    edges = load_edges(load_unknown(v));
  } else {
    // A constant the verifier knows exactly; a negative immediate of a 32-bit
    // move is zero-extended, of a 64-bit move sign-extended: the edges hold
    // the other extension too.
    const int32_t imm = src_.chance(0.5) ? -static_cast<int32_t>(1 + src_.below(0x100)) : draw_imm(src_);
    const bool narrow = src_.chance(0.5);
    emit(narrow ? Form::mov32_imm : Form::mov_imm, v, 0, 0, imm);
    if (narrow) mark(StressPattern::Subreg32);
    const uint64_t sext = sem::sext_imm(imm);
    edges = {narrow ? sext & 0xffffffff : sext, narrow ? sext : sext & 0xffffffff};
  }

  // Up to two operations, each as likely to be 32-bit as 64-bit.
  static constexpr std::array<Form, 22> kOps = {
      Form::rsh_imm,  Form::arsh_imm,  Form::lsh_imm,   Form::rsh32_imm, Form::arsh32_imm, Form::lsh32_imm,
      Form::and_imm,  Form::or_imm,    Form::xor_imm,   Form::add_imm,   Form::sub_imm,    Form::and32_imm,
      Form::or32_imm, Form::xor32_imm, Form::add32_imm, Form::sub32_imm, Form::mul_imm,    Form::mul32_imm,
      Form::neg,      Form::neg32,     Form::mov32_reg, Form::be32};
  static constexpr std::array<Form, 8> kV4Ops = {Form::movsx8,   Form::movsx16,   Form::movsx32,
                                                 Form::movsx832, Form::movsx1632, Form::bswap16,
                                                 Form::bswap32,  Form::bswap64};
  std::vector<Step> steps;
  const uint32_t count = src_.below(3);
  for (uint32_t i = 0; i < count; ++i) {
    const Form f = v4_ && src_.chance(0.2) ? src_.pick(std::span<const Form>(kV4Ops))
                                           : src_.pick(std::span<const Form>(kOps));
    const isa::Semantics& m = isa::info(f).sem;
    int32_t imm = 0;
    if (m.family == isa::Family::Alu && m.source == isa::Source::Imm && m.alu != AluOp::Neg) {
      const bool shift = m.alu == AluOp::Lsh || m.alu == AluOp::Rsh || m.alu == AluOp::Arsh;
      const uint32_t width = m.width == Width::W64 ? 64 : 32;
      imm = shift ? static_cast<int32_t>(src_.chance(0.5) ? width - 1 : 1 + src_.below(width - 1))
                  : draw_imm(src_);
    }
    if (m.family == isa::Family::Alu && m.width == Width::W32) mark(StressPattern::Subreg32);
    if (m.family == isa::Family::Endian || m.alu == AluOp::Movsx8 || m.alu == AluOp::Movsx16 ||
        m.alu == AluOp::Movsx32 || m.alu == AluOp::Neg)
      mark(StressPattern::NegBswapMovsx);
    else if (m.alu == AluOp::Lsh || m.alu == AluOp::Rsh || m.alu == AluOp::Arsh)
      mark(StressPattern::ShiftBounds);
    else
      mark(StressPattern::AluBounds);
    // A register-source form (mov32, movsx) operates on the value itself.
    emit(f, v, m.source == isa::Source::Reg && m.family == isa::Family::Alu ? v : 0, 0, imm);
    steps.push_back({f, imm});
  }

  // The threshold: the computation at an edge, faithful or twisted, +-1.
  const uint64_t edge = edges[src_.below(static_cast<uint32_t>(edges.size()))];
  const auto twist = static_cast<Twist>(src_.below(static_cast<uint32_t>(Twist::Count)));
  uint64_t threshold = edge;
  for (std::size_t i = 0; i < steps.size(); ++i)
    threshold = apply(steps[i], threshold, i + 1 == steps.size() || src_.chance(0.5) ? twist : Twist::None);
  threshold += static_cast<uint64_t>(static_cast<int64_t>(src_.below(3)) - 1);

  // The branch: either width, any condition; an immediate when the threshold
  // is one (a 32-bit jump compares the low halves), else a register.
  static constexpr std::array<isa::JmpCond, 11> kConds = {
      isa::JmpCond::Eq,  isa::JmpCond::Ne,  isa::JmpCond::Gt,  isa::JmpCond::Ge,
      isa::JmpCond::Lt,  isa::JmpCond::Le,  isa::JmpCond::Sgt, isa::JmpCond::Sge,
      isa::JmpCond::Slt, isa::JmpCond::Sle, isa::JmpCond::Set};
  const isa::JmpCond cond = src_.pick(std::span<const isa::JmpCond>(kConds));
  const Width width = src_.chance(0.35) ? Width::W32 : Width::W64;
  if (width == Width::W32) mark(StressPattern::Jmp32Guard);
  const bool fits = width == Width::W32 || sem::sext_imm(static_cast<int32_t>(threshold)) == threshold;
  const isa::Source source = fits && src_.chance(0.7) ? isa::Source::Imm : isa::Source::Reg;
  if (source == isa::Source::Reg) b_.emit_lddw(w, threshold);
  Form jump = Form::ja;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    if (fi.sem == isa::jump(cond, width, source)) jump = fi.form;
  }

  // Both paths write a different word into the memory, which is compared
  // after the run: a hard-wired branch shows there.
  const Label taken = b_.new_label();
  const Label end = b_.new_label();
  const int16_t off = memory_offset(4);
  const int32_t mark_value = static_cast<int32_t>(src_.below(0x10000));
  if (source == isa::Source::Reg) {
    b_.emit_jump(jump, v, w, 0, taken);
  } else {
    b_.emit_jump(jump, v, 0, static_cast<int32_t>(threshold), taken);
  }
  emit(Form::stw, kMem, 0, off, mark_value);
  b_.emit_jump(Form::ja, 0, 0, 0, end);
  b_.place(taken);
  emit(Form::stw, kMem, 0, off, mark_value ^ 0x5a5a);
  b_.place(end);
}

}  // namespace bpfdiff::fuzz::verifier_stress
