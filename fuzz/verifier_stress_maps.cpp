// Map value pointers for the verifier to track: the lookup's result is
// "value or null" until a check the verifier must follow (through a copy,
// through a spill and fill), and every access into the value is bounded by
// branches the verifier must carry, on offsets it cannot know (values read
// from the map itself, from the memory, from an atomic's fetch).
#include "fuzz/verifier_stress_generator.hpp"

namespace bpfdiff::fuzz::verifier_stress {

void StressGenerator::map_value() {
  mark(StressPattern::MapValue);
  const auto [q, v] = regs<2>();
  // The key: a constant (sometimes one past the entries: the lookup gives
  // null) or a value the verifier cannot know, mostly masked small.
  if (src_.chance(0.6)) {
    emit(Form::stw, kFp, 0, kMapKeySlot, static_cast<int32_t>(src_.below(map_entries_ + 1)));
  } else {
    load_unknown(v);
    if (src_.chance(0.7)) emit(Form::and_imm, v, 0, 0, 3);
    emit(Form::stxw, kFp, v, kMapKeySlot);
  }
  b_.emit(isa::encode_lddw(src_.chance(0.8) ? Form::lddw_map_fd : Form::lddw_map_idx, 1, 0, 0));
  b_.emit_frame_address(2, kMapKeySlot);
  b_.emit_helper_call(1);  // bpf_map_lookup_elem

  const Label skip = b_.new_label();
  if (doubt()) {
    // No check: valid only where the verifier knows the key is in range.
    emit(Form::mov_reg, q, 0);
  } else {
    switch (src_.below(6)) {
      case 0:
        emit(Form::mov_reg, q, 0);
        b_.emit_jump(Form::jeq_imm, q, 0, 0, skip);
        break;
      case 1: {
        const Label ok = b_.new_label();
        b_.emit_jump(Form::jne_imm, 0, 0, 0, ok);
        b_.emit_jump(Form::ja, 0, 0, 0, skip);
        b_.place(ok);
        emit(Form::mov_reg, q, 0);
        break;
      }
      case 2:  // the copy is used, the original checked: linked by id
        emit(Form::mov_reg, q, 0);
        b_.emit_jump(Form::jeq_imm, 0, 0, 0, skip);
        break;
      case 3:  // spilled while maybe null, filled, then checked
        mark(StressPattern::SpillPointer);
        emit(Form::stxdw, kFp, 0, kPointerSlot);
        emit(Form::ldxdw, q, kFp, kPointerSlot);
        b_.emit_jump(Form::jeq_imm, q, 0, 0, skip);
        break;
      case 4:  // spilled while maybe null, the register checked, the slot filled
        mark(StressPattern::SpillPointer);
        emit(Form::stxdw, kFp, 0, kPointerSlot);
        b_.emit_jump(Form::jeq_imm, 0, 0, 0, skip);
        emit(Form::ldxdw, q, kFp, kPointerSlot);
        break;
      default:  // 32-bit check of the 64-bit pointer: the verifier refuses it
        emit(Form::mov_reg, q, 0);
        b_.emit_jump(src_.chance(0.5) ? Form::jeq_imm : Form::jeq32_imm, q, 0, 0, skip);
        break;
    }
  }
  reserved_ = q;
  switch (src_.below(4)) {
    case 0: {  // an offset read from the value itself
      emit(Form::ldxdw, v, q, static_cast<int16_t>(8 * src_.below(map_value_size_ / 8)));
      for (uint32_t i = src_.below(3); i > 0; --i)
        one_op(v);
      map_access(q, v);
      break;
    }
    case 1:  // from the memory
      load_unknown(v);
      for (uint32_t i = src_.below(3); i > 0; --i)
        one_op(v);
      map_access(q, v);
      break;
    case 2: {  // the old contents of a value word an atomic adds to
      mark(StressPattern::AtomicMemory);
      const bool wide = src_.chance(0.5);
      const uint32_t words = map_value_size_ / (wide ? 8 : 4);
      emit(Form::mov_imm, v, 0, 0, static_cast<int32_t>(src_.below(8)));
      emit(wide ? Form::atomic_fetch_add : Form::atomic32_fetch_add, q, v,
           static_cast<int16_t>((wide ? 8 : 4) * src_.below(words)));
      map_access(q, v);
      break;
    }
    default:  // the checked pointer spilled, filled whole and used
      mark(StressPattern::SpillPointer);
      emit(Form::stxdw, kFp, q, kPointerSlot);
      emit(Form::mov_imm, q, 0, 0, 0);
      emit(Form::ldxdw, q, kFp, kPointerSlot);
      load_unknown(v);
      map_access(q, v);
      break;
  }
  reserved_ = 0xff;
  b_.place(skip);
  // r0 may still hold the value pointer: the program returns a scalar.
  emit(Form::mov_imm, 0, 0, 0, 0);
}

void StressGenerator::map_access(uint8_t q, uint8_t v) {
  static constexpr std::array<unsigned, 4> kSizes = {1, 2, 4, 8};
  const unsigned n = src_.pick(std::span<const unsigned>(kSizes));
  const auto off = static_cast<int16_t>(src_.below((map_value_size_ - n) / 2 + 1));
  const int32_t bound = static_cast<int32_t>(map_value_size_ - n) - off;
  const Label skip = b_.new_label();
  guard(v, bound, skip);
  const uint8_t p = other_than(v);
  emit(Form::mov_reg, p, q);
  emit(Form::add_reg, p, v);
  static constexpr std::array<Form, 4> kLoads = {Form::ldxb, Form::ldxh, Form::ldxw, Form::ldxdw};
  static constexpr std::array<Form, 4> kStores = {Form::stxb, Form::stxh, Form::stxw, Form::stxdw};
  const std::size_t w = n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : 3;
  if (src_.chance(0.5)) {
    emit(kLoads[w], v, p, off);
  } else {
    emit(kStores[w], p, v, off);
  }
  b_.place(skip);
}

}  // namespace bpfdiff::fuzz::verifier_stress
