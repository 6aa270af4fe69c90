// Golden bytes for xchg and the lock-prefixed read-modify-write forms.
// Bytes come from the encoding rules and were checked against GNU as; lines
// marked (... not ...) pin a choice where another valid encoding exists.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/jit/x86_test_util.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using enum Reg;
using enum Width;

TEST(X86GoldenAtomic, ExchangeAndCompareExchange) {
  EXPECT_BYTES("8607", a.xchg(W8, mem(rdi), rax));                    // xchg byte ptr [rdi], al
  EXPECT_BYTES("f00fc007", a.lock_xadd(W8, mem(rdi), rax));           // lock xadd byte ptr [rdi], al
  EXPECT_BYTES("f00fb007", a.lock_cmpxchg(W8, mem(rdi), rax));        // lock cmpxchg byte ptr [rdi], al
  EXPECT_BYTES("864df8", a.xchg(W8, mem(rbp, -8), rcx));              // xchg byte ptr [rbp - 8], cl
  EXPECT_BYTES("f00fc04df8", a.lock_xadd(W8, mem(rbp, -8), rcx));     // lock xadd byte ptr [rbp - 8], cl
  EXPECT_BYTES("f00fb04df8", a.lock_cmpxchg(W8, mem(rbp, -8), rcx));  // lock cmpxchg byte ptr [rbp - 8], cl
  EXPECT_BYTES("4486442408", a.xchg(W8, mem(rsp, 8), r8));            // xchg byte ptr [rsp + 8], r8b
  EXPECT_BYTES("f0440fc0442408", a.lock_xadd(W8, mem(rsp, 8), r8));   // lock xadd byte ptr [rsp + 8], r8b
  EXPECT_BYTES("f0440fb0442408",
               a.lock_cmpxchg(W8, mem(rsp, 8), r8));                   // lock cmpxchg byte ptr [rsp + 8], r8b
  EXPECT_BYTES("4186b42400020000", a.xchg(W8, mem(r12, 0x200), rsi));  // xchg byte ptr [r12 + 512], sil
  EXPECT_BYTES("f0410fc0b42400020000",
               a.lock_xadd(W8, mem(r12, 0x200), rsi));  // lock xadd byte ptr [r12 + 512], sil
  EXPECT_BYTES("f0410fb0b42400020000",
               a.lock_cmpxchg(W8, mem(r12, 0x200), rsi));           // lock cmpxchg byte ptr [r12 + 512], sil
  EXPECT_BYTES("45867d00", a.xchg(W8, mem(r13), r15));              // xchg byte ptr [r13], r15b
  EXPECT_BYTES("f0450fc07d00", a.lock_xadd(W8, mem(r13), r15));     // lock xadd byte ptr [r13], r15b
  EXPECT_BYTES("f0450fb07d00", a.lock_cmpxchg(W8, mem(r13), r15));  // lock cmpxchg byte ptr [r13], r15b
  EXPECT_BYTES("408620", a.xchg(W8, mem(rax), rsp));                // xchg byte ptr [rax], spl
  EXPECT_BYTES("f0400fc020", a.lock_xadd(W8, mem(rax), rsp));       // lock xadd byte ptr [rax], spl
  EXPECT_BYTES("f0400fb020", a.lock_cmpxchg(W8, mem(rax), rsp));    // lock cmpxchg byte ptr [rax], spl
  EXPECT_BYTES("668707", a.xchg(W16, mem(rdi), rax));               // xchg word ptr [rdi], ax
  EXPECT_BYTES("66f00fc107", a.lock_xadd(W16, mem(rdi), rax));      // lock xadd word ptr [rdi], ax
  EXPECT_BYTES("66f00fb107", a.lock_cmpxchg(W16, mem(rdi), rax));   // lock cmpxchg word ptr [rdi], ax
  EXPECT_BYTES("66874df8", a.xchg(W16, mem(rbp, -8), rcx));         // xchg word ptr [rbp - 8], cx
  EXPECT_BYTES("66f00fc14df8", a.lock_xadd(W16, mem(rbp, -8), rcx));  // lock xadd word ptr [rbp - 8], cx
  EXPECT_BYTES("66f00fb14df8",
               a.lock_cmpxchg(W16, mem(rbp, -8), rcx));                 // lock cmpxchg word ptr [rbp - 8], cx
  EXPECT_BYTES("664487442408", a.xchg(W16, mem(rsp, 8), r8));           // xchg word ptr [rsp + 8], r8w
  EXPECT_BYTES("66f0440fc1442408", a.lock_xadd(W16, mem(rsp, 8), r8));  // lock xadd word ptr [rsp + 8], r8w
  EXPECT_BYTES("66f0440fb1442408",
               a.lock_cmpxchg(W16, mem(rsp, 8), r8));  // lock cmpxchg word ptr [rsp + 8], r8w
  EXPECT_BYTES("664187b42400020000", a.xchg(W16, mem(r12, 0x200), rsi));  // xchg word ptr [r12 + 512], si
  EXPECT_BYTES("66f0410fc1b42400020000",
               a.lock_xadd(W16, mem(r12, 0x200), rsi));  // lock xadd word ptr [r12 + 512], si
  EXPECT_BYTES("66f0410fb1b42400020000",
               a.lock_cmpxchg(W16, mem(r12, 0x200), rsi));          // lock cmpxchg word ptr [r12 + 512], si
  EXPECT_BYTES("6645877d00", a.xchg(W16, mem(r13), r15));           // xchg word ptr [r13], r15w
  EXPECT_BYTES("66f0450fc17d00", a.lock_xadd(W16, mem(r13), r15));  // lock xadd word ptr [r13], r15w
  EXPECT_BYTES("66f0450fb17d00", a.lock_cmpxchg(W16, mem(r13), r15));  // lock cmpxchg word ptr [r13], r15w
  EXPECT_BYTES("668720", a.xchg(W16, mem(rax), rsp));                  // xchg word ptr [rax], sp
  EXPECT_BYTES("66f00fc120", a.lock_xadd(W16, mem(rax), rsp));         // lock xadd word ptr [rax], sp
  EXPECT_BYTES("66f00fb120", a.lock_cmpxchg(W16, mem(rax), rsp));      // lock cmpxchg word ptr [rax], sp
  EXPECT_BYTES("8707", a.xchg(W32, mem(rdi), rax));                    // xchg dword ptr [rdi], eax
  EXPECT_BYTES("f00fc107", a.lock_xadd(W32, mem(rdi), rax));           // lock xadd dword ptr [rdi], eax
  EXPECT_BYTES("f00fb107", a.lock_cmpxchg(W32, mem(rdi), rax));        // lock cmpxchg dword ptr [rdi], eax
  EXPECT_BYTES("874df8", a.xchg(W32, mem(rbp, -8), rcx));              // xchg dword ptr [rbp - 8], ecx
  EXPECT_BYTES("f00fc14df8", a.lock_xadd(W32, mem(rbp, -8), rcx));     // lock xadd dword ptr [rbp - 8], ecx
  EXPECT_BYTES("f00fb14df8",
               a.lock_cmpxchg(W32, mem(rbp, -8), rcx));               // lock cmpxchg dword ptr [rbp - 8], ecx
  EXPECT_BYTES("4487442408", a.xchg(W32, mem(rsp, 8), r8));           // xchg dword ptr [rsp + 8], r8d
  EXPECT_BYTES("f0440fc1442408", a.lock_xadd(W32, mem(rsp, 8), r8));  // lock xadd dword ptr [rsp + 8], r8d
  EXPECT_BYTES("f0440fb1442408",
               a.lock_cmpxchg(W32, mem(rsp, 8), r8));  // lock cmpxchg dword ptr [rsp + 8], r8d
  EXPECT_BYTES("4187b42400020000", a.xchg(W32, mem(r12, 0x200), rsi));  // xchg dword ptr [r12 + 512], esi
  EXPECT_BYTES("f0410fc1b42400020000",
               a.lock_xadd(W32, mem(r12, 0x200), rsi));  // lock xadd dword ptr [r12 + 512], esi
  EXPECT_BYTES("f0410fb1b42400020000",
               a.lock_cmpxchg(W32, mem(r12, 0x200), rsi));        // lock cmpxchg dword ptr [r12 + 512], esi
  EXPECT_BYTES("45877d00", a.xchg(W32, mem(r13), r15));           // xchg dword ptr [r13], r15d
  EXPECT_BYTES("f0450fc17d00", a.lock_xadd(W32, mem(r13), r15));  // lock xadd dword ptr [r13], r15d
  EXPECT_BYTES("f0450fb17d00", a.lock_cmpxchg(W32, mem(r13), r15));   // lock cmpxchg dword ptr [r13], r15d
  EXPECT_BYTES("8720", a.xchg(W32, mem(rax), rsp));                   // xchg dword ptr [rax], esp
  EXPECT_BYTES("f00fc120", a.lock_xadd(W32, mem(rax), rsp));          // lock xadd dword ptr [rax], esp
  EXPECT_BYTES("f00fb120", a.lock_cmpxchg(W32, mem(rax), rsp));       // lock cmpxchg dword ptr [rax], esp
  EXPECT_BYTES("488707", a.xchg(W64, mem(rdi), rax));                 // xchg qword ptr [rdi], rax
  EXPECT_BYTES("f0480fc107", a.lock_xadd(W64, mem(rdi), rax));        // lock xadd qword ptr [rdi], rax
  EXPECT_BYTES("f0480fb107", a.lock_cmpxchg(W64, mem(rdi), rax));     // lock cmpxchg qword ptr [rdi], rax
  EXPECT_BYTES("48874df8", a.xchg(W64, mem(rbp, -8), rcx));           // xchg qword ptr [rbp - 8], rcx
  EXPECT_BYTES("f0480fc14df8", a.lock_xadd(W64, mem(rbp, -8), rcx));  // lock xadd qword ptr [rbp - 8], rcx
  EXPECT_BYTES("f0480fb14df8",
               a.lock_cmpxchg(W64, mem(rbp, -8), rcx));               // lock cmpxchg qword ptr [rbp - 8], rcx
  EXPECT_BYTES("4c87442408", a.xchg(W64, mem(rsp, 8), r8));           // xchg qword ptr [rsp + 8], r8
  EXPECT_BYTES("f04c0fc1442408", a.lock_xadd(W64, mem(rsp, 8), r8));  // lock xadd qword ptr [rsp + 8], r8
  EXPECT_BYTES("f04c0fb1442408",
               a.lock_cmpxchg(W64, mem(rsp, 8), r8));  // lock cmpxchg qword ptr [rsp + 8], r8
  EXPECT_BYTES("4987b42400020000", a.xchg(W64, mem(r12, 0x200), rsi));  // xchg qword ptr [r12 + 512], rsi
  EXPECT_BYTES("f0490fc1b42400020000",
               a.lock_xadd(W64, mem(r12, 0x200), rsi));  // lock xadd qword ptr [r12 + 512], rsi
  EXPECT_BYTES("f0490fb1b42400020000",
               a.lock_cmpxchg(W64, mem(r12, 0x200), rsi));        // lock cmpxchg qword ptr [r12 + 512], rsi
  EXPECT_BYTES("4d877d00", a.xchg(W64, mem(r13), r15));           // xchg qword ptr [r13], r15
  EXPECT_BYTES("f04d0fc17d00", a.lock_xadd(W64, mem(r13), r15));  // lock xadd qword ptr [r13], r15
  EXPECT_BYTES("f04d0fb17d00", a.lock_cmpxchg(W64, mem(r13), r15));  // lock cmpxchg qword ptr [r13], r15
  EXPECT_BYTES("488720", a.xchg(W64, mem(rax), rsp));                // xchg qword ptr [rax], rsp
  EXPECT_BYTES("f0480fc120", a.lock_xadd(W64, mem(rax), rsp));       // lock xadd qword ptr [rax], rsp
  EXPECT_BYTES("f0480fb120", a.lock_cmpxchg(W64, mem(rax), rsp));    // lock cmpxchg qword ptr [rax], rsp
}

