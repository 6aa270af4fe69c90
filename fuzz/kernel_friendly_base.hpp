#pragma once
// Inside the kernel-friendly generator (kernel_friendly.cpp), not an API:
// the verifier's view of the registers that it tracks while it writes a
// program, the choice of registers by that view, and where memory accesses
// go (kernel_friendly_memory.cpp).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/form_choice.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "fuzz/program_builder.hpp"
#include "fuzz/values.hpp"
#include "vm/isa/encode.hpp"
#include "vm/program/maps.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::fuzz::detail {

inline constexpr uint8_t kFp = isa::kFramePointer;
inline constexpr uint8_t kNoReg = 0xff;

inline uint64_t scalar_value(ByteSource& src) {
  return away_from_pointers(draw_value(src));
}

// What a register holds as the verifier sees it. Unset: never written (or
// clobbered by a call) on some path; Mixed: written, but of different kinds
// on different paths. Neither may be read, only overwritten.
enum class Kind : uint8_t { Unset, Scalar, Mem, Stack, Mixed };

struct Reg {
  Kind kind = Kind::Unset;
  int32_t off = 0;  // Mem, Stack: constant offset from the memory start / the frame top
  bool operator==(const Reg&) const = default;
};

struct State {
  std::array<Reg, isa::kFramePointer> regs{};
  bool reachable = true;
};

inline Reg meet(Reg a, Reg b) {
  if (a == b) return a;
  if (a.kind == Kind::Unset || b.kind == Kind::Unset) return {};
  return {Kind::Mixed, 0};
}

inline State meet(const State& a, const State& b) {
  if (!a.reachable) return b;
  if (!b.reachable) return a;
  State out;
  for (std::size_t r = 0; r < out.regs.size(); ++r)
    out.regs[r] = meet(a.regs[r], b.regs[r]);
  return out;
}

inline bool usable(Reg r) {
  return r.kind == Kind::Scalar || r.kind == Kind::Mem || r.kind == Kind::Stack;
}

class KernelFriendlyBase {
 protected:
  KernelFriendlyBase(ByteSource& src, const KernelFriendlyOptions& opt) : src_(src), opt_(opt) {}

  void set(uint8_t r, Reg v) {
    if (r < kFp) st_.regs[r] = v;
  }
  Reg reg(uint8_t r) const { return r == kFp ? Reg{Kind::Stack, 0} : st_.regs[r]; }

  // A register an instruction producing `result` may write: not protected
  // (pin, loop counters), and inside a loop body not one whose kind the loop
  // head relies on, unless the result keeps that kind (a scalar).
  bool can_write(uint8_t r, Kind result) const {
    if (r >= kFp || ((protected_ | avoid_) & (1u << r)) != 0) return false;
    // r0 stays a scalar: it is the return value, and a subprogram must return one.
    if (r == 0 || (locked_ & (1u << r)) != 0) return result == Kind::Scalar;
    return true;
  }

  uint8_t writable(Kind result) {
    auto r = static_cast<uint8_t>(src_.below(kFp));
    for (int i = 0; i < kFp; ++i, r = static_cast<uint8_t>((r + 1) % kFp)) {
      if (can_write(r, result)) return r;
    }
    return 0;  // r0 is never protected nor locked to a pointer
  }

  // A random register of `kind` (r10 counts as Stack(0)), or none.
  std::optional<uint8_t> any_of(Kind kind) {
    std::array<uint8_t, isa::kNumRegisters> found{};
    std::size_t n = 0;
    for (uint8_t r = 0; r < isa::kNumRegisters; ++r) {
      if (reg(r).kind == kind) found[n++] = r;
    }
    if (n == 0) return std::nullopt;
    return found[src_.below(static_cast<uint32_t>(n))];
  }
  std::optional<uint8_t> any_scalar() { return any_of(Kind::Scalar); }

