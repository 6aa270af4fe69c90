#include "fuzz/single_insn.hpp"

#include <array>
#include <cstdint>
#include <utility>

#include "fuzz/program_builder.hpp"
#include "fuzz/values.hpp"
#include "vm/isa/encode.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/runtime/run.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::Family;
using isa::Form;
using Label = ProgramBuilder::Label;

constexpr uint8_t kFp = isa::kFramePointer;
constexpr int64_t kFrame = vm::kStackFrameBytes;
constexpr std::size_t kMemoryBytes = 64;

// Memory whose 8-byte words are boundary values, so loads read edges too.
std::vector<uint8_t> boundary_memory(ByteSource& src, std::size_t size) {
  std::vector<uint8_t> mem(size);
  for (std::size_t i = 0; i < size; i += 8) {
    const uint64_t word = draw_value(src);
    for (std::size_t j = 0; j < 8 && i + j < size; ++j)
      mem[i + j] = static_cast<uint8_t>(word >> (8 * j));
  }
  return mem;
}

void store_word(std::vector<uint8_t>& mem, int64_t at, uint64_t value, unsigned n) {
  for (unsigned j = 0; j < n; ++j) {
    const int64_t i = at + j;
    if (i >= 0 && static_cast<std::size_t>(i) < mem.size())
      mem[static_cast<std::size_t>(i)] = static_cast<uint8_t>(value >> (8 * j));
  }
}

// Two operands: a boundary pair (either order) or two independent values.
std::pair<uint64_t, uint64_t> operands(ByteSource& src) {
  if (src.chance(0.4)) {
    auto p = src.pick(boundary_pairs());
    if (src.chance(0.5)) std::swap(p.first, p.second);
    return p;
  }
  const uint64_t a = draw_value(src);
  return {a, draw_value(src)};
}

// A 64-bit value near `imm` as the instruction sees it (sign-extended), or
// near its 32-bit zero extension, so that comparisons land on their edges.
uint64_t near_imm(ByteSource& src, int32_t imm) {
  const uint64_t base =
      src.chance(0.5) ? static_cast<uint64_t>(int64_t{imm}) : uint64_t{static_cast<uint32_t>(imm)};
  switch (src.below(4)) {
    case 0:
      return base - 1;
    case 1:
      return base + 1;
    case 2:
      return base ^ (uint64_t{1} << 63);
    default:
      return base;
  }
}

// A register other than those given, for a taken/not-taken marker.
uint8_t other_reg(uint8_t a, uint8_t b) {
  for (uint8_t r = 0; r < kFp; ++r) {
    if (r != a && r != b) return r;
  }
  return 0;
}

class Builder {
 public:
  Builder(Form form, ByteSource& src) : form_(form), fi_(isa::info(form)), src_(src) {}

  GeneratedCase build() {
    switch (fi_.sem.family) {
      case Family::Alu:
        alu();
        break;
      case Family::Endian:
        endian();
        break;
      case Family::Jump:
        jump();
        break;
      case Family::Call:
        call();
        break;
      case Family::Exit:
        b_.emit_lddw(0, draw_value(src_));
        exit();
        break;
      case Family::Lddw:
        lddw();
        break;
      case Family::Load:
      case Family::LoadSigned:
      case Family::StoreImm:
      case Family::StoreReg:
      case Family::Atomic:
        memory_access();
        break;
      case Family::PacketLoad:
        packet();
        break;
    }
    GeneratedCase out;
    out.program.name = "insn-" + std::string(fi_.name);
    out.program.slots = std::move(b_).finish();
    out.memory = std::move(memory_);
    return out;
  }

 private:
  uint8_t dst_writable() { return static_cast<uint8_t>(src_.below(kFp)); }
  void exit() { b_.emit(isa::encode(Form::exit)); }

  // dst, and src unless it is r10 or aliases dst, loaded with the operands.
  void load_pair(uint8_t dst, uint8_t src, uint64_t a, uint64_t b) {
    if (dst != kFp) b_.emit_lddw(dst, a);
    if (src != kFp && src != dst) b_.emit_lddw(src, b);
  }

