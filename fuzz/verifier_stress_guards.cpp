#include "fuzz/verifier_stress_generator.hpp"

namespace bpfdiff::fuzz::verifier_stress {

Unknown StressGenerator::load_unknown(uint8_t reg) {
  static constexpr std::array<Form, 4> kLoads = {Form::ldxb, Form::ldxh, Form::ldxw, Form::ldxdw};
  static constexpr std::array<Form, 3> kSigned = {Form::ldxsb, Form::ldxsh, Form::ldxsw};
  const bool sign = v4_ && src_.chance(0.15);
  const Form f = sign ? src_.pick(std::span<const Form>(kSigned)) : src_.pick(std::span<const Form>(kLoads));
  const unsigned n = isa::bytes_of(isa::info(f).sem.size);
  if (sign) mark(StressPattern::SignExtLoad);
  emit(f, reg, kMem, memory_offset(n));
  return {reg, 8 * n, sign};
}

int16_t StressGenerator::memory_offset(unsigned n) {
  const uint32_t slots = (mem_size_ - n) / n + 1;
  if (src_.chance(0.85)) return static_cast<int16_t>(n * src_.below(slots));
  return static_cast<int16_t>(src_.below(mem_size_ - n + 1));
}

void StressGenerator::transform(uint8_t v) {
  const uint32_t ops = src_.below(4);
  for (uint32_t i = 0; i < ops; ++i)
    one_op(v);
}

void StressGenerator::one_op(uint8_t v) {
  switch (src_.below(8)) {
    case 0: {
      mark(StressPattern::AluBounds);
      static constexpr std::array<Form, 10> kForms = {
          Form::and_imm,   Form::or_imm,   Form::xor_imm,   Form::add_imm,   Form::sub_imm,
          Form::and32_imm, Form::or32_imm, Form::xor32_imm, Form::add32_imm, Form::sub32_imm};
      const Form f = src_.pick(std::span<const Form>(kForms));
      if (isa::info(f).sem.width == isa::Width::W32) mark(StressPattern::Subreg32);
      const int32_t imm = src_.chance(0.6) ? static_cast<int32_t>(src_.below(2 * mem_size_)) : draw_imm(src_);
      emit(f, v, 0, 0, imm);
      break;
    }
    case 1: {
      mark(StressPattern::ShiftBounds);
      static constexpr std::array<Form, 6> kForms = {Form::rsh_imm,   Form::lsh_imm,   Form::arsh_imm,
                                                     Form::rsh32_imm, Form::lsh32_imm, Form::arsh32_imm};
      const Form f = src_.pick(std::span<const Form>(kForms));
      const bool wide = isa::info(f).sem.width == isa::Width::W64;
      if (!wide) mark(StressPattern::Subreg32);
      emit(f, v, 0, 0, static_cast<int32_t>(src_.below(wide ? 64 : 32)));
      break;
    }
    case 2: {
      mark(StressPattern::MulDivMod);
      std::vector<Form> forms = {Form::mul_imm,   Form::div_imm,   Form::mod_imm,
                                 Form::mul32_imm, Form::div32_imm, Form::mod32_imm};
      if (v4_)
        forms.insert(forms.end(), {Form::sdiv_imm, Form::smod_imm, Form::sdiv32_imm, Form::smod32_imm});
      const Form f = src_.pick(std::span<const Form>(forms));
      int32_t imm = static_cast<int32_t>(1 + src_.below(16));
      if (src_.chance(0.2)) imm = -imm;
      if (isa::info(f).sem.width == isa::Width::W32) mark(StressPattern::Subreg32);
      emit(f, v, 0, 0, imm);
      break;
    }
    case 3: {
      mark(StressPattern::NegBswapMovsx);
      std::vector<Form> forms = {Form::neg, Form::neg32, Form::be16, Form::be32, Form::le16, Form::le32};
      if (v4_) {
        forms.insert(forms.end(), {Form::bswap16, Form::bswap32, Form::bswap64, Form::movsx8, Form::movsx16,
                                   Form::movsx32, Form::movsx832, Form::movsx1632});
      }
      const Form f = src_.pick(std::span<const Form>(forms));
      const isa::Semantics& s = isa::info(f).sem;
      if (s.family == isa::Family::Alu && s.alu == isa::AluOp::Mov) {
        emit(f, v, v);
      } else {
        emit(f, v);
      }
      break;
    }
    case 4: {
      mark(StressPattern::Subreg32);
      emit(Form::mov32_reg, v, v);  // zero-extension of the low half
      break;
    }
    case 5: {
      // A second unknown combined by register.
      mark(StressPattern::AluBounds);
      const uint8_t w = other_than(v);
      load_unknown(w);
      static constexpr std::array<Form, 8> kForms = {Form::and_reg,   Form::or_reg,  Form::xor_reg,
                                                     Form::add_reg,   Form::sub_reg, Form::and32_reg,
                                                     Form::mul32_reg, Form::rsh_reg};
      const Form f = src_.pick(std::span<const Form>(kForms));
      if (isa::info(f).sem.alu == isa::AluOp::Rsh) emit(Form::and_imm, w, 0, 0, 63);
      emit(f, v, w);
      break;
    }
    case 6:
      div_by_unknown(v);
      break;
    default:
      emit(Form::and_imm, v, 0, 0, static_cast<int32_t>(src_.below(2 * mem_size_)));
      mark(StressPattern::AluBounds);
      break;
  }
}

uint8_t StressGenerator::other_than(uint8_t v) {
  const auto r = regs<3>();
  for (uint8_t c : r)
    if (c != v && c != reserved_) return c;
  return r[2];  // unreachable: three distinct registers, two excluded
}

void StressGenerator::div_by_unknown(uint8_t v) {
  mark(StressPattern::DivByZero);
  const uint8_t d = other_than(v);
  emit(Form::ldxb, d, kMem, memory_offset(1));
  emit(Form::and_imm, d, 0, 0, static_cast<int32_t>(src_.below(4)));
  std::vector<Form> forms = {Form::div_reg, Form::mod_reg, Form::div32_reg, Form::mod32_reg};
  if (v4_) forms.insert(forms.end(), {Form::sdiv_reg, Form::smod_reg, Form::sdiv32_reg, Form::smod32_reg});
  const Form f = src_.pick(std::span<const Form>(forms));
  if (isa::info(f).sem.width == isa::Width::W32) mark(StressPattern::Subreg32);
  emit(f, v, d);
}

void StressGenerator::guard_and_access(uint8_t v, int64_t known_max) {
  static constexpr std::array<unsigned, 4> kSizes = {1, 2, 4, 8};
  unsigned n = src_.pick(std::span<const unsigned>(kSizes));
  if (known_max >= 0 && src_.chance(0.5)) {
    const bool stack = known_max + 1 <= kArena && src_.chance(0.3);
    const int64_t area = stack ? kArena : mem_size_;
    while (n > 1 && area - n < known_max)
      n /= 2;
    if (area - static_cast<int64_t>(n) >= known_max) {
      const auto off = static_cast<int16_t>(src_.below(static_cast<uint32_t>(area - n - known_max + 1)));
      access(v, stack, n, off);
      return;
    }
  }
  const bool stack = src_.chance(0.3);
  const int32_t area = stack ? kArena : static_cast<int32_t>(mem_size_);
  const auto off = static_cast<int16_t>(src_.below(static_cast<uint32_t>(area - n) / 2 + 1));
  const int32_t bound = area - static_cast<int32_t>(n) - off;
  const Label skip = b_.new_label();
  guard(v, bound, skip);
  access(v, stack, n, off);
  b_.place(skip);
}

void StressGenerator::guard(uint8_t v, int32_t bound, Label skip) {
  mark(StressPattern::BranchGuard);
  if (doubt()) {
    switch (src_.below(5)) {
      case 0:  // 32-bit check of a value whose upper half may be set
        mark(StressPattern::Jmp32Guard);
        b_.emit_jump(Form::jgt32_imm, v, 0, bound, skip);
        return;
      case 1:  // off by a little
        b_.emit_jump(Form::jgt_imm, v, 0, bound + 1 + static_cast<int32_t>(src_.below(4)), skip);
        return;
      case 2:  // signed upper bound alone
        b_.emit_jump(Form::jsgt_imm, v, 0, bound, skip);
        return;
      case 3:  // signed 32-bit pair
        mark(StressPattern::Jmp32Guard);
        b_.emit_jump(Form::jsgt32_imm, v, 0, bound, skip);
        b_.emit_jump(Form::jslt32_imm, v, 0, 0, skip);
        return;
      default:  // none: whatever the operations left
        return;
    }
  }
  switch (src_.below(8)) {
    case 0:
      b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);
      return;
    case 1:
      b_.emit_jump(Form::jge_imm, v, 0, bound + 1, skip);
      return;
    case 2: {
      const uint8_t k = other_than(v);
      emit(Form::mov_imm, k, 0, 0, bound);
      b_.emit_jump(src_.chance(0.5) ? Form::jgt_reg : Form::jlt_reg, src_.chance(0.5) ? v : k,
                   src_.chance(0.5) ? k : v, 0, skip);
      // Whichever way round, a second unsigned check keeps it sufficient.
      b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);
      return;
    }
    case 3: {
      const Label ok = b_.new_label();
      b_.emit_jump(src_.chance(0.5) ? Form::jlt_imm : Form::jle_imm, v, 0, bound, ok);
      b_.emit_jump(src_.chance(0.8) ? Form::ja : (v4_ ? Form::gotol : Form::ja), 0, 0, 0, skip);
      b_.place(ok);
      b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);  // jlt bound admits bound itself only for jle
      return;
    }
    case 4:
      b_.emit_jump(Form::jsgt_imm, v, 0, bound, skip);
      b_.emit_jump(Form::jslt_imm, v, 0, 0, skip);
      return;
    case 5: {
      // A copy is checked; the verifier carries the bound over by register id.
      mark(StressPattern::LinkedGuard);
      const uint8_t c = other_than(v);
      emit(Form::mov_reg, c, v);
      b_.emit_jump(Form::jgt_imm, c, 0, bound, skip);
      return;
    }
    case 6:
      // Zero-extended first, so the 32-bit check bounds all 64 bits.
      mark(StressPattern::Jmp32Guard);
      mark(StressPattern::Subreg32);
      emit(Form::mov32_reg, v, v);
      b_.emit_jump(src_.chance(0.5) ? Form::jgt32_imm : Form::jge32_imm, v, 0,
                   src_.chance(0.5) ? bound : bound + 1, skip);
      b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);
      return;
    default:
      b_.emit_jump(src_.chance(0.5) ? Form::jsge_imm : Form::jsgt_imm, v, 0, bound + 1, skip);
      b_.emit_jump(src_.chance(0.5) ? Form::jslt_imm : Form::jslt32_imm, v, 0, 0, skip);
      b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);
      return;
  }
}

