// Register and memory moves, immediates, zero/sign extension and lea.
#include <limits>
#include <string_view>

#include "vm/jit/x86/assembler.hpp"
#include "vm/jit/x86/inst.hpp"
#include "vm/jit/x86/widths.hpp"

namespace bpfdiff::jit::x86 {

using detail::byte_rex;
using detail::imm_bytes;
using detail::imm_fits;
using detail::Inst;
using detail::o_form;
using detail::rm_form;
using detail::sized;
using detail::sized_opcode;

void Assembler::mov(Width w, Reg dst, Reg src) {
  if (!ok()) return;
  const auto p = sized(w, byte_rex(w, dst) || byte_rex(w, src));
  put(rm_form(p, {sized_opcode(w, 0x89)}, enc::modrm_reg(number(src), dst)));
}

void Assembler::mov(Width w, Reg dst, const Mem& src) {
  if (!check_mem("mov", src)) return;
  put(rm_form(sized(w, byte_rex(w, dst)), {sized_opcode(w, 0x8B)}, enc::modrm_mem(number(dst), src)));
}

void Assembler::mov(Width w, const Mem& dst, Reg src) {
  if (!check_mem("mov", dst)) return;
  put(rm_form(sized(w, byte_rex(w, src)), {sized_opcode(w, 0x89)}, enc::modrm_mem(number(src), dst)));
}

void Assembler::mov_imm(Width w, Reg dst, int32_t imm) {
  if (!require(imm_fits(w, imm), "mov", "immediate does not fit the operand size")) return;
  Inst out;
  switch (w) {
    case Width::W8:
      out = o_form(sized(w, byte_rex(w, dst)), {}, 0xB0, dst);
      break;
    case Width::W16:
    case Width::W32:
      out = o_form(sized(w), {}, 0xB8, dst);
      break;
    case Width::W64:
      // C7 /0 sign-extends its imm32: one byte longer than B8 but the only
      // way to load a negative 64-bit value without movabs.
      out = rm_form(sized(w), {0xC7}, enc::modrm_reg(0, dst));
      break;
  }
  out.imm_signed(imm, imm_bytes(w));
  put(out);
}

void Assembler::mov_imm(Width w, const Mem& dst, int32_t imm) {
  if (!check_mem("mov", dst) || !require(imm_fits(w, imm), "mov", "immediate does not fit the operand size"))
    return;
  Inst out = rm_form(sized(w), {sized_opcode(w, 0xC7)}, enc::modrm_mem(0, dst));
  out.imm_signed(imm, imm_bytes(w));
  put(out);
}

void Assembler::movabs(Reg dst, uint64_t imm) {
  if (!ok()) return;
  Inst out = o_form(sized(Width::W64), {}, 0xB8, dst);
  out.imm(imm, 8);
  put(out);
}

void Assembler::load_imm64(Reg dst, uint64_t imm) {
  if (imm <= std::numeric_limits<uint32_t>::max()) {
    mov_imm(Width::W32, dst, static_cast<int32_t>(static_cast<uint32_t>(imm)));
  } else if (enc::fits_int32(static_cast<int64_t>(imm))) {
    mov_imm(Width::W64, dst, static_cast<int32_t>(static_cast<int64_t>(imm)));
  } else {
    movabs(dst, imm);
  }
}

namespace {

// 0F B6/B7 (movzx) and 0F BE/BF (movsx) by source width; 0 when the source
// width has no such form.
constexpr uint8_t extend_opcode(Width src_w, uint8_t byte_form) {
  if (src_w == Width::W8) return byte_form;
  if (src_w == Width::W16) return static_cast<uint8_t>(byte_form + 1);
  return 0;
}

}  // namespace

void Assembler::movzx(Reg dst32, Width src_w, Reg src) {
  const uint8_t op = extend_opcode(src_w, 0xB6);
  if (!require(op != 0, "movzx", "source width must be W8 or W16")) return;
  put(rm_form(sized(Width::W32, byte_rex(src_w, src)), {0x0F, op}, enc::modrm_reg(number(dst32), src)));
}

void Assembler::movzx(Reg dst32, Width src_w, const Mem& src) {
  const uint8_t op = extend_opcode(src_w, 0xB6);
  if (!check_mem("movzx", src) || !require(op != 0, "movzx", "source width must be W8 or W16")) return;
  put(rm_form(sized(Width::W32), {0x0F, op}, enc::modrm_mem(number(dst32), src)));
}

namespace {

// Why a movsx width pair has no encoding, or empty when it has one.
constexpr std::string_view movsx_width_error(Width dst_w, Width src_w) {
  if (!detail::is_w32_or_w64(dst_w)) return "destination width must be W32 or W64";
  if (src_w == Width::W64 || (src_w == Width::W32 && dst_w != Width::W64))
    return "source must be narrower than the destination (W32 source needs W64 destination)";
  return {};
}

}  // namespace

void Assembler::movsx(Width dst_w, Reg dst, Width src_w, Reg src) {
  const std::string_view why = movsx_width_error(dst_w, src_w);
  if (!require(why.empty(), "movsx", why)) return;
  const auto rm = enc::modrm_reg(number(dst), src);
  if (src_w == Width::W32) {
    put(rm_form(sized(dst_w), {0x63}, rm));  // movsxd
  } else {
    put(rm_form(sized(dst_w, byte_rex(src_w, src)), {0x0F, extend_opcode(src_w, 0xBE)}, rm));
  }
}

void Assembler::movsx(Width dst_w, Reg dst, Width src_w, const Mem& src) {
  const std::string_view why = movsx_width_error(dst_w, src_w);
  if (!check_mem("movsx", src) || !require(why.empty(), "movsx", why)) return;
  const auto rm = enc::modrm_mem(number(dst), src);
  if (src_w == Width::W32) {
    put(rm_form(sized(dst_w), {0x63}, rm));  // movsxd
  } else {
    put(rm_form(sized(dst_w), {0x0F, extend_opcode(src_w, 0xBE)}, rm));
  }
}

void Assembler::lea(Width w, Reg dst, const Mem& src) {
  if (!check_mem("lea", src) || !require(detail::is_w32_or_w64(w), "lea", "width must be W32 or W64")) return;
  put(rm_form(sized(w), {0x8D}, enc::modrm_mem(number(dst), src)));
}

}  // namespace bpfdiff::jit::x86
