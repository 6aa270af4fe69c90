#include "vm/jit/stack_bounds.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "vm/isa/table.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::jit {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// What is known about one register's 64-bit value.
struct Value {
  enum class Kind : uint8_t {
    Unknown,
    Scalar,  // the value, as a signed integer, is in [lo, hi]
    Stack,   // the value is r10 + d for some d in [lo, hi] (this function's r10)
  };
  Kind kind = Kind::Unknown;
  int64_t lo = 0;
  int64_t hi = 0;

  bool operator==(const Value&) const = default;
};

Value unknown() {
  return {};
}
Value scalar(int64_t lo, int64_t hi) {
  return {Value::Kind::Scalar, lo, hi};
}
Value stack(int64_t lo, int64_t hi) {
  return {Value::Kind::Stack, lo, hi};
}
bool is_scalar(const Value& v) {
  return v.kind == Value::Kind::Scalar;
}
bool nonnegative(const Value& v) {
  return is_scalar(v) && v.lo >= 0;
}

// r0..r9; r10 is read-only and always stack(0, 0).
constexpr std::size_t kTracked = isa::kFramePointer;

struct State {
  bool reached = false;
  std::array<Value, kTracked> regs{};
};

Value read(const State& s, uint8_t reg) {
  return reg == isa::kFramePointer ? stack(0, 0) : s.regs[reg];
}

// [a.lo + b.lo, a.hi + b.hi] for a scalar or stack `a` and a scalar `b`,
// unknown if any bound overflows.
Value shift_by(const Value& a, const Value& b, bool subtract) {
  int64_t lo = 0;
  int64_t hi = 0;
  const bool overflow =
      subtract ? __builtin_sub_overflow(a.lo, b.hi, &lo) || __builtin_sub_overflow(a.hi, b.lo, &hi)
               : __builtin_add_overflow(a.lo, b.lo, &lo) || __builtin_add_overflow(a.hi, b.hi, &hi);
  if (overflow) return unknown();
  return {a.kind, lo, hi};
}

Value alu64(isa::AluOp op, const Value& a, const Value& b, bool imm_source, int32_t imm) {
  switch (op) {
    case isa::AluOp::Mov:
      return b;
    case isa::AluOp::Add:
      if (is_scalar(b) && a.kind != Value::Kind::Unknown) return shift_by(a, b, false);
      if (is_scalar(a) && b.kind == Value::Kind::Stack) return shift_by(b, a, false);
      return unknown();
    case isa::AluOp::Sub:
      // stack - stack would be a scalar; nothing needs it, so it stays unknown.
      if (is_scalar(b) && a.kind != Value::Kind::Unknown) return shift_by(a, b, true);
      return unknown();
    case isa::AluOp::And:
      // x & m <= m (unsigned) for any x, and m >= 0 keeps it below 2^63.
      if (nonnegative(a) && nonnegative(b)) return scalar(0, std::min(a.hi, b.hi));
      if (nonnegative(b)) return scalar(0, b.hi);
      if (nonnegative(a)) return scalar(0, a.hi);
      return unknown();
    case isa::AluOp::Lsh: {
      if (!imm_source || !nonnegative(a)) return unknown();
      const unsigned k = static_cast<unsigned>(imm) & 63;
      if (a.hi > (kMax >> k)) return unknown();
      return scalar(a.lo << k, a.hi << k);
    }
    case isa::AluOp::Rsh: {
      if (!imm_source) return unknown();
      const unsigned k = static_cast<unsigned>(imm) & 63;
      if (k == 0) return a;
      if (nonnegative(a)) return scalar(a.lo >> k, a.hi >> k);
      return scalar(0, static_cast<int64_t>(std::numeric_limits<uint64_t>::max() >> k));
    }
    case isa::AluOp::Arsh: {
      if (!imm_source || !is_scalar(a)) return unknown();
      const unsigned k = static_cast<unsigned>(imm) & 63;
      return scalar(a.lo >> k, a.hi >> k);  // arithmetic shift is monotonic
    }
    case isa::AluOp::Mul: {
      if (!nonnegative(a) || !nonnegative(b)) return unknown();
      int64_t lo = 0;
      int64_t hi = 0;
      if (__builtin_mul_overflow(a.lo, b.lo, &lo) || __builtin_mul_overflow(a.hi, b.hi, &hi))
        return unknown();
      return scalar(lo, hi);
    }
    case isa::AluOp::Div:
    case isa::AluOp::Sdiv:
    case isa::AluOp::Or:
    case isa::AluOp::Neg:
    case isa::AluOp::Mod:
    case isa::AluOp::Smod:
    case isa::AluOp::Xor:
    case isa::AluOp::Movsx8:
    case isa::AluOp::Movsx16:
    case isa::AluOp::Movsx32:
      return unknown();
  }
  return unknown();
}

