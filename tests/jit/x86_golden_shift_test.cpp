// Golden bytes for shifts, rotates, BMI2 shifts and bswap.
// Bytes come from the encoding rules and were checked against GNU as; lines
// marked (... not ...) pin a choice where another valid encoding exists.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/jit/x86_test_util.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using enum Reg;
using enum Width;

TEST(X86GoldenShift, ShiftImmediate) {
  EXPECT_BYTES("c0c003", a.shift_imm(ShiftOp::Rol, W8, rax, 3));        // rol al, 3
  EXPECT_BYTES("40c0c501", a.shift_imm(ShiftOp::Rol, W8, rbp, 1));      // rol bpl, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("66c1c703", a.shift_imm(ShiftOp::Rol, W16, rdi, 3));     // rol di, 3
  EXPECT_BYTES("66c1c501", a.shift_imm(ShiftOp::Rol, W16, rbp, 1));     // rol bp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("41c1c103", a.shift_imm(ShiftOp::Rol, W32, r9, 3));      // rol r9d, 3
  EXPECT_BYTES("c1c501", a.shift_imm(ShiftOp::Rol, W32, rbp, 1));       // rol ebp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("48c1c603", a.shift_imm(ShiftOp::Rol, W64, rsi, 3));     // rol rsi, 3
  EXPECT_BYTES("48c1c501", a.shift_imm(ShiftOp::Rol, W64, rbp, 1));     // rol rbp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("49c1c43f", a.shift_imm(ShiftOp::Rol, W64, r12, 63));    // rol r12, 63
  EXPECT_BYTES("41c1c41f", a.shift_imm(ShiftOp::Rol, W32, r12, 31));    // rol r12d, 31
  EXPECT_BYTES("6641c1c40f", a.shift_imm(ShiftOp::Rol, W16, r12, 15));  // rol r12w, 15
  EXPECT_BYTES("41c0c407", a.shift_imm(ShiftOp::Rol, W8, r12, 7));      // rol r12b, 7
  EXPECT_BYTES("c0c803", a.shift_imm(ShiftOp::Ror, W8, rax, 3));        // ror al, 3
  EXPECT_BYTES("40c0cd01", a.shift_imm(ShiftOp::Ror, W8, rbp, 1));      // ror bpl, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("66c1cf03", a.shift_imm(ShiftOp::Ror, W16, rdi, 3));     // ror di, 3
  EXPECT_BYTES("66c1cd01", a.shift_imm(ShiftOp::Ror, W16, rbp, 1));     // ror bp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("41c1c903", a.shift_imm(ShiftOp::Ror, W32, r9, 3));      // ror r9d, 3
  EXPECT_BYTES("c1cd01", a.shift_imm(ShiftOp::Ror, W32, rbp, 1));       // ror ebp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("48c1ce03", a.shift_imm(ShiftOp::Ror, W64, rsi, 3));     // ror rsi, 3
  EXPECT_BYTES("48c1cd01", a.shift_imm(ShiftOp::Ror, W64, rbp, 1));     // ror rbp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("49c1cc3f", a.shift_imm(ShiftOp::Ror, W64, r12, 63));    // ror r12, 63
  EXPECT_BYTES("41c1cc1f", a.shift_imm(ShiftOp::Ror, W32, r12, 31));    // ror r12d, 31
  EXPECT_BYTES("6641c1cc0f", a.shift_imm(ShiftOp::Ror, W16, r12, 15));  // ror r12w, 15
  EXPECT_BYTES("41c0cc07", a.shift_imm(ShiftOp::Ror, W8, r12, 7));      // ror r12b, 7
  EXPECT_BYTES("c0e003", a.shift_imm(ShiftOp::Shl, W8, rax, 3));        // shl al, 3
  EXPECT_BYTES("40c0e501", a.shift_imm(ShiftOp::Shl, W8, rbp, 1));      // shl bpl, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("66c1e703", a.shift_imm(ShiftOp::Shl, W16, rdi, 3));     // shl di, 3
  EXPECT_BYTES("66c1e501", a.shift_imm(ShiftOp::Shl, W16, rbp, 1));     // shl bp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("41c1e103", a.shift_imm(ShiftOp::Shl, W32, r9, 3));      // shl r9d, 3
  EXPECT_BYTES("c1e501", a.shift_imm(ShiftOp::Shl, W32, rbp, 1));       // shl ebp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("48c1e603", a.shift_imm(ShiftOp::Shl, W64, rsi, 3));     // shl rsi, 3
  EXPECT_BYTES("48c1e501", a.shift_imm(ShiftOp::Shl, W64, rbp, 1));     // shl rbp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("49c1e43f", a.shift_imm(ShiftOp::Shl, W64, r12, 63));    // shl r12, 63
  EXPECT_BYTES("41c1e41f", a.shift_imm(ShiftOp::Shl, W32, r12, 31));    // shl r12d, 31
  EXPECT_BYTES("6641c1e40f", a.shift_imm(ShiftOp::Shl, W16, r12, 15));  // shl r12w, 15
  EXPECT_BYTES("41c0e407", a.shift_imm(ShiftOp::Shl, W8, r12, 7));      // shl r12b, 7
  EXPECT_BYTES("c0e803", a.shift_imm(ShiftOp::Shr, W8, rax, 3));        // shr al, 3
  EXPECT_BYTES("40c0ed01", a.shift_imm(ShiftOp::Shr, W8, rbp, 1));      // shr bpl, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("66c1ef03", a.shift_imm(ShiftOp::Shr, W16, rdi, 3));     // shr di, 3
  EXPECT_BYTES("66c1ed01", a.shift_imm(ShiftOp::Shr, W16, rbp, 1));     // shr bp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("41c1e903", a.shift_imm(ShiftOp::Shr, W32, r9, 3));      // shr r9d, 3
  EXPECT_BYTES("c1ed01", a.shift_imm(ShiftOp::Shr, W32, rbp, 1));       // shr ebp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("48c1ee03", a.shift_imm(ShiftOp::Shr, W64, rsi, 3));     // shr rsi, 3
  EXPECT_BYTES("48c1ed01", a.shift_imm(ShiftOp::Shr, W64, rbp, 1));     // shr rbp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("49c1ec3f", a.shift_imm(ShiftOp::Shr, W64, r12, 63));    // shr r12, 63
  EXPECT_BYTES("41c1ec1f", a.shift_imm(ShiftOp::Shr, W32, r12, 31));    // shr r12d, 31
  EXPECT_BYTES("6641c1ec0f", a.shift_imm(ShiftOp::Shr, W16, r12, 15));  // shr r12w, 15
  EXPECT_BYTES("41c0ec07", a.shift_imm(ShiftOp::Shr, W8, r12, 7));      // shr r12b, 7
  EXPECT_BYTES("c0f803", a.shift_imm(ShiftOp::Sar, W8, rax, 3));        // sar al, 3
  EXPECT_BYTES("40c0fd01", a.shift_imm(ShiftOp::Sar, W8, rbp, 1));      // sar bpl, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("66c1ff03", a.shift_imm(ShiftOp::Sar, W16, rdi, 3));     // sar di, 3
  EXPECT_BYTES("66c1fd01", a.shift_imm(ShiftOp::Sar, W16, rbp, 1));     // sar bp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("41c1f903", a.shift_imm(ShiftOp::Sar, W32, r9, 3));      // sar r9d, 3
  EXPECT_BYTES("c1fd01", a.shift_imm(ShiftOp::Sar, W32, rbp, 1));       // sar ebp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("48c1fe03", a.shift_imm(ShiftOp::Sar, W64, rsi, 3));     // sar rsi, 3
  EXPECT_BYTES("48c1fd01", a.shift_imm(ShiftOp::Sar, W64, rbp, 1));     // sar rbp, 1 (C1 /n ib, not D1)
  EXPECT_BYTES("49c1fc3f", a.shift_imm(ShiftOp::Sar, W64, r12, 63));    // sar r12, 63
  EXPECT_BYTES("41c1fc1f", a.shift_imm(ShiftOp::Sar, W32, r12, 31));    // sar r12d, 31
  EXPECT_BYTES("6641c1fc0f", a.shift_imm(ShiftOp::Sar, W16, r12, 15));  // sar r12w, 15
  EXPECT_BYTES("41c0fc07", a.shift_imm(ShiftOp::Sar, W8, r12, 7));      // sar r12b, 7
  EXPECT_BYTES("66c1c808", a.ror_imm(W16, rax, 8));                     // ror ax, 8
  EXPECT_BYTES("6641c1cb08", a.ror_imm(W16, r11, 8));                   // ror r11w, 8
  EXPECT_BYTES("66c1c608", a.rol_imm(W16, rsi, 8));                     // rol si, 8
  EXPECT_BYTES("49c1e620", a.shl_imm(W64, r14, 32));                    // shl r14, 32
  EXPECT_BYTES("49c1ee20", a.shr_imm(W64, r14, 32));                    // shr r14, 32
  EXPECT_BYTES("49c1fe20", a.sar_imm(W64, r14, 32));                    // sar r14, 32
}

