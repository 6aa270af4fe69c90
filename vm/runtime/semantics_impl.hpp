#pragma once
// The RFC 9669 meaning of the pure (register-only) operations: ALU, byte
// order and jump conditions. One definition used by the interpreter, the
// constant folding of tests and, as the reference the Z3 model is checked
// against, by the SMT issue. All arithmetic is on unsigned types, so nothing
// here is undefined behaviour in C++.
//
// Every function is a template over its value types (`D`, a domain naming
// the fixed-width integer types it computes with). The interpreter uses the
// default, NativeDomain, so its code is exactly what it would be with the
// types spelled out. The SMT check (oracle/smt/interp_check) instantiates the
// same code with Z3-backed types and proves it equal to the model for all
// inputs, so what is proved is this code, not a transcription of it.
#include <cstdint>

#include "vm/isa/semantics.hpp"

namespace bpfdiff::vm::sem {

using isa::AluOp;
using isa::EndianOp;
using isa::JmpCond;
using isa::Width;

// The value types of the machine.
struct NativeDomain {
  using Bool = bool;
  using U16 = uint16_t;
  using U32 = uint32_t;
  using U64 = uint64_t;
  using S8 = int8_t;
  using S16 = int16_t;
  using S32 = int32_t;
  using S64 = int64_t;
};

template <class D = NativeDomain>
constexpr typename D::U64 sext8(typename D::U64 v) {
  using U64 = typename D::U64;
  return static_cast<U64>(static_cast<typename D::S64>(static_cast<typename D::S8>(v)));
}
template <class D = NativeDomain>
constexpr typename D::U64 sext16(typename D::U64 v) {
  using U64 = typename D::U64;
  return static_cast<U64>(static_cast<typename D::S64>(static_cast<typename D::S16>(v)));
}
template <class D = NativeDomain>
constexpr typename D::U64 sext32(typename D::U64 v) {
  using U64 = typename D::U64;
  return static_cast<U64>(static_cast<typename D::S64>(static_cast<typename D::S32>(v)));
}

// The 64-bit operand of an instruction's imm field: sign-extended.
template <class D = NativeDomain>
constexpr typename D::U64 sext_imm(typename D::S32 imm) {
  return static_cast<typename D::U64>(static_cast<typename D::S64>(imm));
}

template <class D = NativeDomain>
constexpr typename D::U16 bswap16(typename D::U16 v) {
  return static_cast<typename D::U16>((v >> 8) | (v << 8));
}
template <class D = NativeDomain>
constexpr typename D::U32 bswap32(typename D::U32 v) {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24);
}
template <class D = NativeDomain>
constexpr typename D::U64 bswap64(typename D::U64 v) {
  using U32 = typename D::U32;
  using U64 = typename D::U64;
  return (static_cast<U64>(bswap32<D>(static_cast<U32>(v))) << 32) |
         static_cast<U64>(bswap32<D>(static_cast<U32>(v >> 32)));
}

// 64-bit ALU: dst op src. `src` is the register or the sign-extended imm.
template <AluOp Op, class D = NativeDomain>
constexpr typename D::U64 alu64(typename D::U64 dst, typename D::U64 src) {
  using U64 = typename D::U64;
  using S64 = typename D::S64;
  constexpr uint64_t kMin = uint64_t{1} << 63;
  if constexpr (Op == AluOp::Add) return dst + src;
  if constexpr (Op == AluOp::Sub) return dst - src;
  if constexpr (Op == AluOp::Mul) return dst * src;
  if constexpr (Op == AluOp::Div) return src == 0 ? 0 : dst / src;
  if constexpr (Op == AluOp::Sdiv) {
    if (src == 0) return 0;
    if (dst == kMin && src == ~uint64_t{0}) return kMin;  // INT64_MIN / -1 overflows: result is INT64_MIN
    return static_cast<U64>(static_cast<S64>(dst) / static_cast<S64>(src));
  }
  if constexpr (Op == AluOp::Or) return dst | src;
  if constexpr (Op == AluOp::And) return dst & src;
  if constexpr (Op == AluOp::Lsh) return dst << (src & 63);
  if constexpr (Op == AluOp::Rsh) return dst >> (src & 63);
  if constexpr (Op == AluOp::Neg) return uint64_t{0} - dst;
  if constexpr (Op == AluOp::Mod) return src == 0 ? dst : dst % src;
  if constexpr (Op == AluOp::Smod) {
    if (src == 0) return dst;
    if (src == ~uint64_t{0}) return 0;  // x % -1 is 0, and INT64_MIN % -1 would trap in C++
    return static_cast<U64>(static_cast<S64>(dst) % static_cast<S64>(src));
  }
  if constexpr (Op == AluOp::Xor) return dst ^ src;
  if constexpr (Op == AluOp::Mov) return src;
  if constexpr (Op == AluOp::Movsx8) return sext8<D>(src);
  if constexpr (Op == AluOp::Movsx16) return sext16<D>(src);
  if constexpr (Op == AluOp::Movsx32) return sext32<D>(src);
  if constexpr (Op == AluOp::Arsh) {
    // Arithmetic shift written without shifting a negative value (which is
    // implementation-defined before C++20 and trips some sanitizers).
    const typename D::U32 n = static_cast<typename D::U32>(src & 63);
    const U64 shifted = dst >> n;
    if ((dst & kMin) == 0 || n == 0) return shifted;
    return shifted | ~(~uint64_t{0} >> n);
  }
  return 0;
}