// Every ALU32 result is zero-extended; mov32 and and32 of a constant say more.
Value alu32(isa::AluOp op, bool imm_source, int32_t imm) {
  constexpr int64_t kAll32 = 0xffffffff;
  if (imm_source && op == isa::AluOp::Mov) {
    const auto v = static_cast<int64_t>(static_cast<uint32_t>(imm));
    return scalar(v, v);
  }
  if (imm_source && op == isa::AluOp::And) return scalar(0, static_cast<uint32_t>(imm));
  return scalar(0, kAll32);
}

int64_t all_ones(unsigned bits) {
  return static_cast<int64_t>((uint64_t{1} << bits) - 1);
}

// The join of two facts about one register, widened to unknown when asked.
Value join(const Value& a, const Value& b, bool widen) {
  if (a == b) return a;
  if (widen || a.kind != b.kind || a.kind == Value::Kind::Unknown) return unknown();
  return {a.kind, std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}

// Merges `from` into `into`; true if `into` changed.
bool merge(State& into, const State& from, bool widen) {
  if (!into.reached) {
    into = from;
    return true;
  }
  bool changed = false;
  for (std::size_t r = 0; r < kTracked; ++r) {
    const Value j = join(into.regs[r], from.regs[r], widen);
    if (!(j == into.regs[r])) {
      into.regs[r] = j;
      changed = true;
    }
  }
  return changed;
}

bool is_access(isa::Family f) {
  return f == isa::Family::Load || f == isa::Family::LoadSigned || f == isa::Family::StoreImm ||
         f == isa::Family::StoreReg || f == isa::Family::Atomic;
}

// The base register and whether [base + off, + size) lies in [r10 - 512, r10)
// for every value the state allows.
bool access_in_frame(const State& s, const vm::Insn& insn, const isa::Semantics& sem) {
  const bool load = sem.family == isa::Family::Load || sem.family == isa::Family::LoadSigned;
  const Value base = read(s, load ? insn.src : insn.dst);
  if (base.kind != Value::Kind::Stack) return false;
  // Bounded first, so the sums below cannot overflow (|off| < 2^15).
  constexpr int64_t kNear = int64_t{1} << 32;
  if (base.lo < -kNear || base.hi > kNear) return false;
  const int64_t lo = base.lo + insn.off;
  const int64_t hi = base.hi + insn.off + static_cast<int64_t>(isa::bytes_of(sem.size));
  return lo >= -static_cast<int64_t>(vm::kStackFrameBytes) && hi <= 0;
}

class Analysis {
 public:
  Analysis(const vm::LoadedProgram& program, const std::vector<bool>& leaders)
      : program_(program), leaders_(leaders) {
    for (std::size_t pc = 0; pc < leaders.size(); ++pc) {
      if (leaders[pc]) starts_.push_back(static_cast<uint32_t>(pc));
    }
    in_.resize(starts_.size());
    visits_.assign(starts_.size(), 0);
    dirty_.assign(starts_.size(), false);
  }

  std::vector<bool> run() {
    const std::size_t n = program_.insns.size();
    std::vector<bool> proved(n, false);
    // Function starts assume nothing but r10: a caller's values are unknown.
    State entry;
    entry.reached = true;
    for (uint32_t f : program_.function_starts)
      flow_to(f, entry);
    bool any = true;
    while (any) {
      any = false;
      for (std::size_t b = 0; b < starts_.size(); ++b) {
        if (!dirty_[b]) continue;
        dirty_[b] = false;
        any = true;
        walk(b, nullptr);
      }
    }
    if (wrote_r10_) return proved;  // not a validated program: prove nothing
    for (std::size_t b = 0; b < starts_.size(); ++b)
      walk(b, &proved);
    return proved;
  }

 private:
  // Interprets block b from its in-state; with `proved`, records the
  // accesses proved (the fixpoint is reached), otherwise propagates.
  void walk(std::size_t b, std::vector<bool>* proved) {
    if (!in_[b].reached) return;
    State s = in_[b];
    const std::size_t n = program_.insns.size();
    std::size_t pc = starts_[b];
    while (pc < n) {
      const vm::Insn& insn = program_.insns[pc];
      const isa::FormInfo& fi = isa::info(insn.form);
      const isa::Semantics& sem = fi.sem;
      if (proved != nullptr && is_access(sem.family)) (*proved)[pc] = access_in_frame(s, insn, sem);
      const std::size_t next = pc + fi.slots;
      switch (sem.family) {
        case isa::Family::Exit:
          return;
        case isa::Family::Jump:
          if (proved == nullptr) flow_to(insn.target, s);
          if (sem.cond == isa::JmpCond::Always) return;
          break;
        case isa::Family::Call:
          forget_arguments(s);
          break;
        case isa::Family::PacketLoad:
          forget_arguments(s);
          break;
        case isa::Family::Alu: {
          const bool imm = sem.source == isa::Source::Imm;
          const Value b_val = imm ? scalar(insn.imm, insn.imm) : read(s, insn.src);
          set(s, insn.dst,
              sem.width == isa::Width::W64 ? alu64(sem.alu, read(s, insn.dst), b_val, imm, insn.imm)
                                           : alu32(sem.alu, imm, insn.imm));
          break;
        }
        case isa::Family::Endian:
          set(s, insn.dst, sem.endian_bits < 64 ? scalar(0, all_ones(sem.endian_bits)) : unknown());
          break;
        case isa::Family::Lddw:
          if (sem.lddw == isa::LddwKind::Imm64) {
            const auto v = static_cast<int64_t>(insn.imm64);
            set(s, insn.dst, scalar(v, v));
          } else {
            set(s, insn.dst, unknown());
          }
          break;
        case isa::Family::Load: {
          const unsigned bits = 8 * isa::bytes_of(sem.size);
          set(s, insn.dst, bits < 64 ? scalar(0, all_ones(bits)) : unknown());
          break;
        }
        case isa::Family::LoadSigned: {
          const unsigned bits = 8 * isa::bytes_of(sem.size);
          set(s, insn.dst, bits < 64 ? scalar(-all_ones(bits - 1) - 1, all_ones(bits - 1)) : unknown());
          break;
        }
        case isa::Family::StoreImm:
        case isa::Family::StoreReg:
          break;
        case isa::Family::Atomic:
          // Fetching forms and xchg write src; cmpxchg writes r0.
          if (sem.atomic == isa::AtomicOp::Cmpxchg) {
            set(s, 0, unknown());
          } else if (sem.fetch || sem.atomic == isa::AtomicOp::Xchg) {
            set(s, insn.src, unknown());
          }
          break;
      }
      if (next >= n) return;
      if (leaders_[next]) {
        if (proved == nullptr) flow_to(static_cast<uint32_t>(next), s);
        return;
      }
      pc = next;
    }
  }

  // Calls (helper, local, callx, tail call) and legacy packet loads may
  // change r0..r5; local calls restore r6..r9 and r10 on return.
  static void forget_arguments(State& s) {
    for (uint8_t r = 0; r <= 5; ++r)
      s.regs[r] = unknown();
  }

  void set(State& s, uint8_t reg, const Value& v) {
    if (reg >= kTracked) {
      wrote_r10_ = true;
      return;
    }
    s.regs[reg] = v;
  }

  void flow_to(uint32_t target, const State& s) {
    const auto it = std::lower_bound(starts_.begin(), starts_.end(), target);
    if (it == starts_.end() || *it != target) {  // not a block start: give up on the program
      wrote_r10_ = true;
      return;
    }
    const auto b = static_cast<std::size_t>(it - starts_.begin());
    // A few rounds of intervals, then loops settle on unknown.
    constexpr uint32_t kRoundsBeforeWidening = 4;
    const bool widen = visits_[b] >= kRoundsBeforeWidening;
    if (merge(in_[b], s, widen)) {
      ++visits_[b];
      dirty_[b] = true;
    }
  }

  const vm::LoadedProgram& program_;
  const std::vector<bool>& leaders_;
  std::vector<uint32_t> starts_;  // leader pcs, ascending
  std::vector<State> in_;
  std::vector<uint32_t> visits_;
  std::vector<bool> dirty_;
  bool wrote_r10_ = false;  // the program is not one the validator passes
};

}  // namespace

std::vector<bool> prove_stack_accesses(const vm::LoadedProgram& program, const std::vector<bool>& leaders) {
  // Only accesses through a register other than r10 can gain anything: skip
  // the analysis (and its cost at compile time) when there are none.
  bool derived = false;
  for (const vm::Insn& insn : program.insns) {
    const isa::Semantics& sem = isa::info(insn.form).sem;
    if (!is_access(sem.family)) continue;
    const bool load = sem.family == isa::Family::Load || sem.family == isa::Family::LoadSigned;
    if ((load ? insn.src : insn.dst) != isa::kFramePointer) derived = true;
  }
  if (!derived || leaders.size() != program.insns.size())
    return std::vector<bool>(program.insns.size(), false);
  return Analysis(program, leaders).run();
}

}  // namespace bpfdiff::jit
