#include "fuzz/form_choice.hpp"

#include <array>

#include "vm/isa/encode.hpp"

namespace bpfdiff::fuzz {

bool form_in_version(isa::Form form, isa::IsaVersion version) {
  return static_cast<uint8_t>(isa::info(form).version) <= static_cast<uint8_t>(version);
}

std::vector<isa::Form> forms_of_version(isa::IsaVersion version, bool (*emits)(isa::Form)) {
  std::vector<isa::Form> out;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    if (emits(fi.form) && form_in_version(fi.form, version)) out.push_back(fi.form);
  }
  return out;
}

BranchForms branch_forms(std::span<const isa::Form> forms) {
  BranchForms out;
  for (isa::Form f : forms) {
    const isa::Semantics& s = isa::info(f).sem;
    if (s.family != isa::Family::Jump || s.cond == isa::JmpCond::Always) continue;
    out.cond_jumps.push_back(f);
    if (s.source == isa::Source::Imm &&
        (s.cond == isa::JmpCond::Ne || s.cond == isa::JmpCond::Gt || s.cond == isa::JmpCond::Sgt ||
         s.cond == isa::JmpCond::Ge || s.cond == isa::JmpCond::Sge)) {
      out.loop_closers.push_back(f);
    }
  }
  return out;
}

isa::Form loop_counter_init(ByteSource& src, isa::IsaVersion version) {
  return form_in_version(isa::Form::mov32_imm, version) && src.chance(0.3) ? isa::Form::mov32_imm
                                                                           : isa::Form::mov_imm;
}

void emit_loop_back_edge(ProgramBuilder& b, ByteSource& src, std::span<const isa::Form> loop_closers,
                         uint8_t counter, ProgramBuilder::Label head) {
  static constexpr std::array<isa::Form, 4> kDecrements = {isa::Form::sub_imm, isa::Form::add_imm,
                                                           isa::Form::sub32_imm, isa::Form::add32_imm};
  const isa::Form dec = src.pick(std::span<const isa::Form>(kDecrements));
  b.emit(isa::encode(dec, counter, 0, 0, isa::info(dec).sem.alu == isa::AluOp::Sub ? 1 : -1));
  const isa::Form closer = src.pick(loop_closers);
  const isa::JmpCond c = isa::info(closer).sem.cond;
  // ge/sge compare with 1, the others with 0: all are taken while counter > 0.
  b.emit_jump(closer, counter, 0, c == isa::JmpCond::Ge || c == isa::JmpCond::Sge ? 1 : 0, head);
}

int64_t draw_offset(ByteSource& src, int64_t lo, int64_t hi, unsigned n, bool aligned) {
  if (hi < lo) return lo;
  if (aligned) return lo + n * src.below(static_cast<uint32_t>((hi - lo) / n + 1));
  return src.range(lo, hi);
}

}  // namespace bpfdiff::fuzz
