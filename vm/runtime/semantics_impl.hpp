#pragma once
// The RFC 9669 meaning of the pure (register-only) operations: ALU, byte
// order and jump conditions. One definition used by the interpreter, the
// constant folding of tests and, as the reference the Z3 model is checked
// against, by the SMT issue. All arithmetic is on unsigned types, so nothing
// here is undefined behaviour in C++.
#include <cstdint>

#include "vm/isa/semantics.hpp"

namespace bpfdiff::vm::sem {

using isa::AluOp;
using isa::EndianOp;
using isa::JmpCond;
using isa::Width;

constexpr uint64_t sext8(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(v)));
}
constexpr uint64_t sext16(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(v)));
}
constexpr uint64_t sext32(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
}

constexpr uint16_t bswap16(uint16_t v) {
  return static_cast<uint16_t>((v >> 8) | (v << 8));
}
constexpr uint32_t bswap32(uint32_t v) {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24);
}
constexpr uint64_t bswap64(uint64_t v) {
  return (static_cast<uint64_t>(bswap32(static_cast<uint32_t>(v))) << 32) |
         bswap32(static_cast<uint32_t>(v >> 32));
}

// 64-bit ALU: dst op src. `src` is the register or the sign-extended imm.
template <AluOp Op>
constexpr uint64_t alu64(uint64_t dst, uint64_t src) {
  constexpr uint64_t kMin = uint64_t{1} << 63;
  if constexpr (Op == AluOp::Add) return dst + src;
  if constexpr (Op == AluOp::Sub) return dst - src;
  if constexpr (Op == AluOp::Mul) return dst * src;
  if constexpr (Op == AluOp::Div) return src == 0 ? 0 : dst / src;
  if constexpr (Op == AluOp::Sdiv) {
    if (src == 0) return 0;
    if (dst == kMin && src == ~uint64_t{0}) return kMin;  // INT64_MIN / -1 overflows: result is INT64_MIN
    return static_cast<uint64_t>(static_cast<int64_t>(dst) / static_cast<int64_t>(src));
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
    return static_cast<uint64_t>(static_cast<int64_t>(dst) % static_cast<int64_t>(src));
  }
  if constexpr (Op == AluOp::Xor) return dst ^ src;
  if constexpr (Op == AluOp::Mov) return src;
  if constexpr (Op == AluOp::Movsx8) return sext8(src);
  if constexpr (Op == AluOp::Movsx16) return sext16(src);
  if constexpr (Op == AluOp::Movsx32) return sext32(src);
  if constexpr (Op == AluOp::Arsh) {
    // Arithmetic shift written without shifting a negative value (which is
    // implementation-defined before C++20 and trips some sanitizers).
    const unsigned n = static_cast<unsigned>(src & 63);
    const uint64_t shifted = dst >> n;
    if ((dst & kMin) == 0 || n == 0) return shifted;
    return shifted | ~(~uint64_t{0} >> n);
  }
  return 0;
}

// 32-bit ALU: operates on the low halves; the result is zero-extended.
template <AluOp Op>
constexpr uint64_t alu32(uint64_t dst64, uint64_t src64) {
  const uint32_t dst = static_cast<uint32_t>(dst64);
  const uint32_t src = static_cast<uint32_t>(src64);
  constexpr uint32_t kMin = uint32_t{1} << 31;
  uint32_t r = 0;
  if constexpr (Op == AluOp::Add) r = dst + src;
  if constexpr (Op == AluOp::Sub) r = dst - src;
  if constexpr (Op == AluOp::Mul) r = static_cast<uint32_t>(uint64_t{dst} * src);
  if constexpr (Op == AluOp::Div) r = src == 0 ? 0 : dst / src;
  if constexpr (Op == AluOp::Sdiv) {
    if (src == 0) {
      r = 0;
    } else if (dst == kMin && src == ~uint32_t{0}) {
      r = kMin;
    } else {
      r = static_cast<uint32_t>(static_cast<int32_t>(dst) / static_cast<int32_t>(src));
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
      r = static_cast<uint32_t>(static_cast<int32_t>(dst) % static_cast<int32_t>(src));
    }
  }
  if constexpr (Op == AluOp::Xor) r = dst ^ src;
  if constexpr (Op == AluOp::Mov) r = src;
  if constexpr (Op == AluOp::Movsx8) r = static_cast<uint32_t>(sext8(src));
  if constexpr (Op == AluOp::Movsx16) r = static_cast<uint32_t>(sext16(src));
  if constexpr (Op == AluOp::Movsx32) r = src;  // no ALU32 movsx32 form exists; kept total
  if constexpr (Op == AluOp::Arsh) {
    const unsigned n = src & 31;
    const uint32_t shifted = dst >> n;
    r = ((dst & kMin) == 0 || n == 0) ? shifted : (shifted | ~(~uint32_t{0} >> n));
  }
  return r;
}

template <EndianOp Op, unsigned Bits>
constexpr uint64_t endian(uint64_t v) {
  // The VM runs on little-endian hosts only (x86-64), so "to little endian"
  // truncates and "to big endian" swaps; bswap always swaps.
  if constexpr (Op == EndianOp::ToLe) {
    if constexpr (Bits == 16) return static_cast<uint16_t>(v);
    if constexpr (Bits == 32) return static_cast<uint32_t>(v);
    return v;
  } else {
    if constexpr (Bits == 16) return bswap16(static_cast<uint16_t>(v));
    if constexpr (Bits == 32) return bswap32(static_cast<uint32_t>(v));
    return bswap64(v);
  }
}

template <JmpCond C, Width W>
constexpr bool condition(uint64_t a64, uint64_t b64) {
  if constexpr (W == Width::W32) {
    const uint32_t a = static_cast<uint32_t>(a64), b = static_cast<uint32_t>(b64);
    const int32_t sa = static_cast<int32_t>(a), sb = static_cast<int32_t>(b);
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
    const uint64_t a = a64, b = b64;
    const int64_t sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
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
