// ALU, ALU32, byte order and lddw. 32-bit x86 operations zero-extend their
// destination, which is exactly BPF's ALU32 rule; the few that do not
// (nothing written, or a 16-bit write) get an explicit `mov r32, r32`.
#include "vm/jit/lowering.hpp"

namespace bpfdiff::jit {

using x86::AluOp;
using x86::Cond;
using x86::Width;
using enum x86::Width;

namespace {

Width width_of(const isa::Semantics& s) {
  return s.width == isa::Width::W64 ? W64 : W32;
}

}  // namespace

Reg Lowering::immediate_operand(int32_t imm, Width w, Reg into) {
  if (options_.constant_blinding) {
    const auto key = static_cast<int32_t>(static_cast<uint32_t>(key_));
    a_.mov_imm(w, into, imm ^ key);
    a_.xor_imm(w, into, key);
  } else {
    a_.mov_imm(w, into, imm);
  }
  return into;
}

void Lowering::lower_alu(const vm::Insn& insn, const isa::Semantics& s) {
  const Width w = width_of(s);
  const Reg dst = kRegMap[insn.dst];
  const bool reg_src = s.source == isa::Source::Reg;
  const Reg src = kRegMap[insn.src];
  // add, sub, or, and, xor: the x86 instruction of the same name.
  const auto plain = [&](AluOp op) {
    if (reg_src) {
      a_.alu(op, w, dst, src);
    } else if (options_.constant_blinding) {
      a_.alu(op, w, dst, immediate_operand(insn.imm, w));
    } else {
      a_.alu_imm(op, w, dst, insn.imm);
    }
  };
  switch (s.alu) {
    case isa::AluOp::Add:
      plain(AluOp::Add);
      return;
    case isa::AluOp::Sub:
      plain(AluOp::Sub);
      return;
    case isa::AluOp::Or:
      plain(AluOp::Or);
      return;
    case isa::AluOp::And:
      plain(AluOp::And);
      return;
    case isa::AluOp::Xor:
      plain(AluOp::Xor);
      return;
    case isa::AluOp::Mul:
      if (reg_src) {
        a_.imul(w, dst, src);
      } else if (options_.constant_blinding) {
        a_.imul(w, dst, immediate_operand(insn.imm, w));
      } else {
        a_.imul_imm(w, dst, dst, insn.imm);
      }
      return;
    case isa::AluOp::Mov:
      if (reg_src) {
        a_.mov(w, dst, src);
      } else if (options_.constant_blinding) {
        a_.mov(w, dst, immediate_operand(insn.imm, w));
      } else {
        a_.mov_imm(w, dst, insn.imm);
      }
      return;
    case isa::AluOp::Neg:
      a_.neg(w, dst);
      return;
    case isa::AluOp::Movsx8:
      a_.movsx(w, dst, W8, src);
      return;
    case isa::AluOp::Movsx16:
      a_.movsx(w, dst, W16, src);
      return;
    case isa::AluOp::Movsx32:
      // ALU64 only: RFC 9669 has no 32-bit movsx from 32 bits (one form, W64).
      a_.movsx(W64, dst, W32, src);
      return;
    case isa::AluOp::Lsh:
    case isa::AluOp::Rsh:
    case isa::AluOp::Arsh:
      lower_shift(insn, s);
      return;
    case isa::AluOp::Div:
    case isa::AluOp::Sdiv:
    case isa::AluOp::Mod:
    case isa::AluOp::Smod:
      lower_divide(insn, s);
      return;
  }
}

void Lowering::lower_shift(const vm::Insn& insn, const isa::Semantics& s) {
  const Width w = width_of(s);
  const Reg dst = kRegMap[insn.dst];
  const x86::ShiftOp op = s.alu == isa::AluOp::Lsh   ? x86::ShiftOp::Shl
                          : s.alu == isa::AluOp::Rsh ? x86::ShiftOp::Shr
                                                     : x86::ShiftOp::Sar;
  if (s.source == isa::Source::Imm) {
    const unsigned count = static_cast<unsigned>(insn.imm) & (w == W64 ? 63u : 31u);
    if (count == 0) {
      if (w == W32) a_.mov(W32, dst, dst);  // a shift by 0 still zero-extends in ALU32
      return;
    }
    a_.shift_imm(op, w, dst, static_cast<uint8_t>(count));
    return;
  }
  const Reg src = kRegMap[insn.src];
  if (options_.bmi2) {
    // shlx/shrx/sarx mask the count to the operand width, as BPF does.
    if (op == x86::ShiftOp::Shl) a_.shlx(w, dst, dst, src);
    if (op == x86::ShiftOp::Shr) a_.shrx(w, dst, dst, src);
    if (op == x86::ShiftOp::Sar) a_.sarx(w, dst, dst, src);
    return;
  }
  // The count must be in cl, which holds BPF r4.
  if (src == Reg::rcx) {
    a_.shift_cl(op, w, dst);
    return;
  }
  a_.mov(W64, kScratch3, Reg::rcx);
  a_.mov(W64, Reg::rcx, src);
  if (dst == Reg::rcx) {
    a_.shift_cl(op, w, kScratch3);  // dst's value is in r11
  } else {
    a_.shift_cl(op, w, dst);
  }
  a_.mov(W64, Reg::rcx, kScratch3);
}

// div/mod/sdiv/smod with RFC 9669's total semantics: x / 0 = 0, x % 0 = x,
// INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0. No verifier runs before us,
// so the guards are in the code and x86's #DE can never be raised.
void Lowering::lower_divide(const vm::Insn& insn, const isa::Semantics& s) {
  const Width w = width_of(s);
  const Reg dst = kRegMap[insn.dst];
  const bool is_mod = s.alu == isa::AluOp::Mod || s.alu == isa::AluOp::Smod;
  const bool is_signed = s.alu == isa::AluOp::Sdiv || s.alu == isa::AluOp::Smod;

  auto by_zero = [&] {
    if (is_mod) {
      if (w == W32) a_.mov(W32, dst, dst);
    } else {
      a_.mov_imm(W32, dst, 0);
    }
  };
  auto by_minus_one = [&] {
    if (is_mod) {
      a_.mov_imm(W32, dst, 0);
    } else {
      a_.neg(w, dst);  // wraps INT_MIN to itself, as required
    }
  };

  Emitter::Label done = 0;
  bool guarded = false;
  if (s.source == isa::Source::Imm) {
    const bool minus_one = w == W64 ? insn.imm == -1 : static_cast<uint32_t>(insn.imm) == UINT32_MAX;
    if (insn.imm == 0) return by_zero();
    if (is_signed && minus_one) return by_minus_one();
    immediate_operand(insn.imm, w);  // divisor in r11
  } else {
    a_.mov(W64, kScratch3, kRegMap[insn.src]);
    guarded = true;
    done = e_.new_label();
    Emitter::Label zero = e_.new_label();
    a_.test(w, kScratch3, kScratch3);
    e_.jcc(Cond::e, zero);
    Emitter::Label minus_one = 0;
    if (is_signed) {
      minus_one = e_.new_label();
      a_.cmp_imm(w, kScratch3, -1);
      e_.jcc(Cond::e, minus_one);
    }
    Emitter::Label divide = e_.new_label();
    e_.jmp(divide);
    e_.bind(zero);
    by_zero();
    e_.jmp(done);
    if (is_signed) {
      e_.bind(minus_one);
      by_minus_one();
      e_.jmp(done);
    }
    e_.bind(divide);
  }
  // Divisor in r11, neither 0 nor (signed) -1. Keep rax/rdx (BPF r0/r3)
  // unless one of them is the destination. With r10 holding the budget and
  // r9 the stack delta there is no scratch register left for two saves: the
  // native stack keeps rax, and rdx goes into dst itself once dst's value is
  // in rax (dst is overwritten last).
  const bool dst_keeps_rdx = dst != Reg::rax && dst != Reg::rdx;
  if (dst == Reg::rax) {
    a_.push(Reg::rdx);
  } else {
    a_.push(Reg::rax);
    a_.mov(W64, Reg::rax, dst);
    if (dst_keeps_rdx) a_.mov(W64, dst, Reg::rdx);
  }
  if (is_signed) {
    if (w == W64) {
      a_.cqo();
    } else {
      a_.cdq();
    }
    a_.idiv(w, kScratch3);
  } else {
    a_.mov_imm(W32, Reg::rdx, 0);
    a_.div(w, kScratch3);
  }
  a_.mov(W64, kScratch3, is_mod ? Reg::rdx : Reg::rax);  // 32-bit div already zero-extended it
  if (dst == Reg::rax) {
    a_.pop(Reg::rdx);
  } else {
    a_.pop(Reg::rax);
    if (dst_keeps_rdx) a_.mov(W64, Reg::rdx, dst);
  }
  a_.mov(W64, dst, kScratch3);
  if (guarded) e_.bind(done);
}

void Lowering::lower_endian(const vm::Insn& insn, const isa::Semantics& s) {
  const Reg dst = kRegMap[insn.dst];
  const bool swap = s.endian != isa::EndianOp::ToLe;
  switch (s.endian_bits) {
    case 16:
      if (swap) a_.ror_imm(W16, dst, 8);
      a_.movzx(dst, W16, dst);
      return;
    case 32:
      if (swap) {
        a_.bswap(W32, dst);
      } else {
        a_.mov(W32, dst, dst);
      }
      return;
    default:
      if (swap) a_.bswap(W64, dst);
      return;
  }
}

void Lowering::lower_lddw(const vm::Insn& insn) {
  const Reg dst = kRegMap[insn.dst];
  if (options_.constant_blinding) {
    a_.movabs(dst, insn.imm64 ^ key_);
    a_.movabs(kScratch3, key_);
    a_.xor_(W64, dst, kScratch3);
  } else {
    a_.load_imm64(dst, insn.imm64);
  }
}

}  // namespace bpfdiff::jit
