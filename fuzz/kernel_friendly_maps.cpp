// The kernel-friendly generator's maps and map helper sequences (see
// kernel_friendly.hpp): what the kernel runs them with is the request's maps
// (oracle/kernel/kernel_request.hpp), so the helpers and maps our
// interpreter and JIT share have the kernel as their oracle.
#include <array>

#include "fuzz/kernel_friendly_base.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::fuzz::detail {

using isa::Form;

namespace {

// The key lives in the arena's top slot, an update's value right below it.
constexpr int16_t kKeySlot = -8;
// The longest sequence (an update of a 16-byte value with flags), in slots.
constexpr std::size_t kMapCallSlots = 20;

int32_t round8(uint32_t n) {
  return static_cast<int32_t>((n + 7) / 8 * 8);
}

Form load_form(unsigned n) {
  return n == 1 ? Form::ldxb : n == 2 ? Form::ldxh : n == 4 ? Form::ldxw : Form::ldxdw;
}
Form store_form(unsigned n) {
  return n == 1 ? Form::stxb : n == 2 ? Form::stxh : n == 4 ? Form::stxw : Form::stxdw;
}
Form store_imm_form(unsigned n) {
  return n == 1 ? Form::stb : n == 2 ? Form::sth : n == 4 ? Form::stw : Form::stdw;
}

}  // namespace

void KernelFriendlyBase::plan_maps() {
  maps_.clear();
  // Map helpers are helpers: helper_rate 0 turns them off too.
  if (opt_.map_rate <= 0 || opt_.helper_rate <= 0 || !src_.chance(opt_.map_program_rate)) return;
  const uint32_t which = 1 + src_.below(3);  // 1: an array, 2: a hash map, 3: both
  if (which & 1) {
    vm::MapDef a;
    a.name = "array";
    a.type = vm::MapType::Array;
    a.key_size = 4;
    // 12: a value size the kernel pads to 16 (its element stride), we do not.
    static constexpr std::array<uint32_t, 4> kSizes{8, 16, 12, 4};
    a.value_size = src_.pick(std::span<const uint32_t>(kSizes));
    a.max_entries = src_.chance(0.3) ? 1 : 2 + src_.below(3);
    a.initial_values.resize(std::size_t{a.value_size} * a.max_entries);
    for (std::size_t i = 0; i < a.initial_values.size(); i += 8) {
      const uint64_t v = scalar_value(src_);
      for (std::size_t b = 0; b < 8 && i + b < a.initial_values.size(); ++b)
        a.initial_values[i + b] = static_cast<uint8_t>(v >> (8 * b));
    }
    maps_.push_back(std::move(a));
  }
  if (which & 2) {
    vm::MapDef h;
    h.name = "hash";
    h.type = vm::MapType::Hash;
    h.key_size = src_.chance(0.5) ? 4 : 8;
    h.value_size = src_.chance(0.5) ? 8 : 16;
    h.max_entries = 2 + src_.below(4);  // small, so updates fill it (E2BIG)
    maps_.push_back(std::move(h));
  }
  if (opt_.tail_call_rate > 0 && src_.chance(opt_.tail_call_program_rate)) {
    vm::MapDef p;
    p.name = "progs";
    p.type = vm::MapType::ProgArray;
    p.value_size = 4;
    // Index 0: the program itself; index 1, in half of them, a tail-call
    // target of its own after the subprograms (its slot is known once it
    // is placed); the others empty.
    tail_target_ = src_.chance(0.5);
    p.max_entries = (tail_target_ ? 2 : 1) + src_.below(tail_target_ ? 2 : 3);
    p.prog_entries = {{0, 0}};
    if (tail_target_) p.prog_entries.push_back({1, 0});
    maps_.push_back(std::move(p));
  }
}