TEST(X86GoldenShift, ShiftByCl) {
  EXPECT_BYTES("d2c0", a.shift_cl(ShiftOp::Rol, W8, rax));       // rol al, cl
  EXPECT_BYTES("41d2c7", a.shift_cl(ShiftOp::Rol, W8, r15));     // rol r15b, cl
  EXPECT_BYTES("66d3c6", a.shift_cl(ShiftOp::Rol, W16, rsi));    // rol si, cl
  EXPECT_BYTES("6641d3c7", a.shift_cl(ShiftOp::Rol, W16, r15));  // rol r15w, cl
  EXPECT_BYTES("41d3c0", a.shift_cl(ShiftOp::Rol, W32, r8));     // rol r8d, cl
  EXPECT_BYTES("41d3c7", a.shift_cl(ShiftOp::Rol, W32, r15));    // rol r15d, cl
  EXPECT_BYTES("48d3c7", a.shift_cl(ShiftOp::Rol, W64, rdi));    // rol rdi, cl
  EXPECT_BYTES("49d3c7", a.shift_cl(ShiftOp::Rol, W64, r15));    // rol r15, cl
  EXPECT_BYTES("d2c8", a.shift_cl(ShiftOp::Ror, W8, rax));       // ror al, cl
  EXPECT_BYTES("41d2cf", a.shift_cl(ShiftOp::Ror, W8, r15));     // ror r15b, cl
  EXPECT_BYTES("66d3ce", a.shift_cl(ShiftOp::Ror, W16, rsi));    // ror si, cl
  EXPECT_BYTES("6641d3cf", a.shift_cl(ShiftOp::Ror, W16, r15));  // ror r15w, cl
  EXPECT_BYTES("41d3c8", a.shift_cl(ShiftOp::Ror, W32, r8));     // ror r8d, cl
  EXPECT_BYTES("41d3cf", a.shift_cl(ShiftOp::Ror, W32, r15));    // ror r15d, cl
  EXPECT_BYTES("48d3cf", a.shift_cl(ShiftOp::Ror, W64, rdi));    // ror rdi, cl
  EXPECT_BYTES("49d3cf", a.shift_cl(ShiftOp::Ror, W64, r15));    // ror r15, cl
  EXPECT_BYTES("d2e0", a.shift_cl(ShiftOp::Shl, W8, rax));       // shl al, cl
  EXPECT_BYTES("41d2e7", a.shift_cl(ShiftOp::Shl, W8, r15));     // shl r15b, cl
  EXPECT_BYTES("66d3e6", a.shift_cl(ShiftOp::Shl, W16, rsi));    // shl si, cl
  EXPECT_BYTES("6641d3e7", a.shift_cl(ShiftOp::Shl, W16, r15));  // shl r15w, cl
  EXPECT_BYTES("41d3e0", a.shift_cl(ShiftOp::Shl, W32, r8));     // shl r8d, cl
  EXPECT_BYTES("41d3e7", a.shift_cl(ShiftOp::Shl, W32, r15));    // shl r15d, cl
  EXPECT_BYTES("48d3e7", a.shift_cl(ShiftOp::Shl, W64, rdi));    // shl rdi, cl
  EXPECT_BYTES("49d3e7", a.shift_cl(ShiftOp::Shl, W64, r15));    // shl r15, cl
  EXPECT_BYTES("d2e8", a.shift_cl(ShiftOp::Shr, W8, rax));       // shr al, cl
  EXPECT_BYTES("41d2ef", a.shift_cl(ShiftOp::Shr, W8, r15));     // shr r15b, cl
  EXPECT_BYTES("66d3ee", a.shift_cl(ShiftOp::Shr, W16, rsi));    // shr si, cl
  EXPECT_BYTES("6641d3ef", a.shift_cl(ShiftOp::Shr, W16, r15));  // shr r15w, cl
  EXPECT_BYTES("41d3e8", a.shift_cl(ShiftOp::Shr, W32, r8));     // shr r8d, cl
  EXPECT_BYTES("41d3ef", a.shift_cl(ShiftOp::Shr, W32, r15));    // shr r15d, cl
  EXPECT_BYTES("48d3ef", a.shift_cl(ShiftOp::Shr, W64, rdi));    // shr rdi, cl
  EXPECT_BYTES("49d3ef", a.shift_cl(ShiftOp::Shr, W64, r15));    // shr r15, cl
  EXPECT_BYTES("d2f8", a.shift_cl(ShiftOp::Sar, W8, rax));       // sar al, cl
  EXPECT_BYTES("41d2ff", a.shift_cl(ShiftOp::Sar, W8, r15));     // sar r15b, cl
  EXPECT_BYTES("66d3fe", a.shift_cl(ShiftOp::Sar, W16, rsi));    // sar si, cl
  EXPECT_BYTES("6641d3ff", a.shift_cl(ShiftOp::Sar, W16, r15));  // sar r15w, cl
  EXPECT_BYTES("41d3f8", a.shift_cl(ShiftOp::Sar, W32, r8));     // sar r8d, cl
  EXPECT_BYTES("41d3ff", a.shift_cl(ShiftOp::Sar, W32, r15));    // sar r15d, cl
  EXPECT_BYTES("48d3ff", a.shift_cl(ShiftOp::Sar, W64, rdi));    // sar rdi, cl
  EXPECT_BYTES("49d3ff", a.shift_cl(ShiftOp::Sar, W64, r15));    // sar r15, cl
  EXPECT_BYTES("d3e2", a.shl_cl(W32, rdx));                      // shl edx, cl
  EXPECT_BYTES("d3ea", a.shr_cl(W32, rdx));                      // shr edx, cl
  EXPECT_BYTES("d3fa", a.sar_cl(W32, rdx));                      // sar edx, cl
}

