#pragma once
// Decodes emitted bytes with Zydis and compares the instruction with what
// the test asked for: one instruction covering every byte, the expected
// mnemonic, lock prefix and visible operands (registers at their width,
// memory base/index/scale/displacement/size, immediates, branch offsets).
#include <Zydis/Zydis.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vm/jit/x86/operands.hpp"
#include "vm/jit/x86/registers.hpp"

namespace bpfdiff::jit::x86::testutil {

struct ExpectedOperand {
  enum class Kind : uint8_t { Reg, Mem, Agen, Imm, Rel };
  Kind kind = Kind::Reg;
  Reg reg = Reg::rax;
  Width width = Width::W64;  // register width, or memory access size
  Mem mem{};
  int64_t imm = 0;  // Imm: compared in the low `imm_bits` bits; Rel: exact
  unsigned imm_bits = 64;
};

inline ExpectedOperand reg_op(Reg r, Width w) {
  return {ExpectedOperand::Kind::Reg, r, w, {}, 0, 0};
}
inline ExpectedOperand mem_op(const Mem& m, Width w) {
  return {ExpectedOperand::Kind::Mem, Reg::rax, w, m, 0, 0};
}
// An address computation (lea): no access size.
inline ExpectedOperand agen_op(const Mem& m) {
  return {ExpectedOperand::Kind::Agen, Reg::rax, Width::W64, m, 0, 0};
}
inline ExpectedOperand imm_op(int64_t v, unsigned bits) {
  return {ExpectedOperand::Kind::Imm, Reg::rax, Width::W64, {}, v, bits};
}
inline ExpectedOperand rel_op(int64_t disp) {
  return {ExpectedOperand::Kind::Rel, Reg::rax, Width::W64, {}, disp, 64};
}

struct Expected {
  ZydisMnemonic mnemonic = ZYDIS_MNEMONIC_INVALID;
  std::vector<ExpectedOperand> operands;
  bool lock = false;
};

ZydisRegister zydis_reg(Reg r, Width w);

// Empty when `code` is exactly one instruction matching `expected`;
// otherwise what differs.
std::string check_decoded(std::span<const uint8_t> code, const Expected& expected);

std::string describe(const Expected& expected);

}  // namespace bpfdiff::jit::x86::testutil