// 32-bit ALU: operates on the low halves; the result is zero-extended.
template <AluOp Op, class D = NativeDomain>
constexpr typename D::U64 alu32(typename D::U64 dst64, typename D::U64 src64) {
  using U32 = typename D::U32;
  using S32 = typename D::S32;
  const U32 dst = static_cast<U32>(dst64);
  const U32 src = static_cast<U32>(src64);
  constexpr uint32_t kMin = uint32_t{1} << 31;
  U32 r = 0;
  if constexpr (Op == AluOp::Add) r = dst + src;
  if constexpr (Op == AluOp::Sub) r = dst - src;
  if constexpr (Op == AluOp::Mul) r = static_cast<U32>(static_cast<typename D::U64>(dst) * src);
  if constexpr (Op == AluOp::Div) r = src == 0 ? 0 : dst / src;
  if constexpr (Op == AluOp::Sdiv) {
    if (src == 0) {
      r = 0;
    } else if (dst == kMin && src == ~uint32_t{0}) {
      r = kMin;
    } else {
      r = static_cast<U32>(static_cast<S32>(dst) / static_cast<S32>(src));
    }
  }
  if constexpr (Op == AluOp::Or) r = dst | src;
  if constexpr (Op == AluOp::And) r = dst & src;
  if constexpr (Op == AluOp::Lsh) r = dst << (src & 31);
  if constexpr (Op == AluOp::Rsh) r = dst >> (src & 31);
  if constexpr (Op == AluOp::Neg) r = uint32_t{0} - dst;
  if constexpr (Op == AluOp::Mod) r = src == 0 ? dst : dst % src;
  if constexpr (Op == AluOp::Smod) {
    if (src == 0) {
      r = dst;
    } else if (src == ~uint32_t{0}) {
      r = 0;
    } else {
      r = static_cast<U32>(static_cast<S32>(dst) % static_cast<S32>(src));
    }
  }
  if constexpr (Op == AluOp::Xor) r = dst ^ src;
  if constexpr (Op == AluOp::Mov) r = src;
  if constexpr (Op == AluOp::Movsx8) r = static_cast<U32>(sext8<D>(src));
  if constexpr (Op == AluOp::Movsx16) r = static_cast<U32>(sext16<D>(src));
  if constexpr (Op == AluOp::Movsx32) r = src;  // no ALU32 movsx32 form exists; kept total
  if constexpr (Op == AluOp::Arsh) {
    const U32 n = src & 31;
    const U32 shifted = dst >> n;
    r = ((dst & kMin) == 0 || n == 0) ? shifted : (shifted | ~(~uint32_t{0} >> n));
  }
  return r;
}

template <EndianOp Op, unsigned Bits, class D = NativeDomain>
constexpr typename D::U64 endian(typename D::U64 v) {
  using U16 = typename D::U16;
  using U32 = typename D::U32;
  // The VM runs on little-endian hosts only (x86-64), so "to little endian"
  // truncates and "to big endian" swaps; bswap always swaps.
  if constexpr (Op == EndianOp::ToLe) {
    if constexpr (Bits == 16) return static_cast<U16>(v);
    if constexpr (Bits == 32) return static_cast<U32>(v);
    return v;
  } else {
    if constexpr (Bits == 16) return bswap16<D>(static_cast<U16>(v));
    if constexpr (Bits == 32) return bswap32<D>(static_cast<U32>(v));
    return bswap64<D>(v);
  }
}

template <JmpCond C, Width W, class D = NativeDomain>
constexpr typename D::Bool condition(typename D::U64 a64, typename D::U64 b64) {
  if constexpr (W == Width::W32) {
    using U32 = typename D::U32;
    using S32 = typename D::S32;
    const U32 a = static_cast<U32>(a64), b = static_cast<U32>(b64);
    const S32 sa = static_cast<S32>(a), sb = static_cast<S32>(b);
    if constexpr (C == JmpCond::Always) return true;
    if constexpr (C == JmpCond::Eq) return a == b;
    if constexpr (C == JmpCond::Gt) return a > b;
    if constexpr (C == JmpCond::Ge) return a >= b;
    if constexpr (C == JmpCond::Set) return (a & b) != 0;
    if constexpr (C == JmpCond::Ne) return a != b;
    if constexpr (C == JmpCond::Sgt) return sa > sb;
    if constexpr (C == JmpCond::Sge) return sa >= sb;
    if constexpr (C == JmpCond::Lt) return a < b;
    if constexpr (C == JmpCond::Le) return a <= b;
    if constexpr (C == JmpCond::Slt) return sa < sb;
    if constexpr (C == JmpCond::Sle) return sa <= sb;
  } else {
    using U64 = typename D::U64;
    using S64 = typename D::S64;
    const U64 a = a64, b = b64;
    const S64 sa = static_cast<S64>(a), sb = static_cast<S64>(b);
    if constexpr (C == JmpCond::Always) return true;
    if constexpr (C == JmpCond::Eq) return a == b;
    if constexpr (C == JmpCond::Gt) return a > b;
    if constexpr (C == JmpCond::Ge) return a >= b;
    if constexpr (C == JmpCond::Set) return (a & b) != 0;
    if constexpr (C == JmpCond::Ne) return a != b;
    if constexpr (C == JmpCond::Sgt) return sa > sb;
    if constexpr (C == JmpCond::Sge) return sa >= sb;
    if constexpr (C == JmpCond::Lt) return a < b;
    if constexpr (C == JmpCond::Le) return a <= b;
    if constexpr (C == JmpCond::Slt) return sa < sb;
    if constexpr (C == JmpCond::Sle) return sa <= sb;
  }
  return false;
}

}  // namespace bpfdiff::vm::sem
