#include "fuzz/program_builder.hpp"

#include <cstdlib>
#include <limits>

namespace bpfdiff::fuzz {

ProgramBuilder::Label ProgramBuilder::new_label() {
  positions_.push_back(kUnplaced);
  return static_cast<Label>(positions_.size() - 1);
}

void ProgramBuilder::place(Label label) {
  positions_[label] = slots_.size();
}

void ProgramBuilder::emit_jump(isa::Form form, uint8_t dst, uint8_t src, int32_t imm, Label label) {
  const isa::Semantics& s = isa::info(form).sem;
  const bool long_jump = s.cond == isa::JmpCond::Always && s.width == isa::Width::W32;
  fixups_.push_back({slots_.size(), label, long_jump ? Field::Imm : Field::Off});
  slots_.push_back(isa::encode(form, dst, src, 0, long_jump ? 0 : imm));
}

void ProgramBuilder::emit_call(Label label) {
  fixups_.push_back({slots_.size(), label, Field::Imm});
  slots_.push_back(isa::encode(isa::Form::call_local));
}

void ProgramBuilder::emit_code_address(uint8_t dst, Label label) {
  fixups_.push_back({slots_.size(), label, Field::Imm});
  emit(isa::encode_lddw(isa::Form::lddw_code, dst, 0, 0));
}

std::vector<isa::RawInsn> ProgramBuilder::finish() && {
  for (const Fixup& f : fixups_) {
    const std::size_t target = positions_[f.label];
    // A generator bug, never an input problem: fail loudly rather than emit
    // a program whose targets are wrong.
    if (target == kUnplaced) std::abort();
    const int64_t delta = static_cast<int64_t>(target) - static_cast<int64_t>(f.slot) - 1;
    if (f.field == Field::Off) {
      if (delta < std::numeric_limits<int16_t>::min() || delta > std::numeric_limits<int16_t>::max()) {
        std::abort();
      }
      slots_[f.slot].off = static_cast<int16_t>(delta);
    } else {
      slots_[f.slot].imm = static_cast<int32_t>(delta);
    }
  }
  return std::move(slots_);
}

}  // namespace bpfdiff::fuzz