TEST(X86GoldenShift, Bmi2Shifts) {
  EXPECT_BYTES("c4e269f7c1", a.shlx(W32, rax, rcx, rdx));  // shlx eax, ecx, edx
  EXPECT_BYTES("c44229f7c1", a.shlx(W32, r8, r9, r10));    // shlx r8d, r9d, r10d
  EXPECT_BYTES("c4e201f7e5", a.shlx(W32, rsp, rbp, r15));  // shlx esp, ebp, r15d
  EXPECT_BYTES("c46259f7f8", a.shlx(W32, r15, rax, rsp));  // shlx r15d, eax, esp
  EXPECT_BYTES("c4c271f7fd", a.shlx(W32, rdi, r13, rcx));  // shlx edi, r13d, ecx
  EXPECT_BYTES("c46221f7e6", a.shlx(W32, r12, rsi, r11));  // shlx r12d, esi, r11d
  EXPECT_BYTES("c4e2e9f7c1", a.shlx(W64, rax, rcx, rdx));  // shlx rax, rcx, rdx
  EXPECT_BYTES("c442a9f7c1", a.shlx(W64, r8, r9, r10));    // shlx r8, r9, r10
  EXPECT_BYTES("c4e281f7e5", a.shlx(W64, rsp, rbp, r15));  // shlx rsp, rbp, r15
  EXPECT_BYTES("c462d9f7f8", a.shlx(W64, r15, rax, rsp));  // shlx r15, rax, rsp
  EXPECT_BYTES("c4c2f1f7fd", a.shlx(W64, rdi, r13, rcx));  // shlx rdi, r13, rcx
  EXPECT_BYTES("c462a1f7e6", a.shlx(W64, r12, rsi, r11));  // shlx r12, rsi, r11
  EXPECT_BYTES("c4e26bf7c1", a.shrx(W32, rax, rcx, rdx));  // shrx eax, ecx, edx
  EXPECT_BYTES("c4422bf7c1", a.shrx(W32, r8, r9, r10));    // shrx r8d, r9d, r10d
  EXPECT_BYTES("c4e203f7e5", a.shrx(W32, rsp, rbp, r15));  // shrx esp, ebp, r15d
  EXPECT_BYTES("c4625bf7f8", a.shrx(W32, r15, rax, rsp));  // shrx r15d, eax, esp
  EXPECT_BYTES("c4c273f7fd", a.shrx(W32, rdi, r13, rcx));  // shrx edi, r13d, ecx
  EXPECT_BYTES("c46223f7e6", a.shrx(W32, r12, rsi, r11));  // shrx r12d, esi, r11d
  EXPECT_BYTES("c4e2ebf7c1", a.shrx(W64, rax, rcx, rdx));  // shrx rax, rcx, rdx
  EXPECT_BYTES("c442abf7c1", a.shrx(W64, r8, r9, r10));    // shrx r8, r9, r10
  EXPECT_BYTES("c4e283f7e5", a.shrx(W64, rsp, rbp, r15));  // shrx rsp, rbp, r15
  EXPECT_BYTES("c462dbf7f8", a.shrx(W64, r15, rax, rsp));  // shrx r15, rax, rsp
  EXPECT_BYTES("c4c2f3f7fd", a.shrx(W64, rdi, r13, rcx));  // shrx rdi, r13, rcx
  EXPECT_BYTES("c462a3f7e6", a.shrx(W64, r12, rsi, r11));  // shrx r12, rsi, r11
  EXPECT_BYTES("c4e26af7c1", a.sarx(W32, rax, rcx, rdx));  // sarx eax, ecx, edx
  EXPECT_BYTES("c4422af7c1", a.sarx(W32, r8, r9, r10));    // sarx r8d, r9d, r10d
  EXPECT_BYTES("c4e202f7e5", a.sarx(W32, rsp, rbp, r15));  // sarx esp, ebp, r15d
  EXPECT_BYTES("c4625af7f8", a.sarx(W32, r15, rax, rsp));  // sarx r15d, eax, esp
  EXPECT_BYTES("c4c272f7fd", a.sarx(W32, rdi, r13, rcx));  // sarx edi, r13d, ecx
  EXPECT_BYTES("c46222f7e6", a.sarx(W32, r12, rsi, r11));  // sarx r12d, esi, r11d
  EXPECT_BYTES("c4e2eaf7c1", a.sarx(W64, rax, rcx, rdx));  // sarx rax, rcx, rdx
  EXPECT_BYTES("c442aaf7c1", a.sarx(W64, r8, r9, r10));    // sarx r8, r9, r10
  EXPECT_BYTES("c4e282f7e5", a.sarx(W64, rsp, rbp, r15));  // sarx rsp, rbp, r15
  EXPECT_BYTES("c462daf7f8", a.sarx(W64, r15, rax, rsp));  // sarx r15, rax, rsp
  EXPECT_BYTES("c4c2f2f7fd", a.sarx(W64, rdi, r13, rcx));  // sarx rdi, r13, rcx
  EXPECT_BYTES("c462a2f7e6", a.sarx(W64, r12, rsi, r11));  // sarx r12, rsi, r11
}

