#include "fuzz/verifier_stress_generator.hpp"

namespace bpfdiff::fuzz::verifier_stress {

void StressGenerator::pattern() {
  if (has_map_ && src_.chance(0.3)) {
    map_value();
    return;
  }
  if (has_hash_ && src_.chance(0.35)) {
    hash_value();
    return;
  }
  switch (src_.below(13)) {
    case 0:
    case 1:
    case 2: {
      const auto [v] = regs<1>();
      load_unknown(v);
      transform(v);
      guard_and_access(v);
      return;
    }
    case 3:
      sdiv_overflow();
      return;
    case 4:
      spill_fill();
      return;
    case 5:
      spill_pointer();
      return;
    case 6:
      atomic();
      return;
    case 7:
      join();
      return;
    case 8:
      dead_branch();
      return;
    case 9:
      call();
      return;
    case 10:
      loop();
      return;
    case 11:
      edge_branch();
      return;
    default: {
      const auto [v] = regs<1>();
      load_unknown(v);
      div_by_unknown(v);
      guard_and_access(v);
      return;
    }
  }
}

void StressGenerator::sdiv_overflow() {
  if (!v4_) {
    const auto [v] = regs<1>();
    load_unknown(v);
    div_by_unknown(v);
    guard_and_access(v);
    return;
  }
  mark(StressPattern::SdivOverflow);
  const auto [v, d] = regs<2>();
  const bool wide = src_.chance(0.5);
  if (wide) {
    b_.emit_lddw(v, uint64_t{1} << 63);
  } else {
    emit(Form::mov32_imm, v, 0, 0, INT32_MIN);
    mark(StressPattern::Subreg32);
  }
  const bool by_reg = src_.chance(0.5);
  if (by_reg) emit(Form::mov_imm, d, 0, 0, -1);
  const bool mod = src_.chance(0.5);
  Form f;
  if (wide) {
    f = by_reg ? (mod ? Form::smod_reg : Form::sdiv_reg) : (mod ? Form::smod_imm : Form::sdiv_imm);
  } else {
    f = by_reg ? (mod ? Form::smod32_reg : Form::sdiv32_reg) : (mod ? Form::smod32_imm : Form::sdiv32_imm);
  }
  emit(f, v, by_reg ? d : 0, 0, by_reg ? 0 : -1);
  if (src_.chance(0.5)) one_op(v);
  guard_and_access(v);
}

void StressGenerator::spill_fill() {
  static constexpr std::array<unsigned, 4> kSizes = {1, 2, 4, 8};
  static constexpr std::array<Form, 4> kStores = {Form::stxb, Form::stxh, Form::stxw, Form::stxdw};
  static constexpr std::array<Form, 4> kStoreImms = {Form::stb, Form::sth, Form::stw, Form::stdw};
  static constexpr std::array<Form, 4> kLoads = {Form::ldxb, Form::ldxh, Form::ldxw, Form::ldxdw};
  const auto [v, y] = regs<2>();
  const std::size_t sw = src_.below(4);
  const unsigned n = kSizes[sw];
  const auto slot = static_cast<int16_t>(-8 * static_cast<int16_t>(1 + src_.below(kArena / 8)));
  const auto at = static_cast<int16_t>(slot + static_cast<int16_t>(n * src_.below(8 / n)));
  const uint32_t what = src_.below(3);
  const Label skip = b_.new_label();
  int64_t known_max = static_cast<int64_t>(mem_size_) - 1;
  if (what == 0) {
    mark(StressPattern::SpillConst);
    emit(kStoreImms[sw], kFp, 0, at, static_cast<int32_t>(src_.below(mem_size_)));
  } else if (what == 1) {
    mark(StressPattern::SpillConst);
    emit(Form::mov_imm, v, 0, 0, static_cast<int32_t>(src_.below(mem_size_)));
    emit(kStores[sw], kFp, v, at);
  } else {
    // Spilled, filled and used inside its guard.
    mark(StressPattern::SpillScalar);
    load_unknown(v);
    known_max = mem_size_ - 8;
    b_.emit_jump(Form::jgt_imm, v, 0, static_cast<int32_t>(known_max), skip);
    emit(kStores[sw], kFp, v, at);
  }
  std::size_t fw = sw;
  int16_t from = at;
  if (src_.chance(0.35)) {
    mark(StressPattern::PartialSpill);
    known_max = -1;  // no longer what was spilled
    if (src_.chance(0.5)) {
      // An overlapping narrower write into the spilled bytes.
      const std::size_t ow = src_.below(static_cast<uint32_t>(sw + 1));
      const unsigned on = kSizes[ow];
      emit(kStoreImms[ow], kFp, 0, static_cast<int16_t>(at + on * src_.below(n / on)),
           static_cast<int32_t>(src_.below(256)));
    } else {
      fw = src_.below(4);
      from = static_cast<int16_t>(slot + static_cast<int16_t>(kSizes[fw] * src_.below(8 / kSizes[fw])));
    }
  }
  emit(kLoads[fw], y, kFp, from);
  guard_and_access(y, known_max);
  b_.place(skip);
}

void StressGenerator::spill_pointer() {
  mark(StressPattern::SpillPointer);
  const auto [p, q, d] = regs<3>();
  const bool frame = src_.chance(0.3);
  if (frame) {
    emit(Form::mov_reg, p, kFp);
    emit(Form::add_imm, p, 0, 0, -8 * static_cast<int32_t>(1 + src_.below(kArena / 8)));
  } else {
    emit(Form::mov_reg, p, kMem);
    if (src_.chance(0.5)) emit(Form::add_imm, p, 0, 0, static_cast<int32_t>(8 * src_.below(mem_size_ / 8)));
  }
  emit(Form::stxdw, kFp, p, kPointerSlot);
  if (doubt()) {
    mark(StressPattern::PartialSpill);
    emit(Form::stb, kFp, 0, static_cast<int16_t>(kPointerSlot + src_.below(8)), 0);
  }
  emit(Form::ldxdw, q, kFp, kPointerSlot);
  emit(Form::ldxb, d, q, 0);
  guard_and_access(d);
}

void StressGenerator::atomic() {
  const bool wide = src_.chance(0.5);
  static constexpr std::array<Form, 10> k64 = {
      Form::atomic_add,  Form::atomic_fetch_add, Form::atomic_or,  Form::atomic_fetch_or,
      Form::atomic_and,  Form::atomic_fetch_and, Form::atomic_xor, Form::atomic_fetch_xor,
      Form::atomic_xchg, Form::atomic_cmpxchg};
  static constexpr std::array<Form, 10> k32 = {
      Form::atomic32_add,  Form::atomic32_fetch_add, Form::atomic32_or,  Form::atomic32_fetch_or,
      Form::atomic32_and,  Form::atomic32_fetch_and, Form::atomic32_xor, Form::atomic32_fetch_xor,
      Form::atomic32_xchg, Form::atomic32_cmpxchg};
  const Form f = src_.pick(std::span<const Form>(wide ? k64 : k32));
  const unsigned n = wide ? 8 : 4;
  // r0 is cmpxchg's comparand and result: keep it out of the operands.
  std::array<uint8_t, 2> r = regs<2>();
  for (uint8_t& x : r) {
    if (x == 0) x = 9 - (r[0] == 9 || r[1] == 9 ? 1 : 0);
  }
  const auto [s, y] = r;
  const bool stack = src_.chance(0.5);
  uint8_t base = kFp;
  int16_t off = 0;
  if (stack) {
    mark(StressPattern::AtomicStack);
    off = static_cast<int16_t>(-static_cast<int16_t>(n) * static_cast<int16_t>(1 + src_.below(kArena / n)));
    // The slot holds a small constant or a bounded unknown first.
    if (src_.chance(0.5)) {
      emit(wide ? Form::stdw : Form::stw, kFp, 0, off, static_cast<int32_t>(src_.below(mem_size_ / 2)));
    } else {
      load_unknown(y);
      emit(Form::and_imm, y, 0, 0, static_cast<int32_t>(mem_size_ / 2 - 1));
      emit(wide ? Form::stxdw : Form::stxw, kFp, y, off);
    }
  } else {
    mark(StressPattern::AtomicMemory);
    base = kMem;
    off = memory_offset(n);
    while (off % static_cast<int16_t>(n) != 0)
      off = static_cast<int16_t>(off - 1);
  }
  emit(Form::mov_imm, s, 0, 0, static_cast<int32_t>(src_.below(8)));
  if (isa::info(f).sem.atomic == isa::AtomicOp::Cmpxchg) {
    emit(Form::mov_imm, 0, 0, 0, static_cast<int32_t>(src_.below(mem_size_ / 2)));
  }
  emit(f, base, s, off);
  const uint8_t out = isa::info(f).sem.atomic == isa::AtomicOp::Cmpxchg ? 0 : s;
  // On the stack both the old value and the new one are small by construction.
  const int64_t known_max = stack ? static_cast<int64_t>(mem_size_ / 2 + 7) : -1;
  // The slot's new value is read before the fetched value's access, which
  // may store into the arena (the slot included) and break its bound.
  emit(wide ? Form::ldxdw : Form::ldxw, y, base, off);
  if (isa::info(f).sem.fetch || isa::info(f).sem.atomic == isa::AtomicOp::Cmpxchg) {
    reserved_ = y;
    guard_and_access(out, known_max);
    reserved_ = 0xff;
  }
  guard_and_access(y, known_max);
}

void StressGenerator::join() {
  mark(StressPattern::JoinPrune);
  const auto [c, v] = regs<2>();
  load_unknown(c);
  const Label other = b_.new_label();
  const Label meet = b_.new_label();
  static constexpr std::array<Form, 6> kConds = {Form::jset_imm,  Form::jgt_imm,   Form::jslt_imm,
                                                 Form::jeq32_imm, Form::jle32_imm, Form::jsge_imm};
  b_.emit_jump(src_.pick(std::span<const Form>(kConds)), c, 0, static_cast<int32_t>(src_.below(mem_size_)),
               other);
  emit(Form::mov_imm, v, 0, 0, static_cast<int32_t>(src_.below(mem_size_ / 2)));
  b_.emit_jump(Form::ja, 0, 0, 0, meet);
  b_.place(other);
  const bool out_of_bounds = doubt();
  emit(Form::mov_imm, v, 0, 0,
       static_cast<int32_t>(out_of_bounds ? mem_size_ + src_.below(8) : src_.below(mem_size_ / 2)));
  b_.place(meet);
  if (src_.chance(0.5)) emit(Form::add_imm, c, 0, 0, 1);  // a state difference that does not matter
  // Accessed directly: the verifier must track both values precisely.
  const auto [p] = regs<1>();
  const uint8_t base = p == v || p == c ? kFp : p;
  if (base == kFp) {
    guard_and_access(v);
    return;
  }
  emit(Form::mov_reg, p, kMem);
  emit(Form::add_reg, p, v);
  emit(Form::ldxb, c, p, 0);
}

void StressGenerator::dead_branch() {
  mark(StressPattern::DeadBranch);
  const auto [v, w] = regs<2>();
  const Unknown u = load_unknown(v);
  const Label dead = b_.new_label();
  const Label end = b_.new_label();
  switch (src_.below(8)) {
    case 0:
      emit(Form::and_imm, v, 0, 0, 15);
      b_.emit_jump(Form::jgt_imm, v, 0, 15, dead);
      break;
    case 1:
      emit(Form::and_imm, v, 0, 0, 15);
      b_.emit_jump(Form::jsgt32_imm, v, 0, 15, dead);
      mark(StressPattern::Jmp32Guard);
      break;
    case 2:
      emit(Form::or_imm, v, 0, 0, 1);
      b_.emit_jump(Form::jeq_imm, v, 0, 0, dead);
      break;
    case 3:
      emit(Form::and_imm, v, 0, 0, 0xf0);
      b_.emit_jump(Form::jset_imm, v, 0, 0xf, dead);
      break;
    case 4:
      emit(Form::rsh_imm, v, 0, 0, 60);
      b_.emit_jump(Form::jgt_imm, v, 0, 15, dead);
      break;
    case 5:
      emit(Form::and_imm, v, 0, 0, 7);
      emit(Form::mul_imm, v, 0, 0, 3);
      b_.emit_jump(Form::jgt_imm, v, 0, 21, dead);
      break;
    case 6:
      emit(Form::lsh_imm, v, 0, 0, 32);
      b_.emit_jump(Form::jne32_imm, v, 0, 0, dead);
      mark(StressPattern::Jmp32Guard);
      break;
    default:
      emit(Form::mov_reg, w, v);
      emit(Form::sub_reg, w, v);
      b_.emit_jump(Form::jne_imm, w, 0, 0, dead);
      break;
  }
  (void)u;
  b_.emit_jump(Form::ja, 0, 0, 0, end);
  b_.place(dead);
  emit(Form::ldxdw, w, kMem, static_cast<int16_t>(mem_size_ + 8 * src_.below(4)));
  b_.place(end);
}

void StressGenerator::call() {
  mark(StressPattern::CallStackPtr);
  sub_used_ = true;
  const auto [v] = regs<1>();
  load_unknown(v);
  const Label skip = b_.new_label();
  b_.emit_jump(Form::jgt_imm, v, 0, static_cast<int32_t>(mem_size_ - 8), skip);
  emit(Form::mov_reg, 2, v);
  emit(Form::mov_reg, 1, kFp);
  emit(Form::add_imm, 1, 0, 0, kCallSlot);
  b_.emit_call(sub_label_);
  // r1..r5 are now unreadable; r0 is the result.
  if (sub_kind_ == SubKind::WritesSlot) {
    emit(Form::ldxdw, 3, kFp, kCallSlot);
    guard_and_access(3, mem_size_ - 8);
  } else {
    guard_and_access(0, sub_kind_ == SubKind::ReadsSlot ? 7 : mem_size_ - 7);
  }
  b_.place(skip);
}

void StressGenerator::subprogram() {
  b_.place(sub_label_);
  switch (sub_kind_) {
    case SubKind::WritesSlot:  // *(u64 *)r1 = r2 (bounded by the caller)
      emit(Form::stxdw, 1, 2, 0);
      emit(Form::mov_imm, 0, 0, 0, 0);
      break;
    case SubKind::ReadsSlot:  // r0 = *(u64 *)r1 & small
      emit(Form::ldxdw, 0, 1, 0);
      emit(Form::and_imm, 0, 0, 0, 7);
      break;
    case SubKind::ReturnsArg:  // r0 = r2 + 1: one past the caller's bound
      emit(Form::mov_reg, 0, 2);
      emit(Form::add_imm, 0, 0, 0, 1);
      break;
  }
  emit(Form::exit);
}

void StressGenerator::loop() {
  mark(StressPattern::BoundedLoop);
  const auto [c, acc, p] = regs<3>();
  load_unknown(c);
  emit(Form::and_imm, c, 0, 0, src_.chance(0.5) ? 3 : 7);
  emit(Form::add_imm, c, 0, 0, 1);
  emit(Form::mov_imm, acc, 0, 0, 0);
  const Label head = b_.new_label();
  b_.place(head);
  emit(Form::mov_reg, p, kMem);
  emit(Form::add_reg, p, c);
  emit(Form::ldxb, p, p, static_cast<int16_t>(src_.below(mem_size_ - 9)));
  emit(src_.chance(0.5) ? Form::add_reg : Form::xor_reg, acc, p);
  static constexpr std::array<Form, 4> kDecrements = {Form::sub_imm, Form::add_imm, Form::sub32_imm,
                                                      Form::add32_imm};
  const Form dec = src_.pick(std::span<const Form>(kDecrements));
  emit(dec, c, 0, 0, isa::info(dec).sem.alu == isa::AluOp::Sub ? 1 : -1);
  static constexpr std::array<Form, 4> kClosers = {Form::jne_imm, Form::jsgt_imm, Form::jgt_imm,
                                                   Form::jne32_imm};
  b_.emit_jump(src_.pick(std::span<const Form>(kClosers)), c, 0, 0, head);
  emit(Form::and_imm, acc, 0, 0, 0x1f);
  guard_and_access(acc, 0x1f);
}

}  // namespace bpfdiff::fuzz::verifier_stress