TEST(X86GoldenAtomic, LockedAlu) {
  EXPECT_BYTES("f00107", a.lock_alu(AluOp::Add, W32, mem(rdi), rax));  // lock add dword ptr [rdi], eax
  EXPECT_BYTES("f044014df8",
               a.lock_alu(AluOp::Add, W32, mem(rbp, -8), r9));  // lock add dword ptr [rbp - 8], r9d
  EXPECT_BYTES("f04101b42400020000",
               a.lock_alu(AluOp::Add, W32, mem(r12, 0x200), rsi));  // lock add dword ptr [r12 + 512], esi
  EXPECT_BYTES("f045017d00", a.lock_alu(AluOp::Add, W32, mem(r13), r15));  // lock add dword ptr [r13], r15d
  EXPECT_BYTES("f0480107", a.lock_alu(AluOp::Add, W64, mem(rdi), rax));    // lock add qword ptr [rdi], rax
  EXPECT_BYTES("f04c014df8",
               a.lock_alu(AluOp::Add, W64, mem(rbp, -8), r9));  // lock add qword ptr [rbp - 8], r9
  EXPECT_BYTES("f04901b42400020000",
               a.lock_alu(AluOp::Add, W64, mem(r12, 0x200), rsi));  // lock add qword ptr [r12 + 512], rsi
  EXPECT_BYTES("f04d017d00", a.lock_alu(AluOp::Add, W64, mem(r13), r15));  // lock add qword ptr [r13], r15
  EXPECT_BYTES("f00907", a.lock_alu(AluOp::Or, W32, mem(rdi), rax));       // lock or dword ptr [rdi], eax
  EXPECT_BYTES("f044094df8",
               a.lock_alu(AluOp::Or, W32, mem(rbp, -8), r9));  // lock or dword ptr [rbp - 8], r9d
  EXPECT_BYTES("f04109b42400020000",
               a.lock_alu(AluOp::Or, W32, mem(r12, 0x200), rsi));  // lock or dword ptr [r12 + 512], esi
  EXPECT_BYTES("f045097d00", a.lock_alu(AluOp::Or, W32, mem(r13), r15));  // lock or dword ptr [r13], r15d
  EXPECT_BYTES("f0480907", a.lock_alu(AluOp::Or, W64, mem(rdi), rax));    // lock or qword ptr [rdi], rax
  EXPECT_BYTES("f04c094df8",
               a.lock_alu(AluOp::Or, W64, mem(rbp, -8), r9));  // lock or qword ptr [rbp - 8], r9
  EXPECT_BYTES("f04909b42400020000",
               a.lock_alu(AluOp::Or, W64, mem(r12, 0x200), rsi));  // lock or qword ptr [r12 + 512], rsi
  EXPECT_BYTES("f04d097d00", a.lock_alu(AluOp::Or, W64, mem(r13), r15));  // lock or qword ptr [r13], r15
  EXPECT_BYTES("f01107", a.lock_alu(AluOp::Adc, W32, mem(rdi), rax));     // lock adc dword ptr [rdi], eax
  EXPECT_BYTES("f044114df8",
               a.lock_alu(AluOp::Adc, W32, mem(rbp, -8), r9));  // lock adc dword ptr [rbp - 8], r9d
  EXPECT_BYTES("f04111b42400020000",
               a.lock_alu(AluOp::Adc, W32, mem(r12, 0x200), rsi));  // lock adc dword ptr [r12 + 512], esi
  EXPECT_BYTES("f045117d00", a.lock_alu(AluOp::Adc, W32, mem(r13), r15));  // lock adc dword ptr [r13], r15d
  EXPECT_BYTES("f0481107", a.lock_alu(AluOp::Adc, W64, mem(rdi), rax));    // lock adc qword ptr [rdi], rax
  EXPECT_BYTES("f04c114df8",
               a.lock_alu(AluOp::Adc, W64, mem(rbp, -8), r9));  // lock adc qword ptr [rbp - 8], r9
  EXPECT_BYTES("f04911b42400020000",
               a.lock_alu(AluOp::Adc, W64, mem(r12, 0x200), rsi));  // lock adc qword ptr [r12 + 512], rsi
  EXPECT_BYTES("f04d117d00", a.lock_alu(AluOp::Adc, W64, mem(r13), r15));  // lock adc qword ptr [r13], r15
  EXPECT_BYTES("f01907", a.lock_alu(AluOp::Sbb, W32, mem(rdi), rax));      // lock sbb dword ptr [rdi], eax
  EXPECT_BYTES("f044194df8",
               a.lock_alu(AluOp::Sbb, W32, mem(rbp, -8), r9));  // lock sbb dword ptr [rbp - 8], r9d
  EXPECT_BYTES("f04119b42400020000",
               a.lock_alu(AluOp::Sbb, W32, mem(r12, 0x200), rsi));  // lock sbb dword ptr [r12 + 512], esi
  EXPECT_BYTES("f045197d00", a.lock_alu(AluOp::Sbb, W32, mem(r13), r15));  // lock sbb dword ptr [r13], r15d
  EXPECT_BYTES("f0481907", a.lock_alu(AluOp::Sbb, W64, mem(rdi), rax));    // lock sbb qword ptr [rdi], rax
  EXPECT_BYTES("f04c194df8",
               a.lock_alu(AluOp::Sbb, W64, mem(rbp, -8), r9));  // lock sbb qword ptr [rbp - 8], r9
  EXPECT_BYTES("f04919b42400020000",
               a.lock_alu(AluOp::Sbb, W64, mem(r12, 0x200), rsi));  // lock sbb qword ptr [r12 + 512], rsi
  EXPECT_BYTES("f04d197d00", a.lock_alu(AluOp::Sbb, W64, mem(r13), r15));  // lock sbb qword ptr [r13], r15
  EXPECT_BYTES("f02107", a.lock_alu(AluOp::And, W32, mem(rdi), rax));      // lock and dword ptr [rdi], eax
  EXPECT_BYTES("f044214df8",
               a.lock_alu(AluOp::And, W32, mem(rbp, -8), r9));  // lock and dword ptr [rbp - 8], r9d
  EXPECT_BYTES("f04121b42400020000",
               a.lock_alu(AluOp::And, W32, mem(r12, 0x200), rsi));  // lock and dword ptr [r12 + 512], esi
  EXPECT_BYTES("f045217d00", a.lock_alu(AluOp::And, W32, mem(r13), r15));  // lock and dword ptr [r13], r15d
  EXPECT_BYTES("f0482107", a.lock_alu(AluOp::And, W64, mem(rdi), rax));    // lock and qword ptr [rdi], rax
  EXPECT_BYTES("f04c214df8",
               a.lock_alu(AluOp::And, W64, mem(rbp, -8), r9));  // lock and qword ptr [rbp - 8], r9
  EXPECT_BYTES("f04921b42400020000",
               a.lock_alu(AluOp::And, W64, mem(r12, 0x200), rsi));  // lock and qword ptr [r12 + 512], rsi
  EXPECT_BYTES("f04d217d00", a.lock_alu(AluOp::And, W64, mem(r13), r15));  // lock and qword ptr [r13], r15
  EXPECT_BYTES("f02907", a.lock_alu(AluOp::Sub, W32, mem(rdi), rax));      // lock sub dword ptr [rdi], eax
  EXPECT_BYTES("f044294df8",
               a.lock_alu(AluOp::Sub, W32, mem(rbp, -8), r9));  // lock sub dword ptr [rbp - 8], r9d
  EXPECT_BYTES("f04129b42400020000",
               a.lock_alu(AluOp::Sub, W32, mem(r12, 0x200), rsi));  // lock sub dword ptr [r12 + 512], esi
  EXPECT_BYTES("f045297d00", a.lock_alu(AluOp::Sub, W32, mem(r13), r15));  // lock sub dword ptr [r13], r15d
  EXPECT_BYTES("f0482907", a.lock_alu(AluOp::Sub, W64, mem(rdi), rax));    // lock sub qword ptr [rdi], rax
  EXPECT_BYTES("f04c294df8",
               a.lock_alu(AluOp::Sub, W64, mem(rbp, -8), r9));  // lock sub qword ptr [rbp - 8], r9
  EXPECT_BYTES("f04929b42400020000",
               a.lock_alu(AluOp::Sub, W64, mem(r12, 0x200), rsi));  // lock sub qword ptr [r12 + 512], rsi
  EXPECT_BYTES("f04d297d00", a.lock_alu(AluOp::Sub, W64, mem(r13), r15));  // lock sub qword ptr [r13], r15
  EXPECT_BYTES("f03107", a.lock_alu(AluOp::Xor, W32, mem(rdi), rax));      // lock xor dword ptr [rdi], eax
  EXPECT_BYTES("f044314df8",
               a.lock_alu(AluOp::Xor, W32, mem(rbp, -8), r9));  // lock xor dword ptr [rbp - 8], r9d
  EXPECT_BYTES("f04131b42400020000",
               a.lock_alu(AluOp::Xor, W32, mem(r12, 0x200), rsi));  // lock xor dword ptr [r12 + 512], esi
  EXPECT_BYTES("f045317d00", a.lock_alu(AluOp::Xor, W32, mem(r13), r15));  // lock xor dword ptr [r13], r15d
  EXPECT_BYTES("f0483107", a.lock_alu(AluOp::Xor, W64, mem(rdi), rax));    // lock xor qword ptr [rdi], rax
  EXPECT_BYTES("f04c314df8",
               a.lock_alu(AluOp::Xor, W64, mem(rbp, -8), r9));  // lock xor qword ptr [rbp - 8], r9
  EXPECT_BYTES("f04931b42400020000",
               a.lock_alu(AluOp::Xor, W64, mem(r12, 0x200), rsi));  // lock xor qword ptr [r12 + 512], rsi
  EXPECT_BYTES("f04d317d00", a.lock_alu(AluOp::Xor, W64, mem(r13), r15));  // lock xor qword ptr [r13], r15
  EXPECT_BYTES("f04000742401",
               a.lock_alu(AluOp::Add, W8, mem(rsp, 1), rsi));  // lock add byte ptr [rsp + 1], sil
  EXPECT_BYTES("66f001742401",
               a.lock_alu(AluOp::Add, W16, mem(rsp, 1), rsi));  // lock add word ptr [rsp + 1], si
  EXPECT_BYTES("f0480954c810", a.lock_alu(AluOp::Or, W64, mem(rax, rcx, Scale::S8, 16),
                                          rdx));  // lock or qword ptr [rax + rcx*8 + 16], rdx
}