  void endian() {
    const uint8_t dst = dst_writable();
    b_.emit_lddw(dst, draw_value(src_));
    b_.emit(isa::encode(form_, dst));
    exit();
  }

  void alu() {
    const uint8_t dst = dst_writable();
    const auto [a, b] = operands(src_);
    if (fi_.sem.source == isa::Source::Reg && fi_.sem.alu != isa::AluOp::Neg) {
      // One time in six src is dst (add r3, r3) or the frame pointer.
      const uint32_t k = src_.below(12);
      const uint8_t s = k == 0 ? dst : k == 1 ? kFp : static_cast<uint8_t>(src_.below(kFp));
      load_pair(dst, s, a, b);
      b_.emit(isa::encode(form_, dst, s));
    } else if (fi_.sem.alu == isa::AluOp::Neg) {
      b_.emit_lddw(dst, a);
      b_.emit(isa::encode(form_, dst));
    } else {
      // The second operand as the immediate when it fits (INT64_MIN sdiv -1).
      const auto sb = static_cast<int64_t>(b);
      const bool fits = sb >= INT32_MIN && sb <= INT32_MAX;
      const int32_t imm = fits && src_.chance(0.5) ? static_cast<int32_t>(sb) : src_.pick(interesting_imms());
      b_.emit_lddw(dst, a);
      b_.emit(isa::encode(form_, dst, 0, 0, imm));
    }
    exit();
  }

  void jump() {
    const isa::Semantics& s = fi_.sem;
    const Label taken = b_.new_label();
    uint8_t dst = 0;
    uint8_t reg = 0;
    if (s.cond == isa::JmpCond::Always) {
      b_.emit_jump(form_, 0, 0, 0, taken);
    } else if (s.source == isa::Source::Reg) {
      dst = static_cast<uint8_t>(src_.below(isa::kNumRegisters));
      const uint32_t k = src_.below(8);
      reg = k == 0 ? dst : static_cast<uint8_t>(src_.below(isa::kNumRegisters));
      auto [a, b] = operands(src_);
      if (src_.chance(0.25)) b = a;  // equal operands: Eq/Ge/Le taken, the rest not
      load_pair(dst, reg, a, b);
      b_.emit_jump(form_, dst, reg, 0, taken);
    } else {
      dst = static_cast<uint8_t>(src_.below(kFp));
      const int32_t imm = draw_imm(src_);
      b_.emit_lddw(dst, src_.chance(0.6) ? near_imm(src_, imm) : draw_value(src_));
      b_.emit_jump(form_, dst, 0, imm, taken);
    }
    // Not taken: the marker register is set; taken: it keeps its value.
    b_.emit(isa::encode(Form::mov_imm, other_reg(dst, reg), 0, 0, 1));
    b_.place(taken);
    exit();
  }

  // `f: lddw r0, B; exit` after the entry function.
  void function_body(Label f) {
    b_.place(f);
    b_.emit_lddw(0, draw_value(src_));
    exit();
  }

  void call() {
    const Label f = b_.new_label();
    switch (fi_.sem.call) {
      case isa::CallKind::Helper: {
        // Rejected by the validator: an id no helper is registered under
        // (these cases set up no maps for the standard helpers to work on).
        int32_t id = src_.pick(interesting_imms());
        if (vm::standard_helpers().find(static_cast<uint32_t>(id)) != nullptr) id = -1;
        b_.emit(isa::encode(form_, 0, 0, 0, id));
        exit();
        return;
      }
      case isa::CallKind::Local: {
        // A callee-saved register with a value, to see it survive the call.
        const auto saved = static_cast<uint8_t>(6 + src_.below(4));
        b_.emit_lddw(saved, draw_value(src_));
        b_.emit_call(f);
        exit();
        function_body(f);
        return;
      }
      case isa::CallKind::Indirect: {
        const uint8_t r = dst_writable();
        const uint32_t how = src_.below(4);
        if (how <= 1) {
          b_.emit_code_address(r, f);
        } else if (how == 2) {
          // Near a function address: misaligned or off the function start.
          const uint64_t code = vm::region_base(vm::RegionId::Code);
          b_.emit_lddw(r, code + src_.pick(std::span<const uint64_t>(kCodeOffsets)));
        } else {
          b_.emit_lddw(r, draw_value(src_));  // small values are helper ids
        }
        b_.emit(isa::encode(form_, r));
        exit();
        function_body(f);
        return;
      }
    }
  }