  // A scalar register to read; makes one when there is none.
  uint8_t scalar_source() {
    if (auto r = any_scalar()) return *r;
    const uint8_t r = writable(Kind::Scalar);
    b_.emit(isa::encode(isa::Form::mov_imm, r, 0, 0, draw_imm(src_)));
    set(r, {Kind::Scalar, 0});
    return r;
  }

  // A scalar register to modify in place; makes one when there is none.
  uint8_t scalar_dest() {
    auto r = static_cast<uint8_t>(src_.below(kFp));
    for (int i = 0; i < kFp; ++i, r = static_cast<uint8_t>((r + 1) % kFp)) {
      if (st_.regs[r].kind == Kind::Scalar && can_write(r, Kind::Scalar)) return r;
    }
    const uint8_t w = writable(Kind::Scalar);
    b_.emit(isa::encode(isa::Form::mov_imm, w, 0, 0, draw_imm(src_)));
    set(w, {Kind::Scalar, 0});
    return w;
  }

  // ---- memory (kernel_friendly_memory.cpp) ----------------------------------

  // Offset in [lo, hi] aligned to n (lo aligned), or any when !aligned.
  int64_t offset_in(int64_t lo, int64_t hi, unsigned n, bool aligned) {
    return draw_offset(src_, lo, hi, n, aligned);
  }

  // Where the next access of `n` bytes goes (see kernel_friendly_memory.cpp).
  MemRef address(unsigned n, bool atomic);
  std::optional<MemRef> fresh_mem_base(int64_t a, unsigned n);
  std::optional<MemRef> variable_mem_base(unsigned n);

  // ---- maps (kernel_friendly_maps.cpp) ----------------------------------------

  // The program's maps: none, or an array and/or a hash map, with random
  // initial array contents (plan_maps draws them once per program).
  void plan_maps();
  // One map helper sequence (a lookup whose value is read, changed, spilled
  // or indexed by a bounded scalar; an update; a delete) that leaves r0 a
  // scalar and r1..r5 clobbered, like any helper call. False when it does
  // not fit in `room` slots or the stack arena is too small.
  bool map_call(std::size_t room);
  // bpf_tail_call(the entry's r1, the program array, an index): the
  // program array (the last map, planned in a share of the map programs)
  // holds the program itself at index 0, so a tail call there restarts it,
  // up to the kernel's 33, and in half of them at index 1 a tail-call
  // target (tail_target_), which ends the chain; an index past the array falls through with
  // r0 undefined (the kernel's helper returns nothing) and r1..r5
  // clobbered. Entry function only, outside loops. False when it does not
  // fit in `room` slots, or the program has no memory (nothing keeps the
  // context r1 the kernel wants).
  // Index 0 only when `restart` (a restart fits the entry's bound);
  // without it, false when there is no target.
  bool tail_call(std::size_t room, bool restart);
  // The program has a program array: its entry starts with only r1 set
  // (a tail call restarts it through the wrapper's prologue, which may set
  // nothing else; kernel_executor.hpp).
  bool tail_calls() const { return !maps_.empty() && maps_.back().type == vm::MapType::ProgArray; }
  // The maps a map helper sequence may name (all but the program array).
  uint32_t data_maps() const { return static_cast<uint32_t>(maps_.size() - (tail_calls() ? 1 : 0)); }

  ByteSource& src_;
  const KernelFriendlyOptions& opt_;
  ProgramBuilder b_;
  State st_;
  uint32_t mem_size_ = 0;
  uint8_t pin_ = kNoReg;  // r6..r9 holding the memory pointer in this function
  int32_t arena_ = 16;
  uint16_t protected_ = 0;
  uint16_t locked_ = 0;
  uint16_t avoid_ = 0;  // registers an instruction being built already uses
  std::vector<vm::MapDef> maps_;
  // The program array's index 1 holds a tail-call target: code after the
  // subprograms that only a tail call enters, with only r1 set, making no
  // calls and no tail calls (the kernel runs it as a program of its own:
  // oracle/kernel/program_pieces.hpp).
  bool tail_target_ = false;
};

}  // namespace bpfdiff::fuzz::detail
