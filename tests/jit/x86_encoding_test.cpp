// The pure REX / ModRM / SIB / displacement helpers, on their own.
#include "vm/jit/x86/encoding.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>

#include "tests/jit/x86_test_util.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using enum Reg;

std::string hex(const enc::ModRmBytes& b) {
  return testutil::to_hex(std::span(b.bytes.data(), b.len));
}

TEST(X86Encoding, PrefixAndFieldBytes) {
  static_assert(enc::rex(false, false, false, false) == 0x40);
  static_assert(enc::rex(true, false, false, false) == 0x48);
  static_assert(enc::rex(true, true, true, true) == 0x4F);
  static_assert(enc::rex(false, true, false, true) == 0x45);
  static_assert(enc::modrm(3, 0, 1) == 0xC1);
  static_assert(enc::modrm(1, 7, 4) == 0x7C);
  static_assert(enc::modrm(0, 9, 13) == 0x0D);  // only the low three bits of each field
  static_assert(enc::sib(Scale::S8, 1, 0) == 0xC8);
  static_assert(enc::sib(Scale::S1, 4, 4) == 0x24);
  SUCCEED();
}

TEST(X86Encoding, RegisterPredicates) {
  static_assert(low3(r13) == 5 && is_extended(r13) && !is_extended(rbp));
  static_assert(needs_rex_as_byte(rsp) && needs_rex_as_byte(rdi) && !needs_rex_as_byte(rbx) &&
                !needs_rex_as_byte(r8));
  static_assert(negate(Cond::e) == Cond::ne && negate(Cond::l) == Cond::ge && negate(Cond::a) == Cond::be);
  EXPECT_EQ(name(rsi, Width::W8), "sil");
  EXPECT_EQ(name(r9, Width::W16), "r9w");
  EXPECT_EQ(name(r12, Width::W32), "r12d");
  EXPECT_EQ(name(Cond::ae), "ae");
}

TEST(X86Encoding, DisplacementSizeFollowsBaseAndValue) {
  using enc::DispSize;
  EXPECT_EQ(enc::disp_size(mem(rax)), DispSize::None);
  EXPECT_EQ(enc::disp_size(mem(rsp)), DispSize::None);
  EXPECT_EQ(enc::disp_size(mem(r12)), DispSize::None);
  EXPECT_EQ(enc::disp_size(mem(rbp)), DispSize::D8);  // mod 00 + rm 101 would mean RIP-relative
  EXPECT_EQ(enc::disp_size(mem(r13)), DispSize::D8);
  EXPECT_EQ(enc::disp_size(mem(rax, 127)), DispSize::D8);
  EXPECT_EQ(enc::disp_size(mem(rax, -128)), DispSize::D8);
  EXPECT_EQ(enc::disp_size(mem(rax, 128)), DispSize::D32);
  EXPECT_EQ(enc::disp_size(mem(rax, -129)), DispSize::D32);
  EXPECT_FALSE(enc::needs_sib(mem(rbp)));
  EXPECT_TRUE(enc::needs_sib(mem(rsp)));
  EXPECT_TRUE(enc::needs_sib(mem(r12)));
  EXPECT_TRUE(enc::needs_sib(mem(rax, rcx, Scale::S1)));
}

TEST(X86Encoding, ModRmForRegisters) {
  const auto b = enc::modrm_reg(number(r9), rsi);
  EXPECT_EQ(hex(b), "ce");
  EXPECT_TRUE(b.rex_r);
  EXPECT_FALSE(b.rex_b);
  const auto d = enc::modrm_reg(7, r15);  // a /digit extension
  EXPECT_EQ(hex(d), "ff");
  EXPECT_FALSE(d.rex_r);
  EXPECT_TRUE(d.rex_b);
}

TEST(X86Encoding, ModRmForMemoryShapes) {
  EXPECT_EQ(hex(enc::modrm_mem(0, mem(rax))), "00");
  EXPECT_EQ(hex(enc::modrm_mem(0, mem(rsp))), "0424");
  EXPECT_EQ(hex(enc::modrm_mem(0, mem(r12))), "0424");
  EXPECT_EQ(hex(enc::modrm_mem(0, mem(rbp))), "4500");
  EXPECT_EQ(hex(enc::modrm_mem(0, mem(r13))), "4500");
  EXPECT_EQ(hex(enc::modrm_mem(1, mem(rbp, -8))), "4df8");
  EXPECT_EQ(hex(enc::modrm_mem(2, mem(rsp, 0x100))), "942400010000");
  EXPECT_EQ(hex(enc::modrm_mem(3, mem(rdi, INT32_MIN))), "9f00000080");
  EXPECT_EQ(hex(enc::modrm_mem(0, mem(rax, rcx, Scale::S8))), "04c8");
  EXPECT_EQ(hex(enc::modrm_mem(0, mem(rbp, rsi, Scale::S1))), "443500");
  const auto x = enc::modrm_mem(number(r8), mem(r13, r12, Scale::S4, 0x10));
  EXPECT_EQ(hex(x), "44a510");
  EXPECT_TRUE(x.rex_r && x.rex_x && x.rex_b);
}

}  // namespace
}  // namespace bpfdiff::jit::x86