bool KernelFriendlyBase::tail_call(std::size_t room, bool restart) {
  // r1 as the entry got it, kept in the pinned register: the kernel wants
  // its context there (a program without memory pins nothing, and a
  // scalar r1 would be rejected).
  if (!tail_calls() || room < 6 || pin_ == kNoReg || (!restart && !tail_target_)) return false;
  b_.emit(isa::encode(Form::mov_reg, 1, pin_));
  b_.emit(isa::encode_lddw(src_.chance(0.7) ? Form::lddw_map_fd : Form::lddw_map_idx, 2,
                           static_cast<int32_t>(maps_.size() - 1), 0));
  // Index 0 (a restart, when `restart`) or 1 (the tail-call target)
  // mostly, one past the array sometimes. Not an empty
  // slot inside it: the kernel's x86-64 JIT and its interpreter count that
  // attempt differently (oracle/comparability.hpp), so it is not compared.
  const uint32_t entries = maps_.back().max_entries;
  uint32_t index = entries + src_.below(2);
  if (src_.chance(0.7)) index = tail_target_ && (!restart || src_.chance(0.5)) ? 1 : 0;
  b_.emit(isa::encode(Form::mov_imm, 3, 0, 0, static_cast<int32_t>(index)));
  b_.emit_helper_call(static_cast<uint32_t>(vm::HelperId::TailCall));
  for (uint8_t r = 0; r <= 5; ++r)
    set(r, {});
  return true;
}

