#pragma once
// Internal to the assembler's .cpp files: a fixed-size buffer for one
// instruction and the two layouts nearly every form uses (ModRM-encoded and
// register-in-opcode). Prefix order is fixed: operand size, lock, REX (the
// order GNU as uses), which the golden tests pin down.
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "vm/jit/x86/assembler.hpp"
#include "vm/jit/x86/encoding.hpp"

namespace bpfdiff::jit::x86::detail {

struct Prefix {
  bool lock = false;
  bool op16 = false;  // 0x66
  bool rex_w = false;
  bool force_rex = false;  // a byte operand is spl, bpl, sil or dil
};

constexpr Prefix sized(Width w, bool force_rex = false) {
  return Prefix{false, w == Width::W16, w == Width::W64, force_rex};
}

class Inst {
 public:
  void byte(uint8_t b) { bytes_[len_++] = b; }
  // Little-endian, `n` bytes of `v` (truncating).
  void imm(uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i)
      byte(static_cast<uint8_t>(v >> (8 * i)));
  }
  void imm_signed(int64_t v, unsigned n) { imm(static_cast<uint64_t>(v), n); }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return len_; }

 private:
  std::array<uint8_t, kMaxInstructionLength> bytes_{};
  uint8_t len_ = 0;
};

inline void put_prefixes(Inst& out, const Prefix& p, bool r, bool x, bool b) {
  if (p.op16) out.byte(0x66);
  if (p.lock) out.byte(0xF0);
  if (p.rex_w || r || x || b || p.force_rex) out.byte(enc::rex(p.rex_w, r, x, b));
}

// prefixes, opcode, ModRM [SIB] [disp]; the caller appends any immediate.
inline Inst rm_form(const Prefix& p, std::initializer_list<uint8_t> opcode, const enc::ModRmBytes& rm) {
  Inst out;
  put_prefixes(out, p, rm.rex_r, rm.rex_x, rm.rex_b);
  for (uint8_t op : opcode)
    out.byte(op);
  for (uint8_t i = 0; i < rm.len; ++i)
    out.byte(rm.bytes[i]);
  return out;
}

// prefixes, escape bytes, base opcode + low three bits of `r` (REX.B for r8..r15).
inline Inst o_form(const Prefix& p, std::initializer_list<uint8_t> escape, uint8_t base, Reg r) {
  Inst out;
  put_prefixes(out, p, false, false, is_extended(r));
  for (uint8_t op : escape)
    out.byte(op);
  out.byte(static_cast<uint8_t>(base + low3(r)));
  return out;
}

}  // namespace bpfdiff::jit::x86::detail