TEST(X86GoldenShift, Bswap) {
  EXPECT_BYTES("0fc8", a.bswap(W32, rax));    // bswap eax
  EXPECT_BYTES("0fc9", a.bswap(W32, rcx));    // bswap ecx
  EXPECT_BYTES("0fca", a.bswap(W32, rdx));    // bswap edx
  EXPECT_BYTES("0fcb", a.bswap(W32, rbx));    // bswap ebx
  EXPECT_BYTES("0fcc", a.bswap(W32, rsp));    // bswap esp
  EXPECT_BYTES("0fcd", a.bswap(W32, rbp));    // bswap ebp
  EXPECT_BYTES("0fce", a.bswap(W32, rsi));    // bswap esi
  EXPECT_BYTES("0fcf", a.bswap(W32, rdi));    // bswap edi
  EXPECT_BYTES("410fc8", a.bswap(W32, r8));   // bswap r8d
  EXPECT_BYTES("410fc9", a.bswap(W32, r9));   // bswap r9d
  EXPECT_BYTES("410fca", a.bswap(W32, r10));  // bswap r10d
  EXPECT_BYTES("410fcb", a.bswap(W32, r11));  // bswap r11d
  EXPECT_BYTES("410fcc", a.bswap(W32, r12));  // bswap r12d
  EXPECT_BYTES("410fcd", a.bswap(W32, r13));  // bswap r13d
  EXPECT_BYTES("410fce", a.bswap(W32, r14));  // bswap r14d
  EXPECT_BYTES("410fcf", a.bswap(W32, r15));  // bswap r15d
  EXPECT_BYTES("480fc8", a.bswap(W64, rax));  // bswap rax
  EXPECT_BYTES("480fc9", a.bswap(W64, rcx));  // bswap rcx
  EXPECT_BYTES("480fca", a.bswap(W64, rdx));  // bswap rdx
  EXPECT_BYTES("480fcb", a.bswap(W64, rbx));  // bswap rbx
  EXPECT_BYTES("480fcc", a.bswap(W64, rsp));  // bswap rsp
  EXPECT_BYTES("480fcd", a.bswap(W64, rbp));  // bswap rbp
  EXPECT_BYTES("480fce", a.bswap(W64, rsi));  // bswap rsi
  EXPECT_BYTES("480fcf", a.bswap(W64, rdi));  // bswap rdi
  EXPECT_BYTES("490fc8", a.bswap(W64, r8));   // bswap r8
  EXPECT_BYTES("490fc9", a.bswap(W64, r9));   // bswap r9
  EXPECT_BYTES("490fca", a.bswap(W64, r10));  // bswap r10
  EXPECT_BYTES("490fcb", a.bswap(W64, r11));  // bswap r11
  EXPECT_BYTES("490fcc", a.bswap(W64, r12));  // bswap r12
  EXPECT_BYTES("490fcd", a.bswap(W64, r13));  // bswap r13
  EXPECT_BYTES("490fce", a.bswap(W64, r14));  // bswap r14
  EXPECT_BYTES("490fcf", a.bswap(W64, r15));  // bswap r15
}

}  // namespace
}  // namespace bpfdiff::jit::x86