void StressGenerator::access(uint8_t v, bool stack, unsigned n, int16_t off) {
  const uint8_t p = other_than(v);
  if (stack) {
    mark(StressPattern::StackPtrArith);
    emit(Form::and_imm, v, 0, 0, -static_cast<int32_t>(n));
    off = static_cast<int16_t>(off - off % static_cast<int16_t>(n));
    emit(Form::mov_reg, p, kFp);
    emit(Form::add_imm, p, 0, 0, -kArena);
  } else {
    emit(Form::mov_reg, p, kMem);
  }
  emit(Form::add_reg, p, v);
  static constexpr std::array<Form, 4> kLoads = {Form::ldxb, Form::ldxh, Form::ldxw, Form::ldxdw};
  static constexpr std::array<Form, 4> kStores = {Form::stxb, Form::stxh, Form::stxw, Form::stxdw};
  static constexpr std::array<Form, 4> kStoreImms = {Form::stb, Form::sth, Form::stw, Form::stdw};
  const std::size_t w = n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : 3;
  switch (src_.below(3)) {
    case 0:
      emit(kLoads[w], v, p, off);  // the loaded value replaces v
      break;
    case 1:
      emit(kStores[w], p, v, off);
      break;
    default:
      emit(kStoreImms[w], p, 0, off, draw_imm(src_));
      break;
  }
}

}  // namespace bpfdiff::fuzz::verifier_stress