  void lddw() {
    const uint8_t dst = dst_writable();
    switch (fi_.sem.lddw) {
      case isa::LddwKind::Imm64:
        b_.emit_lddw(dst, draw_value(src_));
        exit();
        return;
      case isa::LddwKind::CodeAddr: {
        const Label f = b_.new_label();
        b_.emit_code_address(dst, f);
        exit();
        function_body(f);
        return;
      }
      case isa::LddwKind::MapFd:
      case isa::LddwKind::MapValue:
      case isa::LddwKind::BtfVar:
      case isa::LddwKind::MapIdx:
      case isa::LddwKind::MapIdxValue:
        // Rejected by the validator: the program has no maps, BTF needs a kernel.
        const int32_t imm = src_.pick(interesting_imms());
        b_.emit(isa::encode_lddw(form_, dst, imm, src_.pick(interesting_imms())));
        exit();
        return;
    }
  }

  // Offsets at and around the edges of a region of `size` bytes for an
  // access of `n` bytes; one in five is out of bounds.
  int64_t edge_offset(int64_t lo, int64_t hi, unsigned n) {
    const int64_t last = hi - n;
    if (src_.chance(0.2)) {
      switch (src_.below(3)) {
        case 0:
          return last + 1;
        case 1:
          return lo - 1;
        default:
          return src_.chance(0.5) ? hi : lo - static_cast<int64_t>(n);
      }
    }
    switch (src_.below(5)) {
      case 0:
        return lo;
      case 1:
        return last;
      case 2:
        return lo + 1;
      case 3:
        return last - 1 >= lo ? last - 1 : lo;
      default:
        return lo + n * src_.below(static_cast<uint32_t>((last - lo) / n + 1));
    }
  }

  void memory_access() {
    const isa::Semantics& s = fi_.sem;
    const unsigned n = isa::bytes_of(s.size);
    memory_ = boundary_memory(src_, kMemoryBytes);
    const bool stack = src_.chance(0.5);
    const int64_t lo = stack ? -kFrame : 0;
    const int64_t hi = stack ? 0 : static_cast<int64_t>(kMemoryBytes);
    const int64_t at = edge_offset(lo, hi, n);
    const auto [a, b] = operands(src_);

    // The word accessed starts out as A (on the stack through a store).
    if (stack) {
      if (at >= lo && at + 8 <= hi) {
        const uint8_t t = static_cast<uint8_t>(src_.below(kFp));
        b_.emit_lddw(t, a);
        b_.emit(isa::encode(Form::stxdw, kFp, t, static_cast<int16_t>(at)));
      }
    } else {
      store_word(memory_, at, a, 8);
    }

    // Base: r1 or r10 itself, or a copy in another register (possibly r0,
    // which cmpxchg also compares and writes).
    uint8_t base = stack ? kFp : 1;
    if (src_.chance(0.4)) {
      const uint8_t t = static_cast<uint8_t>(src_.below(kFp));
      if (t != base) b_.emit(isa::encode(Form::mov_reg, t, base));
      base = t;
    }
    const auto off = static_cast<int16_t>(at);

    switch (s.family) {
      case Family::Load:
      case Family::LoadSigned: {
        const uint8_t dst = src_.chance(0.25) && base != kFp ? base : static_cast<uint8_t>(src_.below(kFp));
        b_.emit(isa::encode(form_, dst, base, off));
        break;
      }
      case Family::StoreImm:
        b_.emit(isa::encode(form_, base, 0, off, draw_imm(src_)));
        break;
      case Family::StoreReg: {
        const uint32_t k = src_.below(6);
        const uint8_t v = k == 0 ? base : k == 1 ? kFp : static_cast<uint8_t>(src_.below(kFp));
        if (v != kFp && v != base) b_.emit_lddw(v, b);
        b_.emit(isa::encode(form_, base, v, off));
        break;
      }
      case Family::Atomic: {
        const bool writes_src = fi_.rules.src == isa::RegRule::Writable;
        const uint32_t k = src_.below(6);
        uint8_t v = k == 0 ? base : static_cast<uint8_t>(src_.below(kFp));
        if (v == kFp && writes_src) v = 0;
        if (v != kFp && v != base) b_.emit_lddw(v, b);
        if (s.atomic == isa::AtomicOp::Cmpxchg && base != 0 && v != 0) {
          // The comparand: A itself (exchange happens), A with other high
          // bits (equal for the 32-bit form only), or anything.
          const uint32_t how = src_.below(3);
          const uint64_t expected = how == 0 ? a : how == 1 ? a ^ 0xffffffff00000000 : draw_value(src_);
          b_.emit_lddw(0, expected);
        }
        b_.emit(isa::encode(form_, base, v, off));
        break;
      }
      case Family::Alu:
      case Family::Endian:
      case Family::Jump:
      case Family::Call:
      case Family::Exit:
      case Family::Lddw:
      case Family::PacketLoad:
        break;
    }
    exit();
  }

