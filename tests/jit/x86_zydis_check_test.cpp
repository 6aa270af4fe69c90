// The Zydis checker is the oracle for the sweeps, so it gets tests of its
// own: a wrong mnemonic, register, width, displacement, immediate, lock or
// length must each be reported.
#include "tests/jit/x86_zydis_check.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace bpfdiff::jit::x86 {
namespace {

using namespace testutil;
using enum Reg;
using enum Width;

TEST(X86ZydisCheck, AcceptsAMatchAndReportsEachKindOfMismatch) {
  const std::vector<uint8_t> load = {0x48, 0x8b, 0x45, 0xf8};  // mov rax, [rbp-8]
  const Mem m = mem(rbp, -8);
  EXPECT_EQ(check_decoded(load, {ZYDIS_MNEMONIC_MOV, {reg_op(rax, W64), mem_op(m, W64)}}), "");
  EXPECT_NE(check_decoded(load, {ZYDIS_MNEMONIC_ADD, {reg_op(rax, W64), mem_op(m, W64)}}), "");
  EXPECT_NE(check_decoded(load, {ZYDIS_MNEMONIC_MOV, {reg_op(rcx, W64), mem_op(m, W64)}}), "");
  EXPECT_NE(check_decoded(load, {ZYDIS_MNEMONIC_MOV, {reg_op(rax, W32), mem_op(m, W64)}}), "");
  EXPECT_NE(check_decoded(load, {ZYDIS_MNEMONIC_MOV, {reg_op(rax, W64), mem_op(m, W32)}}), "");
  EXPECT_NE(check_decoded(load, {ZYDIS_MNEMONIC_MOV, {reg_op(rax, W64), mem_op(mem(rbp, 8), W64)}}), "");
  EXPECT_NE(check_decoded(load, {ZYDIS_MNEMONIC_MOV, {reg_op(rax, W64), mem_op(mem(r13, -8), W64)}}), "");
  EXPECT_NE(check_decoded(load, {ZYDIS_MNEMONIC_MOV, {reg_op(rax, W64)}}), "");
  EXPECT_NE(check_decoded(load, {ZYDIS_MNEMONIC_MOV, {reg_op(rax, W64), mem_op(m, W64)}, true}), "");

  const std::vector<uint8_t> trailing = {0x48, 0x8b, 0x45, 0xf8, 0x90};
  EXPECT_NE(check_decoded(trailing, {ZYDIS_MNEMONIC_MOV, {reg_op(rax, W64), mem_op(m, W64)}}), "");

  const std::vector<uint8_t> add = {0x48, 0x83, 0xc1, 0xff};  // add rcx, -1
  EXPECT_EQ(check_decoded(add, {ZYDIS_MNEMONIC_ADD, {reg_op(rcx, W64), imm_op(-1, 64)}}), "");
  EXPECT_NE(check_decoded(add, {ZYDIS_MNEMONIC_ADD, {reg_op(rcx, W64), imm_op(0xff, 64)}}), "");

  const std::vector<uint8_t> jmp = {0xeb, 0xfe};
  EXPECT_EQ(check_decoded(jmp, {ZYDIS_MNEMONIC_JMP, {rel_op(-2)}}), "");
  EXPECT_NE(check_decoded(jmp, {ZYDIS_MNEMONIC_JMP, {rel_op(0)}}), "");
  EXPECT_NE(check_decoded(jmp, {ZYDIS_MNEMONIC_JMP, {imm_op(-2, 8)}}), "");

  const std::vector<uint8_t> setne_sil = {0x40, 0x0f, 0x95, 0xc6};
  EXPECT_EQ(check_decoded(setne_sil, {ZYDIS_MNEMONIC_SETNZ, {reg_op(rsi, W8)}}), "");
  const std::vector<uint8_t> setne_dh = {0x0f, 0x95, 0xc6};  // without REX the same ModRM names dh
  EXPECT_NE(check_decoded(setne_dh, {ZYDIS_MNEMONIC_SETNZ, {reg_op(rsi, W8)}}), "");

  EXPECT_NE(check_decoded(std::vector<uint8_t>{0x0f}, {ZYDIS_MNEMONIC_UD2, {}}), "");
}

}  // namespace
}  // namespace bpfdiff::jit::x86