// The forms the JIT emits: the same encodings without the F0 prefix (a BPF
// program is single-threaded; a locked split access is trapped by hosts with
// split-lock detection).
TEST(X86GoldenAtomic, UnlockedReadModifyWrite) {
  EXPECT_BYTES("0fc107", a.xadd(W32, mem(rdi), rax));                    // xadd dword ptr [rdi], eax
  EXPECT_BYTES("4c0fc14df8", a.xadd(W64, mem(rbp, -8), r9));             // xadd qword ptr [rbp - 8], r9
  EXPECT_BYTES("0fb107", a.cmpxchg(W32, mem(rdi), rax));                 // cmpxchg dword ptr [rdi], eax
  EXPECT_BYTES("4d0fb17d00", a.cmpxchg(W64, mem(r13), r15));             // cmpxchg qword ptr [r13], r15
  EXPECT_BYTES("4801742401", a.alu(AluOp::Add, W64, mem(rsp, 1), rsi));  // add qword ptr [rsp + 1], rsi
  EXPECT_BYTES("4109b42400020000",
               a.alu(AluOp::Or, W32, mem(r12, 0x200), rsi));           // or dword ptr [r12 + 512], esi
  EXPECT_BYTES("2107", a.alu(AluOp::And, W32, mem(rdi), rax));         // and dword ptr [rdi], eax
  EXPECT_BYTES("4c314df8", a.alu(AluOp::Xor, W64, mem(rbp, -8), r9));  // xor qword ptr [rbp - 8], r9
}

TEST(X86GoldenAtomic, UnlockedAluRejectsCmp) {
  Assembler b;
  b.alu(AluOp::Cmp, W64, mem(rdi), rax);
  EXPECT_FALSE(b.ok());
  EXPECT_NE(b.error().find("cmp"), std::string::npos) << b.error();
}

}  // namespace
}  // namespace bpfdiff::jit::x86