bool KernelFriendlyBase::map_call(std::size_t room) {
  if (data_maps() == 0 || room < kMapCallSlots || arena_ < 8) return false;
  const auto index = static_cast<uint32_t>(src_.below(data_maps()));
  const vm::MapDef& m = maps_[index];
  const bool array = m.type == vm::MapType::Array;
  const uint32_t op = src_.below(20);  // 0..11 lookup, 12..16 update, 17..19 delete
  const int32_t value_off = -8 - round8(m.value_size);
  if (op >= 12 && op <= 16 && -value_off > arena_) return false;

  // A direct value address (single-entry arrays, as global data is: the
  // kernel allows none into larger ones): no call, the pointer stays in r4.
  if (array && m.max_entries == 1 && op < 2) {
    const unsigned n = 1u << src_.below(4);
    if (n > m.value_size) return false;
    const int32_t off = static_cast<int32_t>(src_.below(m.value_size / n) * n);
    const Form lddw = src_.chance(0.5) ? Form::lddw_map_value : Form::lddw_map_idx_value;
    b_.emit(isa::encode_lddw(lddw, 4, static_cast<int32_t>(index), off));
    if (src_.chance(0.5)) {
      b_.emit(isa::encode(store_imm_form(n), 4, 0, 0, draw_imm(src_)));
    }
    b_.emit(isa::encode(load_form(n), 3, 4, 0));
    b_.emit(isa::encode(Form::mov_reg, 0, 3));
    set(0, {Kind::Scalar, 0});
    set(3, {Kind::Scalar, 0});
    set(4, {});  // a map value pointer, which the generator does not track
    return true;
  }

  // The key, in range mostly, past it sometimes.
  const auto key = static_cast<int32_t>(src_.below(m.max_entries + 2));
  b_.emit(isa::encode(m.key_size == 8 ? Form::stdw : Form::stw, kFp, 0, kKeySlot, key));
  b_.emit(isa::encode_lddw(src_.chance(0.7) ? Form::lddw_map_fd : Form::lddw_map_idx, 1,
                           static_cast<int32_t>(index), 0));
  b_.emit_frame_address(2, kKeySlot);

  if (op >= 12 && op <= 16) {
    for (int32_t off = value_off; off < -8; off += 8) {
      if (src_.chance(0.7))
        b_.emit(isa::encode(Form::stdw, kFp, 0, static_cast<int16_t>(off), draw_imm(src_)));
    }
    b_.emit_frame_address(3, value_off);
    // BPF_ANY mostly; NOEXIST, EXIST, and rarely an invalid flag (-EINVAL).
    const uint32_t f = src_.below(20);
    b_.emit(isa::encode(Form::mov_imm, 4, 0, 0, f < 10 ? 0 : f < 14 ? 1 : f < 19 ? 2 : 3));
    b_.emit_helper_call(static_cast<uint32_t>(vm::HelperId::MapUpdateElem));
  } else if (op >= 17) {
    b_.emit_helper_call(static_cast<uint32_t>(vm::HelperId::MapDeleteElem));
  } else {
    b_.emit_helper_call(static_cast<uint32_t>(vm::HelperId::MapLookupElem));
    // r3 is the sequence's result on every path; the value read, when found.
    b_.emit(isa::encode(Form::mov_imm, 3, 0, 0, draw_imm(src_)));
    const ProgramBuilder::Label done = b_.new_label();
    // No null check only where the lookup cannot fail: an array's constant
    // key in range. Kernels from 6.14 know that value is not null; older
    // ones refuse the access (map_value_or_null). Never a fault in our VM.
    const bool sure = array && static_cast<uint32_t>(key) < m.max_entries;
    if (!(sure && src_.chance(0.3))) b_.emit_jump(Form::jeq_imm, 0, 0, 0, done);
    unsigned n = 1u << src_.below(4);
    if (n > m.value_size) n = 4;  // every value has 4 bytes at least
    const auto off = static_cast<int32_t>(src_.below(m.value_size / n) * n);
    switch (src_.below(6)) {
      case 0:  // read
        b_.emit(isa::encode(load_form(n), 3, 0, static_cast<int16_t>(off)));
        break;
      case 1:  // read, change, write back
        b_.emit(isa::encode(load_form(n), 3, 0, static_cast<int16_t>(off)));
        b_.emit(isa::encode(src_.chance(0.5) ? Form::add_imm : Form::xor_imm, 3, 0, 0, draw_imm(src_)));
        b_.emit(isa::encode(store_form(n), 0, 3, static_cast<int16_t>(off)));
        break;
      case 2:  // an atomic add on the value, the old value fetched
        if (n >= 4) {
          b_.emit(isa::encode(Form::mov_imm, 3, 0, 0, draw_imm(src_)));
          const bool fetch = src_.chance(0.5);
          const Form atomic = n == 8 ? (fetch ? Form::atomic_fetch_add : Form::atomic_add)
                                     : (fetch ? Form::atomic32_fetch_add : Form::atomic32_add);
          b_.emit(isa::encode(atomic, 0, 3, static_cast<int16_t>(off)));
        } else {
          b_.emit(isa::encode(store_imm_form(n), 0, 0, static_cast<int16_t>(off), draw_imm(src_)));
        }
        break;
      case 3:  // the pointer spilled and filled, the slot a scalar again after
        b_.emit(isa::encode(Form::stxdw, kFp, 0, kKeySlot));
        b_.emit(isa::encode(Form::ldxdw, 5, kFp, kKeySlot));
        b_.emit(isa::encode(load_form(n), 3, 5, static_cast<int16_t>(off)));
        b_.emit(isa::encode(Form::stdw, kFp, 0, kKeySlot, draw_imm(src_)));
        break;
      default: {  // moved by a scalar read from the value, bounded by a branch
        b_.emit(isa::encode(Form::ldxb, 4, 0, 0));
        b_.emit_jump(Form::jgt_imm, 4, 0, static_cast<int32_t>(m.value_size - n), done);
        b_.emit(isa::encode(Form::mov_reg, 5, 0));
        b_.emit(isa::encode(Form::add_reg, 5, 4));
        if (src_.chance(0.5)) b_.emit(isa::encode(store_form(n), 5, 4, 0));
        b_.emit(isa::encode(load_form(n), 3, 5, 0));
        break;
      }
    }
    b_.place(done);
    b_.emit(isa::encode(Form::mov_reg, 0, 3));
  }
  set(0, {Kind::Scalar, 0});
  for (uint8_t r = 1; r <= 5; ++r)
    set(r, {});
  return true;
}

}  // namespace bpfdiff::fuzz::detail