  void packet() {
    const isa::Semantics& s = fi_.sem;
    const int64_t n = isa::bytes_of(s.size);
    static constexpr std::array<std::size_t, 8> kSizes = {0, 1, 2, 3, 4, 7, 8, 64};
    const std::size_t size = src_.pick(std::span<const std::size_t>(kSizes));
    memory_ = boundary_memory(src_, size);
    const int64_t at = edge_offset(0, static_cast<int64_t>(size), static_cast<unsigned>(n));
    // r0 starts non-zero so that "ended by a miss" (r0 = 0) is visible.
    b_.emit_lddw(0, draw_value(src_));
    if (s.packet == isa::PacketMode::Abs) {
      b_.emit(isa::encode(form_, 0, 0, 0, src_.chance(0.8) ? static_cast<int32_t>(at) : draw_imm(src_)));
    } else {
      // imm + src wraps in 64 bits: B = -1 with imm = 1 reads offset 0.
      const uint8_t r = static_cast<uint8_t>(src_.below(isa::kNumRegisters));
      const int32_t imm = draw_imm(src_);
      if (r != kFp && r != 0) {
        const uint64_t v = src_.chance(0.6) ? static_cast<uint64_t>(at) - static_cast<uint64_t>(int64_t{imm})
                                            : draw_value(src_);
        b_.emit_lddw(r, v);
      }
      b_.emit(isa::encode(form_, 0, r, 0, imm));
    }
    // Registers after a packet load must survive it (Linux clobbers r1..r5; we do not).
    exit();
  }

  static constexpr std::array<uint64_t, 6> kCodeOffsets = {1, 4, 8, 16, 24, 0x100000000 - 8};

  Form form_;
  const isa::FormInfo& fi_;
  ByteSource& src_;
  ProgramBuilder b_;
  std::vector<uint8_t> memory_;
};

uint64_t case_seed(std::size_t form_index, std::size_t i) {
  return (uint64_t{form_index} << 32) ^ (uint64_t{i} * 0x9e3779b97f4a7c15) ^ 0x5eed;
}

}  // namespace

GeneratedCase single_insn_case(isa::Form form, ByteSource& src) {
  return Builder(form, src).build();
}

GeneratedCase single_insn_case(ByteSource& src) {
  const auto forms = isa::all_forms();
  const isa::Form form = forms[src.below(static_cast<uint32_t>(forms.size()))].form;
  return single_insn_case(form, src);
}

std::vector<SingleInsnCase> enumerate_single_insn_cases(std::size_t per_form) {
  std::vector<SingleInsnCase> out;
  const auto forms = isa::all_forms();
  out.reserve(forms.size() * per_form);
  for (std::size_t f = 0; f < forms.size(); ++f) {
    for (std::size_t i = 0; i < per_form; ++i) {
      ByteSource src(case_seed(f, i));
      out.push_back({forms[f].form, single_insn_case(forms[f].form, src)});
    }
  }
  return out;
}

}  // namespace bpfdiff::fuzz
