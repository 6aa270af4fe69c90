#include "fuzz/program_edit.hpp"

#include <cstdint>
#include <limits>

#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {

TargetField target_field(const isa::RawInsn& insn) {
  const auto form = isa::find_form(insn);
  if (!form) return TargetField::None;
  const isa::Semantics& s = isa::info(*form).sem;
  switch (s.family) {
    case isa::Family::Jump:
      // gotol is the 32-bit-wide unconditional jump: its target is in imm.
      return s.cond == isa::JmpCond::Always && s.width == isa::Width::W32 ? TargetField::Imm
                                                                          : TargetField::Off;
    case isa::Family::Call:
      return s.call == isa::CallKind::Local ? TargetField::Imm : TargetField::None;
    case isa::Family::Lddw:
      return s.lddw == isa::LddwKind::CodeAddr ? TargetField::Imm : TargetField::None;
    case isa::Family::Alu:
    case isa::Family::Endian:
    case isa::Family::Exit:
    case isa::Family::Load:
    case isa::Family::LoadSigned:
    case isa::Family::StoreImm:
    case isa::Family::StoreReg:
    case isa::Family::Atomic:
    case isa::Family::PacketLoad:
      return TargetField::None;
  }
  return TargetField::None;
}

std::vector<std::size_t> instruction_starts(std::span<const isa::RawInsn> slots) {
  std::vector<std::size_t> starts;
  for (std::size_t pc = 0; pc < slots.size();) {
    starts.push_back(pc);
    const auto form = isa::find_form(slots[pc]);
    pc += form ? isa::info(*form).slots : 1;
  }
  return starts;
}

std::optional<std::vector<isa::RawInsn>> retarget(std::span<const isa::RawInsn> old_slots,
                                                  std::vector<isa::RawInsn> edited,
                                                  std::span<const std::size_t> origin) {
  const std::size_t old_n = old_slots.size();
  const std::size_t new_n = edited.size();
  // new_index[i]: where old slot i, or the first kept slot after it, now is;
  // new_index[old_n] is the end of the program.
  constexpr std::size_t kGone = ~std::size_t{0};
  std::vector<std::size_t> new_index(old_n + 1, kGone);
  for (std::size_t i = 0; i < new_n; ++i) {
    if (origin[i] != kInsertedSlot) new_index[origin[i]] = i;
  }
  new_index[old_n] = new_n;
  for (std::size_t i = old_n; i-- > 0;) {
    if (new_index[i] == kGone) new_index[i] = new_index[i + 1];
  }

  const std::vector<std::size_t> starts = instruction_starts(old_slots);
  std::vector<bool> is_start(old_n, false);
  for (const std::size_t s : starts)
    is_start[s] = true;

  for (std::size_t i = 0; i < new_n; ++i) {
    const std::size_t from = origin[i];
    if (from == kInsertedSlot || !is_start[from]) continue;
    isa::RawInsn& insn = edited[i];
    const TargetField field = target_field(insn);
    if (field == TargetField::None) continue;
    const int64_t delta = field == TargetField::Off ? insn.off : insn.imm;
    const int64_t old_target = static_cast<int64_t>(from) + delta + 1;
    int64_t new_target = 0;
    if (old_target < 0) {
      // Before the program (an invalid program): keep the same distance to slot 0.
      new_target = old_target;
    } else if (old_target >= static_cast<int64_t>(old_n)) {
      new_target = static_cast<int64_t>(new_n) + (old_target - static_cast<int64_t>(old_n));
    } else {
      new_target = static_cast<int64_t>(new_index[static_cast<std::size_t>(old_target)]);
    }
    const int64_t new_delta = new_target - static_cast<int64_t>(i) - 1;
    if (field == TargetField::Off) {
      if (new_delta < std::numeric_limits<int16_t>::min() || new_delta > std::numeric_limits<int16_t>::max())
        return std::nullopt;
      insn.off = static_cast<int16_t>(new_delta);
    } else {
      if (new_delta < std::numeric_limits<int32_t>::min() || new_delta > std::numeric_limits<int32_t>::max())
        return std::nullopt;
      insn.imm = static_cast<int32_t>(new_delta);
    }
  }
  return edited;
}

std::optional<std::vector<isa::RawInsn>> remove_slots(std::span<const isa::RawInsn> slots, std::size_t begin,
                                                      std::size_t end) {
  if (begin > end || end > slots.size()) return std::nullopt;
  std::vector<isa::RawInsn> edited;
  std::vector<std::size_t> origin;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (i >= begin && i < end) continue;
    edited.push_back(slots[i]);
    origin.push_back(i);
  }
  return retarget(slots, std::move(edited), origin);
}

std::optional<std::vector<isa::RawInsn>> insert_slots(std::span<const isa::RawInsn> slots, std::size_t at,
                                                      std::span<const isa::RawInsn> inserted) {
  if (at > slots.size()) return std::nullopt;
  std::vector<isa::RawInsn> edited;
  std::vector<std::size_t> origin;
  for (std::size_t i = 0; i <= slots.size(); ++i) {
    if (i == at) {
      for (const isa::RawInsn& s : inserted) {
        edited.push_back(s);
        origin.push_back(kInsertedSlot);
      }
    }
    if (i == slots.size()) break;
    edited.push_back(slots[i]);
    origin.push_back(i);
  }
  return retarget(slots, std::move(edited), origin);
}

}  // namespace bpfdiff::fuzz
