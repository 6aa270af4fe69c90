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
  // No check: valid only where the verifier knows the key is in range.
  null_check(q, skip, doubt());
  use_value(q, v, map_value_size_);
  b_.place(skip);
  // r0 may still hold the value pointer: the program returns a scalar.
  emit(Form::mov_imm, 0, 0, 0, 0);
}

void StressGenerator::null_check(uint8_t q, Label skip, bool unchecked) {
  if (unchecked) {
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
}

void StressGenerator::use_value(uint8_t q, uint8_t v, uint32_t value_size) {
  reserved_ = q;
  switch (src_.below(4)) {
    case 0: {  // an offset read from the value itself
      emit(Form::ldxdw, v, q, static_cast<int16_t>(8 * src_.below(value_size / 8)));
      for (uint32_t i = src_.below(3); i > 0; --i)
        one_op(v);
      map_access(q, v, value_size);
      break;
    }
    case 1:  // from the memory
      load_unknown(v);
      for (uint32_t i = src_.below(3); i > 0; --i)
        one_op(v);
      map_access(q, v, value_size);
      break;
    case 2: {  // the old contents of a value word an atomic adds to
      mark(StressPattern::AtomicMemory);
      const bool wide = src_.chance(0.5);
      const uint32_t words = value_size / (wide ? 8 : 4);
      emit(Form::mov_imm, v, 0, 0, static_cast<int32_t>(src_.below(8)));
      emit(wide ? Form::atomic_fetch_add : Form::atomic32_fetch_add, q, v,
           static_cast<int16_t>((wide ? 8 : 4) * src_.below(words)));
      map_access(q, v, value_size);
      break;
    }
    default:  // the checked pointer spilled, filled whole and used
      mark(StressPattern::SpillPointer);
      emit(Form::stxdw, kFp, q, kPointerSlot);
      emit(Form::mov_imm, q, 0, 0, 0);
      emit(Form::ldxdw, q, kFp, kPointerSlot);
      load_unknown(v);
      map_access(q, v, value_size);
      break;
  }
  reserved_ = 0xff;
}

void StressGenerator::map_access(uint8_t q, uint8_t v, uint32_t value_size) {
  static constexpr std::array<unsigned, 4> kSizes = {1, 2, 4, 8};
  const unsigned n = src_.pick(std::span<const unsigned>(kSizes));
  const auto off = static_cast<int16_t>(src_.below((value_size - n) / 2 + 1));
  const int32_t bound = static_cast<int32_t>(value_size - n) - off;
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

namespace bpfdiff::fuzz::verifier_stress {

namespace {

static_assert(kHashValueSlot + static_cast<int16_t>(kHashValueArea) == kHashKeySlot,
              "value area right below the key");
static_assert(kHashKeySlot + static_cast<int16_t>(kHashKeyArea) <= kMapKeySlot,
              "key area below the array's key");

Form store_imm(unsigned width) {
  return width == 1 ? Form::stb : width == 2 ? Form::sth : width == 4 ? Form::stw : Form::stdw;
}
Form store_reg(unsigned width) {
  return width == 1 ? Form::stxb : width == 2 ? Form::stxh : width == 4 ? Form::stxw : Form::stxdw;
}

}  // namespace

void StressGenerator::write_hash_key(uint8_t v) {
  // One of three ways of cutting the key into stores: the widest aligned
  // ones, none wider than 4 bytes, or a narrow first one (1 or 2 bytes).
  // A store may run past the key's end (inside the key area): the helper
  // reads only key_size bytes, the verifier must check just those.
  const uint32_t style = src_.below(3);
  const bool unknown_first = src_.chance(0.3);
  if (unknown_first) {
    load_unknown(v);
    if (src_.chance(0.8)) emit(Form::and_imm, v, 0, 0, 3);
  }
  // Only the first store, sometimes: the rest of the key is what an earlier
  // key left there (the whole area is written in the setup).
  const bool first_only = src_.chance(0.2);
  for (uint32_t pos = 0; pos < hash_key_size_;) {
    unsigned w = 8;
    const auto fits = [&](unsigned width) {
      if (pos % width != 0 || pos + width > kHashKeyArea) return false;
      if (style == 1 && width > 4) return false;
      return !(style == 2 && pos == 0 && width > 2);
    };
    while (w > 1 && !fits(w))
      w /= 2;
    const auto off = static_cast<int16_t>(kHashKeySlot + static_cast<int16_t>(pos));
    if (pos == 0 && unknown_first) {
      emit(store_reg(w), kFp, v, off);
    } else {
      // The first store picks the entry (one of the first few, so that
      // lookups find what updates put there, and the map fills up); the
      // others are mostly zero.
      const uint32_t entries = hash_entries_ + 2;
      const int32_t word = pos == 0 ? static_cast<int32_t>(src_.below(entries))
                                    : (src_.chance(0.8) ? 0 : static_cast<int32_t>(src_.below(4)));
      emit(store_imm(w), kFp, 0, off, word);
    }
    pos += w;
    if (first_only) break;
  }
}

void StressGenerator::hash_value() {
  mark(StressPattern::HashMap);
  const auto [q, v] = regs<2>();
  const auto index = static_cast<int32_t>(has_map_ ? 1 : 0);
  write_hash_key(v);
  const uint32_t op = src_.below(10);  // 0..5 lookup, 6..8 update, 9 delete
  if (op >= 6) {
    if (op < 9) {
      // The value: each word kept from before, a small constant or a value
      // the verifier cannot know (never a pointer: no pointer reaches a map).
      bool loaded = false;
      for (uint32_t off = 0; off < hash_value_size_; off += 8) {
        const auto at = static_cast<int16_t>(kHashValueSlot + static_cast<int16_t>(off));
        switch (src_.below(3)) {
          case 0:
            break;
          case 1:
            emit(Form::stdw, kFp, 0, at, static_cast<int32_t>(src_.below(2 * hash_value_size_ + 2)));
            break;
          default:
            if (!loaded) load_unknown(v);
            loaded = true;
            emit(Form::stxdw, kFp, v, at);
            break;
        }
      }
    }
    hash_key_pointer(v, index);
    if (op < 9) {
      b_.emit_frame_address(3, kHashValueSlot);
      // BPF_ANY mostly; NOEXIST, EXIST; rarely an invalid flag (-EINVAL).
      const uint32_t f = src_.below(20);
      emit(Form::mov_imm, 4, 0, 0, f < 11 ? 0 : f < 15 ? 1 : f < 19 ? 2 : 4);
      b_.emit_helper_call(2);  // bpf_map_update_elem
    } else {
      b_.emit_helper_call(3);  // bpf_map_delete_elem
    }
    // The result (0 or a negative errno) kept where it is compared, and
    // sometimes used as an offset the verifier must bound.
    emit(Form::stxdw, kMem, 0, memory_offset(8));
    if (src_.chance(0.4)) {
      emit(Form::mov_reg, v, 0);
      guard_and_access(v);
    }
    emit(Form::mov_imm, 0, 0, 0, 0);
    return;
  }
  hash_key_pointer(v, index);
  b_.emit_helper_call(1);  // bpf_map_lookup_elem
  const Label skip = b_.new_label();
  // A hash map lookup may always fail: without the check the kernel must
  // refuse. Doubt of its own kind, so none without doubt.
  const bool unchecked = src_.chance(opt_.hash_unchecked_rate) && opt_.doubt_rate > 0;
  null_check(q, skip, unchecked);
  use_value(q, v, hash_value_size_);
  b_.place(skip);
  emit(Form::mov_imm, 0, 0, 0, 0);
}

void StressGenerator::hash_key_pointer(uint8_t v, int32_t index) {
  if (hash_key_size_ + 8 <= kHashKeyArea && src_.chance(0.25)) {
    // A key at a variable offset into the key area, every byte of which
    // the setup wrote: the verifier must check the whole range it may read.
    mark(StressPattern::StackPtrArith);
    load_unknown(v);
    emit(Form::and_imm, v, 0, 0, src_.chance(0.5) ? 8 : 7);
    if (v == 2) {
      // scalar += frame pointer: the verifier swaps the operands.
      emit(Form::add_imm, 2, 0, 0, kHashKeySlot);
      emit(Form::add_reg, 2, kFp);
    } else {
      emit(Form::add_imm, v, 0, 0, kHashKeySlot);
      emit(Form::mov_reg, 2, kFp);
      emit(Form::add_reg, 2, v);
    }
  } else {
    b_.emit_frame_address(2, kHashKeySlot);
  }
  b_.emit(isa::encode_lddw(src_.chance(0.8) ? Form::lddw_map_fd : Form::lddw_map_idx, 1, index, 0));
}

vm::MapDef StressGenerator::make_hash_map(uint64_t seed) const {
  vm::MapDef m;
  m.name = "stress_hash";
  m.type = vm::MapType::Hash;
  m.key_size = hash_key_size_;
  m.value_size = hash_value_size_;
  m.max_entries = hash_entries_;
  uint64_t state = seed;
  const auto unit = [&state] { return static_cast<double>(splitmix(state) >> 11) * 0x1.0p-53; };
  if (unit() >= opt_.hash_seeded_rate) return m;
  // Keys as write_hash_key's first store picks them: 0 .. hash_entries_ + 1,
  // little-endian, the rest zero; a few of them, distinct.
  const uint32_t candidates = hash_entries_ + 2;
  std::vector<uint32_t> numbers(candidates);
  for (uint32_t i = 0; i < candidates; ++i)
    numbers[i] = i;
  for (uint32_t i = 0; i + 1 < candidates; ++i)
    std::swap(numbers[i], numbers[i + splitmix(state) % (candidates - i)]);
  const uint32_t count = 1 + static_cast<uint32_t>(splitmix(state) % hash_entries_);
  const std::span<const uint64_t> values = boundary_values();
  for (uint32_t i = 0; i < count; ++i) {
    vm::MapEntry e;
    e.key.assign(hash_key_size_, 0);
    for (uint32_t b = 0; b < hash_key_size_ && b < 4; ++b)
      e.key[b] = static_cast<uint8_t>(numbers[i] >> (8 * b));
    e.value.resize(hash_value_size_);
    for (std::size_t at = 0; at < e.value.size(); at += 8) {
      const uint64_t r = splitmix(state);
      // Mostly around the value size, which the guards bound offsets by.
      uint64_t word =
          r % 3 == 2 ? values[(r >> 8) % values.size()] : (r >> 8) % (2 * uint64_t{hash_value_size_} + 2);
      word = away_from_pointers(word);
      for (std::size_t j = 0; j < 8; ++j)
        e.value[at + j] = static_cast<uint8_t>(word >> (8 * j));
    }
    m.initial_entries.push_back(std::move(e));
  }
  return m;
}

}  // namespace bpfdiff::fuzz::verifier_stress
