// Golden bytes for moves, immediates, extensions and lea, sweeping every base
// register (the rsp/r12 SIB and rbp/r13 disp8 cases) and displacement size.
// Bytes come from the encoding rules and were checked against GNU as; lines
// marked (... not ...) pin a choice where another valid encoding exists.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/jit/x86_test_util.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using enum Reg;
using enum Width;

TEST(X86GoldenMov, RegReg) {
  EXPECT_BYTES("4889c8", a.mov(W64, rax, rcx));    // mov rax, rcx
  EXPECT_BYTES("4889c9", a.mov(W64, rcx, rcx));    // mov rcx, rcx
  EXPECT_BYTES("4889ca", a.mov(W64, rdx, rcx));    // mov rdx, rcx
  EXPECT_BYTES("4889cb", a.mov(W64, rbx, rcx));    // mov rbx, rcx
  EXPECT_BYTES("4889cc", a.mov(W64, rsp, rcx));    // mov rsp, rcx
  EXPECT_BYTES("4889cd", a.mov(W64, rbp, rcx));    // mov rbp, rcx
  EXPECT_BYTES("4889ce", a.mov(W64, rsi, rcx));    // mov rsi, rcx
  EXPECT_BYTES("4889cf", a.mov(W64, rdi, rcx));    // mov rdi, rcx
  EXPECT_BYTES("4989c8", a.mov(W64, r8, rcx));     // mov r8, rcx
  EXPECT_BYTES("4989c9", a.mov(W64, r9, rcx));     // mov r9, rcx
  EXPECT_BYTES("4989ca", a.mov(W64, r10, rcx));    // mov r10, rcx
  EXPECT_BYTES("4989cb", a.mov(W64, r11, rcx));    // mov r11, rcx
  EXPECT_BYTES("4989cc", a.mov(W64, r12, rcx));    // mov r12, rcx
  EXPECT_BYTES("4989cd", a.mov(W64, r13, rcx));    // mov r13, rcx
  EXPECT_BYTES("4989ce", a.mov(W64, r14, rcx));    // mov r14, rcx
  EXPECT_BYTES("4989cf", a.mov(W64, r15, rcx));    // mov r15, rcx
  EXPECT_BYTES("4889c0", a.mov(W64, rax, rax));    // mov rax, rax
  EXPECT_BYTES("4889c8", a.mov(W64, rax, rcx));    // mov rax, rcx
  EXPECT_BYTES("4889d0", a.mov(W64, rax, rdx));    // mov rax, rdx
  EXPECT_BYTES("4889d8", a.mov(W64, rax, rbx));    // mov rax, rbx
  EXPECT_BYTES("4889e0", a.mov(W64, rax, rsp));    // mov rax, rsp
  EXPECT_BYTES("4889e8", a.mov(W64, rax, rbp));    // mov rax, rbp
  EXPECT_BYTES("4889f0", a.mov(W64, rax, rsi));    // mov rax, rsi
  EXPECT_BYTES("4889f8", a.mov(W64, rax, rdi));    // mov rax, rdi
  EXPECT_BYTES("4c89c0", a.mov(W64, rax, r8));     // mov rax, r8
  EXPECT_BYTES("4c89c8", a.mov(W64, rax, r9));     // mov rax, r9
  EXPECT_BYTES("4c89d0", a.mov(W64, rax, r10));    // mov rax, r10
  EXPECT_BYTES("4c89d8", a.mov(W64, rax, r11));    // mov rax, r11
  EXPECT_BYTES("4c89e0", a.mov(W64, rax, r12));    // mov rax, r12
  EXPECT_BYTES("4c89e8", a.mov(W64, rax, r13));    // mov rax, r13
  EXPECT_BYTES("4c89f0", a.mov(W64, rax, r14));    // mov rax, r14
  EXPECT_BYTES("4c89f8", a.mov(W64, rax, r15));    // mov rax, r15
  EXPECT_BYTES("88c8", a.mov(W8, rax, rcx));       // mov al, cl
  EXPECT_BYTES("4588f8", a.mov(W8, r8, r15));      // mov r8b, r15b
  EXPECT_BYTES("4088fe", a.mov(W8, rsi, rdi));     // mov sil, dil
  EXPECT_BYTES("4088ec", a.mov(W8, rsp, rbp));     // mov spl, bpl
  EXPECT_BYTES("4588ec", a.mov(W8, r12, r13));     // mov r12b, r13b
  EXPECT_BYTES("4488cf", a.mov(W8, rdi, r9));      // mov dil, r9b
  EXPECT_BYTES("6689c8", a.mov(W16, rax, rcx));    // mov ax, cx
  EXPECT_BYTES("664589f8", a.mov(W16, r8, r15));   // mov r8w, r15w
  EXPECT_BYTES("6689fe", a.mov(W16, rsi, rdi));    // mov si, di
  EXPECT_BYTES("6689ec", a.mov(W16, rsp, rbp));    // mov sp, bp
  EXPECT_BYTES("664589ec", a.mov(W16, r12, r13));  // mov r12w, r13w
  EXPECT_BYTES("664489cf", a.mov(W16, rdi, r9));   // mov di, r9w
  EXPECT_BYTES("89c8", a.mov(W32, rax, rcx));      // mov eax, ecx
  EXPECT_BYTES("4589f8", a.mov(W32, r8, r15));     // mov r8d, r15d
  EXPECT_BYTES("89fe", a.mov(W32, rsi, rdi));      // mov esi, edi
  EXPECT_BYTES("89ec", a.mov(W32, rsp, rbp));      // mov esp, ebp
  EXPECT_BYTES("4589ec", a.mov(W32, r12, r13));    // mov r12d, r13d
  EXPECT_BYTES("4489cf", a.mov(W32, rdi, r9));     // mov edi, r9d
  EXPECT_BYTES("4889c8", a.mov(W64, rax, rcx));    // mov rax, rcx
  EXPECT_BYTES("4d89f8", a.mov(W64, r8, r15));     // mov r8, r15
  EXPECT_BYTES("4889fe", a.mov(W64, rsi, rdi));    // mov rsi, rdi
  EXPECT_BYTES("4889ec", a.mov(W64, rsp, rbp));    // mov rsp, rbp
  EXPECT_BYTES("4d89ec", a.mov(W64, r12, r13));    // mov r12, r13
  EXPECT_BYTES("4c89cf", a.mov(W64, rdi, r9));     // mov rdi, r9
}

TEST(X86GoldenMov, Immediate) {
  EXPECT_BYTES("b82a000000", a.mov_imm(W32, rax, 42));                      // mov eax, 42
  EXPECT_BYTES("b92a000000", a.mov_imm(W32, rcx, 42));                      // mov ecx, 42
  EXPECT_BYTES("ba2a000000", a.mov_imm(W32, rdx, 42));                      // mov edx, 42
  EXPECT_BYTES("bb2a000000", a.mov_imm(W32, rbx, 42));                      // mov ebx, 42
  EXPECT_BYTES("bc2a000000", a.mov_imm(W32, rsp, 42));                      // mov esp, 42
  EXPECT_BYTES("bd2a000000", a.mov_imm(W32, rbp, 42));                      // mov ebp, 42
  EXPECT_BYTES("be2a000000", a.mov_imm(W32, rsi, 42));                      // mov esi, 42
  EXPECT_BYTES("bf2a000000", a.mov_imm(W32, rdi, 42));                      // mov edi, 42
  EXPECT_BYTES("41b82a000000", a.mov_imm(W32, r8, 42));                     // mov r8d, 42
  EXPECT_BYTES("41b92a000000", a.mov_imm(W32, r9, 42));                     // mov r9d, 42
  EXPECT_BYTES("41ba2a000000", a.mov_imm(W32, r10, 42));                    // mov r10d, 42
  EXPECT_BYTES("41bb2a000000", a.mov_imm(W32, r11, 42));                    // mov r11d, 42
  EXPECT_BYTES("41bc2a000000", a.mov_imm(W32, r12, 42));                    // mov r12d, 42
  EXPECT_BYTES("41bd2a000000", a.mov_imm(W32, r13, 42));                    // mov r13d, 42
  EXPECT_BYTES("41be2a000000", a.mov_imm(W32, r14, 42));                    // mov r14d, 42
  EXPECT_BYTES("41bf2a000000", a.mov_imm(W32, r15, 42));                    // mov r15d, 42
  EXPECT_BYTES("48c7c02a000000", a.mov_imm(W64, rax, 42));                  // mov rax, 42
  EXPECT_BYTES("48c7c0ffffffff", a.mov_imm(W64, rax, -1));                  // mov rax, -1
  EXPECT_BYTES("48c7c000000080", a.mov_imm(W64, rax, INT32_MIN));           // mov rax, -2147483648
  EXPECT_BYTES("48c7c0ffffff7f", a.mov_imm(W64, rax, INT32_MAX));           // mov rax, 2147483647
  EXPECT_BYTES("48c7c12a000000", a.mov_imm(W64, rcx, 42));                  // mov rcx, 42
  EXPECT_BYTES("48c7c1ffffffff", a.mov_imm(W64, rcx, -1));                  // mov rcx, -1
  EXPECT_BYTES("48c7c100000080", a.mov_imm(W64, rcx, INT32_MIN));           // mov rcx, -2147483648
  EXPECT_BYTES("48c7c1ffffff7f", a.mov_imm(W64, rcx, INT32_MAX));           // mov rcx, 2147483647
  EXPECT_BYTES("48c7c42a000000", a.mov_imm(W64, rsp, 42));                  // mov rsp, 42
  EXPECT_BYTES("48c7c4ffffffff", a.mov_imm(W64, rsp, -1));                  // mov rsp, -1
  EXPECT_BYTES("48c7c400000080", a.mov_imm(W64, rsp, INT32_MIN));           // mov rsp, -2147483648
  EXPECT_BYTES("48c7c4ffffff7f", a.mov_imm(W64, rsp, INT32_MAX));           // mov rsp, 2147483647
  EXPECT_BYTES("49c7c02a000000", a.mov_imm(W64, r8, 42));                   // mov r8, 42
  EXPECT_BYTES("49c7c0ffffffff", a.mov_imm(W64, r8, -1));                   // mov r8, -1
  EXPECT_BYTES("49c7c000000080", a.mov_imm(W64, r8, INT32_MIN));            // mov r8, -2147483648
  EXPECT_BYTES("49c7c0ffffff7f", a.mov_imm(W64, r8, INT32_MAX));            // mov r8, 2147483647
  EXPECT_BYTES("49c7c72a000000", a.mov_imm(W64, r15, 42));                  // mov r15, 42
  EXPECT_BYTES("49c7c7ffffffff", a.mov_imm(W64, r15, -1));                  // mov r15, -1
  EXPECT_BYTES("49c7c700000080", a.mov_imm(W64, r15, INT32_MIN));           // mov r15, -2147483648
  EXPECT_BYTES("49c7c7ffffff7f", a.mov_imm(W64, r15, INT32_MAX));           // mov r15, 2147483647
  EXPECT_BYTES("41b9ffffffff", a.mov_imm(W32, r9, -1));                     // mov r9d, 4294967295
  EXPECT_BYTES("41b9ffffff7f", a.mov_imm(W32, r9, INT32_MAX));              // mov r9d, 2147483647
  EXPECT_BYTES("41b900000080", a.mov_imm(W32, r9, INT32_MIN));              // mov r9d, 2147483648
  EXPECT_BYTES("41b9ffffff7f", a.mov_imm(W32, r9, INT32_MAX));              // mov r9d, 2147483647
  EXPECT_BYTES("b07f", a.mov_imm(W8, rax, 0x7f));                           // mov al, 0x7f
  EXPECT_BYTES("b17f", a.mov_imm(W8, rcx, 0x7f));                           // mov cl, 0x7f
  EXPECT_BYTES("40b47f", a.mov_imm(W8, rsp, 0x7f));                         // mov spl, 0x7f
  EXPECT_BYTES("40b57f", a.mov_imm(W8, rbp, 0x7f));                         // mov bpl, 0x7f
  EXPECT_BYTES("40b67f", a.mov_imm(W8, rsi, 0x7f));                         // mov sil, 0x7f
  EXPECT_BYTES("40b77f", a.mov_imm(W8, rdi, 0x7f));                         // mov dil, 0x7f
  EXPECT_BYTES("41b07f", a.mov_imm(W8, r8, 0x7f));                          // mov r8b, 0x7f
  EXPECT_BYTES("41b77f", a.mov_imm(W8, r15, 0x7f));                         // mov r15b, 0x7f
  EXPECT_BYTES("b2ff", a.mov_imm(W8, rdx, 255));                            // mov dl, 255
  EXPECT_BYTES("b2ff", a.mov_imm(W8, rdx, -1));                             // mov dl, 255
  EXPECT_BYTES("66b83412", a.mov_imm(W16, rax, 0x1234));                    // mov ax, 0x1234
  EXPECT_BYTES("66be3412", a.mov_imm(W16, rsi, 0x1234));                    // mov si, 0x1234
  EXPECT_BYTES("6641ba3412", a.mov_imm(W16, r10, 0x1234));                  // mov r10w, 0x1234
  EXPECT_BYTES("66b9feff", a.mov_imm(W16, rcx, -2));                        // mov cx, 0xfffe
  EXPECT_BYTES("48b88877665544332211", a.movabs(rax, 0x1122334455667788));  // movabs rax, 0x1122334455667788
  EXPECT_BYTES("48bb8877665544332211", a.movabs(rbx, 0x1122334455667788));  // movabs rbx, 0x1122334455667788
  EXPECT_BYTES("49b88877665544332211", a.movabs(r8, 0x1122334455667788));   // movabs r8, 0x1122334455667788
  EXPECT_BYTES("49bf8877665544332211", a.movabs(r15, 0x1122334455667788));  // movabs r15, 0x1122334455667788
  EXPECT_BYTES("48b90000000000000000", a.movabs(rcx, 0));                   // movabs rcx, 0
}

TEST(X86GoldenMov, LoadImm64PicksShortestForm) {
  EXPECT_BYTES("b800000000", a.load_imm64(rax, 0x0u));                     // mov eax, 0
  EXPECT_BYTES("b8ffffffff", a.load_imm64(rax, 0xffffffffu));              // mov eax, 0xffffffff
  EXPECT_BYTES("b800000080", a.load_imm64(rax, 0x80000000u));              // mov eax, 0x80000000
  EXPECT_BYTES("48c7c0ffffffff", a.load_imm64(rax, 0xffffffffffffffffu));  // mov rax, -1
  EXPECT_BYTES("48c7c000000080", a.load_imm64(rax, 0xffffffff80000000u));  // mov rax, -0x80000000
  EXPECT_BYTES("48b80000000001000000", a.load_imm64(rax, 0x100000000u));   // movabs rax, 0x100000000
  EXPECT_BYTES("48b80000000000000080",
               a.load_imm64(rax, 0x8000000000000000u));  // movabs rax, 0x8000000000000000
  EXPECT_BYTES("41bb07000000", a.load_imm64(r11, 7u));   // mov r11d, 7
}

TEST(X86GoldenMov, LoadMemoryShapes) {
  EXPECT_BYTES("488b00", a.mov(W64, rax, mem(rax)));                       // mov rax, qword ptr [rax]
  EXPECT_BYTES("488b01", a.mov(W64, rax, mem(rcx)));                       // mov rax, qword ptr [rcx]
  EXPECT_BYTES("488b02", a.mov(W64, rax, mem(rdx)));                       // mov rax, qword ptr [rdx]
  EXPECT_BYTES("488b03", a.mov(W64, rax, mem(rbx)));                       // mov rax, qword ptr [rbx]
  EXPECT_BYTES("488b0424", a.mov(W64, rax, mem(rsp)));                     // mov rax, qword ptr [rsp]
  EXPECT_BYTES("488b4500", a.mov(W64, rax, mem(rbp)));                     // mov rax, qword ptr [rbp]
  EXPECT_BYTES("488b06", a.mov(W64, rax, mem(rsi)));                       // mov rax, qword ptr [rsi]
  EXPECT_BYTES("488b07", a.mov(W64, rax, mem(rdi)));                       // mov rax, qword ptr [rdi]
  EXPECT_BYTES("498b00", a.mov(W64, rax, mem(r8)));                        // mov rax, qword ptr [r8]
  EXPECT_BYTES("498b01", a.mov(W64, rax, mem(r9)));                        // mov rax, qword ptr [r9]
  EXPECT_BYTES("498b02", a.mov(W64, rax, mem(r10)));                       // mov rax, qword ptr [r10]
  EXPECT_BYTES("498b03", a.mov(W64, rax, mem(r11)));                       // mov rax, qword ptr [r11]
  EXPECT_BYTES("498b0424", a.mov(W64, rax, mem(r12)));                     // mov rax, qword ptr [r12]
  EXPECT_BYTES("498b4500", a.mov(W64, rax, mem(r13)));                     // mov rax, qword ptr [r13]
  EXPECT_BYTES("498b06", a.mov(W64, rax, mem(r14)));                       // mov rax, qword ptr [r14]
  EXPECT_BYTES("498b07", a.mov(W64, rax, mem(r15)));                       // mov rax, qword ptr [r15]
  EXPECT_BYTES("488b4008", a.mov(W64, rax, mem(rax, 8)));                  // mov rax, qword ptr [rax + 8]
  EXPECT_BYTES("488b40f8", a.mov(W64, rax, mem(rax, -8)));                 // mov rax, qword ptr [rax - 8]
  EXPECT_BYTES("488b407f", a.mov(W64, rax, mem(rax, 127)));                // mov rax, qword ptr [rax + 127]
  EXPECT_BYTES("488b8080000000", a.mov(W64, rax, mem(rax, 128)));          // mov rax, qword ptr [rax + 128]
  EXPECT_BYTES("488b4080", a.mov(W64, rax, mem(rax, -128)));               // mov rax, qword ptr [rax - 128]
  EXPECT_BYTES("488b807fffffff", a.mov(W64, rax, mem(rax, -129)));         // mov rax, qword ptr [rax - 129]
  EXPECT_BYTES("488b8045230100", a.mov(W64, rax, mem(rax, 0x12345)));      // mov rax, qword ptr [rax + 74565]
  EXPECT_BYTES("488b80bbdcfeff", a.mov(W64, rax, mem(rax, -0x12345)));     // mov rax, qword ptr [rax - 74565]
  EXPECT_BYTES("488b442408", a.mov(W64, rax, mem(rsp, 8)));                // mov rax, qword ptr [rsp + 8]
  EXPECT_BYTES("488b4424f8", a.mov(W64, rax, mem(rsp, -8)));               // mov rax, qword ptr [rsp - 8]
  EXPECT_BYTES("488b44247f", a.mov(W64, rax, mem(rsp, 127)));              // mov rax, qword ptr [rsp + 127]
  EXPECT_BYTES("488b842480000000", a.mov(W64, rax, mem(rsp, 128)));        // mov rax, qword ptr [rsp + 128]
  EXPECT_BYTES("488b442480", a.mov(W64, rax, mem(rsp, -128)));             // mov rax, qword ptr [rsp - 128]
  EXPECT_BYTES("488b84247fffffff", a.mov(W64, rax, mem(rsp, -129)));       // mov rax, qword ptr [rsp - 129]
  EXPECT_BYTES("488b842445230100", a.mov(W64, rax, mem(rsp, 0x12345)));    // mov rax, qword ptr [rsp + 74565]
  EXPECT_BYTES("488b8424bbdcfeff", a.mov(W64, rax, mem(rsp, -0x12345)));   // mov rax, qword ptr [rsp - 74565]
  EXPECT_BYTES("488b4508", a.mov(W64, rax, mem(rbp, 8)));                  // mov rax, qword ptr [rbp + 8]
  EXPECT_BYTES("488b45f8", a.mov(W64, rax, mem(rbp, -8)));                 // mov rax, qword ptr [rbp - 8]
  EXPECT_BYTES("488b457f", a.mov(W64, rax, mem(rbp, 127)));                // mov rax, qword ptr [rbp + 127]
  EXPECT_BYTES("488b8580000000", a.mov(W64, rax, mem(rbp, 128)));          // mov rax, qword ptr [rbp + 128]
  EXPECT_BYTES("488b4580", a.mov(W64, rax, mem(rbp, -128)));               // mov rax, qword ptr [rbp - 128]
  EXPECT_BYTES("488b857fffffff", a.mov(W64, rax, mem(rbp, -129)));         // mov rax, qword ptr [rbp - 129]
  EXPECT_BYTES("488b8545230100", a.mov(W64, rax, mem(rbp, 0x12345)));      // mov rax, qword ptr [rbp + 74565]
  EXPECT_BYTES("488b85bbdcfeff", a.mov(W64, rax, mem(rbp, -0x12345)));     // mov rax, qword ptr [rbp - 74565]
  EXPECT_BYTES("498b442408", a.mov(W64, rax, mem(r12, 8)));                // mov rax, qword ptr [r12 + 8]
  EXPECT_BYTES("498b4424f8", a.mov(W64, rax, mem(r12, -8)));               // mov rax, qword ptr [r12 - 8]
  EXPECT_BYTES("498b44247f", a.mov(W64, rax, mem(r12, 127)));              // mov rax, qword ptr [r12 + 127]
  EXPECT_BYTES("498b842480000000", a.mov(W64, rax, mem(r12, 128)));        // mov rax, qword ptr [r12 + 128]
  EXPECT_BYTES("498b442480", a.mov(W64, rax, mem(r12, -128)));             // mov rax, qword ptr [r12 - 128]
  EXPECT_BYTES("498b84247fffffff", a.mov(W64, rax, mem(r12, -129)));       // mov rax, qword ptr [r12 - 129]
  EXPECT_BYTES("498b842445230100", a.mov(W64, rax, mem(r12, 0x12345)));    // mov rax, qword ptr [r12 + 74565]
  EXPECT_BYTES("498b8424bbdcfeff", a.mov(W64, rax, mem(r12, -0x12345)));   // mov rax, qword ptr [r12 - 74565]
  EXPECT_BYTES("498b4508", a.mov(W64, rax, mem(r13, 8)));                  // mov rax, qword ptr [r13 + 8]
  EXPECT_BYTES("498b45f8", a.mov(W64, rax, mem(r13, -8)));                 // mov rax, qword ptr [r13 - 8]
  EXPECT_BYTES("498b457f", a.mov(W64, rax, mem(r13, 127)));                // mov rax, qword ptr [r13 + 127]
  EXPECT_BYTES("498b8580000000", a.mov(W64, rax, mem(r13, 128)));          // mov rax, qword ptr [r13 + 128]
  EXPECT_BYTES("498b4580", a.mov(W64, rax, mem(r13, -128)));               // mov rax, qword ptr [r13 - 128]
  EXPECT_BYTES("498b857fffffff", a.mov(W64, rax, mem(r13, -129)));         // mov rax, qword ptr [r13 - 129]
  EXPECT_BYTES("498b8545230100", a.mov(W64, rax, mem(r13, 0x12345)));      // mov rax, qword ptr [r13 + 74565]
  EXPECT_BYTES("498b85bbdcfeff", a.mov(W64, rax, mem(r13, -0x12345)));     // mov rax, qword ptr [r13 - 74565]
  EXPECT_BYTES("498b4708", a.mov(W64, rax, mem(r15, 8)));                  // mov rax, qword ptr [r15 + 8]
  EXPECT_BYTES("498b47f8", a.mov(W64, rax, mem(r15, -8)));                 // mov rax, qword ptr [r15 - 8]
  EXPECT_BYTES("498b477f", a.mov(W64, rax, mem(r15, 127)));                // mov rax, qword ptr [r15 + 127]
  EXPECT_BYTES("498b8780000000", a.mov(W64, rax, mem(r15, 128)));          // mov rax, qword ptr [r15 + 128]
  EXPECT_BYTES("498b4780", a.mov(W64, rax, mem(r15, -128)));               // mov rax, qword ptr [r15 - 128]
  EXPECT_BYTES("498b877fffffff", a.mov(W64, rax, mem(r15, -129)));         // mov rax, qword ptr [r15 - 129]
  EXPECT_BYTES("498b8745230100", a.mov(W64, rax, mem(r15, 0x12345)));      // mov rax, qword ptr [r15 + 74565]
  EXPECT_BYTES("498b87bbdcfeff", a.mov(W64, rax, mem(r15, -0x12345)));     // mov rax, qword ptr [r15 - 74565]
  EXPECT_BYTES("4c8b0c24", a.mov(W64, r9, mem(rsp)));                      // mov r9, qword ptr [rsp]
  EXPECT_BYTES("4c8b4d00", a.mov(W64, r9, mem(rbp)));                      // mov r9, qword ptr [rbp]
  EXPECT_BYTES("4d8b0c24", a.mov(W64, r9, mem(r12)));                      // mov r9, qword ptr [r12]
  EXPECT_BYTES("4d8b4d00", a.mov(W64, r9, mem(r13)));                      // mov r9, qword ptr [r13]
  EXPECT_BYTES("488b14c8", a.mov(W64, rdx, mem(rax, rcx, Scale::S8, 0)));  // mov rdx, qword ptr [rax + rcx*8]
  EXPECT_BYTES("488b1444", a.mov(W64, rdx, mem(rsp, rax, Scale::S2, 0)));  // mov rdx, qword ptr [rsp + rax*2]
  EXPECT_BYTES("488b543500",
               a.mov(W64, rdx, mem(rbp, rsi, Scale::S1, 0)));  // mov rdx, qword ptr [rbp + rsi*1]
  EXPECT_BYTES("4b8b948d00feffff",
               a.mov(W64, rdx, mem(r13, r9, Scale::S4, -0x200)));  // mov rdx, qword ptr [r13 + r9*4 - 512]
  EXPECT_BYTES("4b8b542408",
               a.mov(W64, rdx, mem(r12, r12, Scale::S1, 8)));  // mov rdx, qword ptr [r12 + r12*1 + 8]
  EXPECT_BYTES(
      "4a8b94fb00000080",
      a.mov(W64, rdx, mem(rbx, r15, Scale::S8, INT32_MIN)));  // mov rdx, qword ptr [rbx + r15*8 - 2147483648]
  EXPECT_BYTES(
      "498b946bffffff7f",
      a.mov(W64, rdx, mem(r11, rbp, Scale::S2, INT32_MAX)));  // mov rdx, qword ptr [r11 + rbp*2 + 2147483647]
  EXPECT_BYTES("8a4e04", a.mov(W8, rcx, mem(rsi, 4)));        // mov cl, byte ptr [rsi + 4]
  EXPECT_BYTES("458a7500", a.mov(W8, r14, mem(r13)));         // mov r14b, byte ptr [r13]
  EXPECT_BYTES("408a7424f0", a.mov(W8, rsi, mem(rsp, -16)));  // mov sil, byte ptr [rsp - 16]
  EXPECT_BYTES("418abc2400010000", a.mov(W8, rdi, mem(r12, 0x100)));     // mov dil, byte ptr [r12 + 256]
  EXPECT_BYTES("668b4e04", a.mov(W16, rcx, mem(rsi, 4)));                // mov cx, word ptr [rsi + 4]
  EXPECT_BYTES("66458b7500", a.mov(W16, r14, mem(r13)));                 // mov r14w, word ptr [r13]
  EXPECT_BYTES("668b7424f0", a.mov(W16, rsi, mem(rsp, -16)));            // mov si, word ptr [rsp - 16]
  EXPECT_BYTES("66418bbc2400010000", a.mov(W16, rdi, mem(r12, 0x100)));  // mov di, word ptr [r12 + 256]
  EXPECT_BYTES("8b4e04", a.mov(W32, rcx, mem(rsi, 4)));                  // mov ecx, dword ptr [rsi + 4]
  EXPECT_BYTES("458b7500", a.mov(W32, r14, mem(r13)));                   // mov r14d, dword ptr [r13]
  EXPECT_BYTES("8b7424f0", a.mov(W32, rsi, mem(rsp, -16)));              // mov esi, dword ptr [rsp - 16]
  EXPECT_BYTES("418bbc2400010000", a.mov(W32, rdi, mem(r12, 0x100)));    // mov edi, dword ptr [r12 + 256]
  EXPECT_BYTES("488b4e04", a.mov(W64, rcx, mem(rsi, 4)));                // mov rcx, qword ptr [rsi + 4]
  EXPECT_BYTES("4d8b7500", a.mov(W64, r14, mem(r13)));                   // mov r14, qword ptr [r13]
  EXPECT_BYTES("488b7424f0", a.mov(W64, rsi, mem(rsp, -16)));            // mov rsi, qword ptr [rsp - 16]
  EXPECT_BYTES("498bbc2400010000", a.mov(W64, rdi, mem(r12, 0x100)));    // mov rdi, qword ptr [r12 + 256]
}

TEST(X86GoldenMov, Store) {
  EXPECT_BYTES("8807", a.mov(W8, mem(rdi), rax));                        // mov byte ptr [rdi], al
  EXPECT_BYTES("884df8", a.mov(W8, mem(rbp, -8), rcx));                  // mov byte ptr [rbp - 8], cl
  EXPECT_BYTES("4488442408", a.mov(W8, mem(rsp, 8), r8));                // mov byte ptr [rsp + 8], r8b
  EXPECT_BYTES("4188b42400020000", a.mov(W8, mem(r12, 0x200), rsi));     // mov byte ptr [r12 + 512], sil
  EXPECT_BYTES("41887d00", a.mov(W8, mem(r13), rdi));                    // mov byte ptr [r13], dil
  EXPECT_BYTES("40886001", a.mov(W8, mem(rax, 1), rsp));                 // mov byte ptr [rax + 1], spl
  EXPECT_BYTES("4188af00f0ffff", a.mov(W8, mem(r15, -0x1000), rbp));     // mov byte ptr [r15 - 4096], bpl
  EXPECT_BYTES("44883b", a.mov(W8, mem(rbx), r15));                      // mov byte ptr [rbx], r15b
  EXPECT_BYTES("668907", a.mov(W16, mem(rdi), rax));                     // mov word ptr [rdi], ax
  EXPECT_BYTES("66894df8", a.mov(W16, mem(rbp, -8), rcx));               // mov word ptr [rbp - 8], cx
  EXPECT_BYTES("664489442408", a.mov(W16, mem(rsp, 8), r8));             // mov word ptr [rsp + 8], r8w
  EXPECT_BYTES("664189b42400020000", a.mov(W16, mem(r12, 0x200), rsi));  // mov word ptr [r12 + 512], si
  EXPECT_BYTES("6641897d00", a.mov(W16, mem(r13), rdi));                 // mov word ptr [r13], di
  EXPECT_BYTES("66896001", a.mov(W16, mem(rax, 1), rsp));                // mov word ptr [rax + 1], sp
  EXPECT_BYTES("664189af00f0ffff", a.mov(W16, mem(r15, -0x1000), rbp));  // mov word ptr [r15 - 4096], bp
  EXPECT_BYTES("6644893b", a.mov(W16, mem(rbx), r15));                   // mov word ptr [rbx], r15w
  EXPECT_BYTES("8907", a.mov(W32, mem(rdi), rax));                       // mov dword ptr [rdi], eax
  EXPECT_BYTES("894df8", a.mov(W32, mem(rbp, -8), rcx));                 // mov dword ptr [rbp - 8], ecx
  EXPECT_BYTES("4489442408", a.mov(W32, mem(rsp, 8), r8));               // mov dword ptr [rsp + 8], r8d
  EXPECT_BYTES("4189b42400020000", a.mov(W32, mem(r12, 0x200), rsi));    // mov dword ptr [r12 + 512], esi
  EXPECT_BYTES("41897d00", a.mov(W32, mem(r13), rdi));                   // mov dword ptr [r13], edi
  EXPECT_BYTES("896001", a.mov(W32, mem(rax, 1), rsp));                  // mov dword ptr [rax + 1], esp
  EXPECT_BYTES("4189af00f0ffff", a.mov(W32, mem(r15, -0x1000), rbp));    // mov dword ptr [r15 - 4096], ebp
  EXPECT_BYTES("44893b", a.mov(W32, mem(rbx), r15));                     // mov dword ptr [rbx], r15d
  EXPECT_BYTES("488907", a.mov(W64, mem(rdi), rax));                     // mov qword ptr [rdi], rax
  EXPECT_BYTES("48894df8", a.mov(W64, mem(rbp, -8), rcx));               // mov qword ptr [rbp - 8], rcx
  EXPECT_BYTES("4c89442408", a.mov(W64, mem(rsp, 8), r8));               // mov qword ptr [rsp + 8], r8
  EXPECT_BYTES("4989b42400020000", a.mov(W64, mem(r12, 0x200), rsi));    // mov qword ptr [r12 + 512], rsi
  EXPECT_BYTES("49897d00", a.mov(W64, mem(r13), rdi));                   // mov qword ptr [r13], rdi
  EXPECT_BYTES("48896001", a.mov(W64, mem(rax, 1), rsp));                // mov qword ptr [rax + 1], rsp
  EXPECT_BYTES("4989af00f0ffff", a.mov(W64, mem(r15, -0x1000), rbp));    // mov qword ptr [r15 - 4096], rbp
  EXPECT_BYTES("4c893b", a.mov(W64, mem(rbx), r15));                     // mov qword ptr [rbx], r15
  EXPECT_BYTES("448914c8",
               a.mov(W32, mem(rax, rcx, Scale::S8, 0), r10));  // mov dword ptr [rax + rcx*8], r10d
  EXPECT_BYTES("44891444",
               a.mov(W32, mem(rsp, rax, Scale::S2, 0), r10));  // mov dword ptr [rsp + rax*2], r10d
  EXPECT_BYTES("4489543500",
               a.mov(W32, mem(rbp, rsi, Scale::S1, 0), r10));  // mov dword ptr [rbp + rsi*1], r10d
  EXPECT_BYTES("4789948d00feffff",
               a.mov(W32, mem(r13, r9, Scale::S4, -0x200), r10));  // mov dword ptr [r13 + r9*4 - 512], r10d
  EXPECT_BYTES("4789542408",
               a.mov(W32, mem(r12, r12, Scale::S1, 8), r10));  // mov dword ptr [r12 + r12*1 + 8], r10d
  EXPECT_BYTES("468994fb00000080", a.mov(W32, mem(rbx, r15, Scale::S8, INT32_MIN),
                                         r10));  // mov dword ptr [rbx + r15*8 - 2147483648], r10d
  EXPECT_BYTES("4589946bffffff7f", a.mov(W32, mem(r11, rbp, Scale::S2, INT32_MAX),
                                         r10));  // mov dword ptr [r11 + rbp*2 + 2147483647], r10d
}

TEST(X86GoldenMov, StoreImmediate) {
  EXPECT_BYTES("c645f87f", a.mov_imm(W8, mem(rbp, -8), 127));              // mov byte ptr [rbp - 8], 127
  EXPECT_BYTES("41c604247f", a.mov_imm(W8, mem(r12), 127));                // mov byte ptr [r12], 127
  EXPECT_BYTES("41c685001000007f", a.mov_imm(W8, mem(r13, 0x1000), 127));  // mov byte ptr [r13 + 4096], 127
  EXPECT_BYTES("c6007f", a.mov_imm(W8, mem(rax), 127));                    // mov byte ptr [rax], 127
  EXPECT_BYTES("c645f8ff", a.mov_imm(W8, mem(rbp, -8), -1));               // mov byte ptr [rbp - 8], 255
  EXPECT_BYTES("41c60424ff", a.mov_imm(W8, mem(r12), -1));                 // mov byte ptr [r12], 255
  EXPECT_BYTES("41c68500100000ff", a.mov_imm(W8, mem(r13, 0x1000), -1));   // mov byte ptr [r13 + 4096], 255
  EXPECT_BYTES("c600ff", a.mov_imm(W8, mem(rax), -1));                     // mov byte ptr [rax], 255
  EXPECT_BYTES("c645f8c8", a.mov_imm(W8, mem(rbp, -8), 200));              // mov byte ptr [rbp - 8], 200
  EXPECT_BYTES("41c60424c8", a.mov_imm(W8, mem(r12), 200));                // mov byte ptr [r12], 200
  EXPECT_BYTES("41c68500100000c8", a.mov_imm(W8, mem(r13, 0x1000), 200));  // mov byte ptr [r13 + 4096], 200
  EXPECT_BYTES("c600c8", a.mov_imm(W8, mem(rax), 200));                    // mov byte ptr [rax], 200
  EXPECT_BYTES("66c745f83412", a.mov_imm(W16, mem(rbp, -8), 0x1234));      // mov word ptr [rbp - 8], 4660
  EXPECT_BYTES("6641c704243412", a.mov_imm(W16, mem(r12), 0x1234));        // mov word ptr [r12], 4660
  EXPECT_BYTES("6641c785001000003412",
               a.mov_imm(W16, mem(r13, 0x1000), 0x1234));          // mov word ptr [r13 + 4096], 4660
  EXPECT_BYTES("66c7003412", a.mov_imm(W16, mem(rax), 0x1234));    // mov word ptr [rax], 4660
  EXPECT_BYTES("66c745f8feff", a.mov_imm(W16, mem(rbp, -8), -2));  // mov word ptr [rbp - 8], 65534
  EXPECT_BYTES("6641c70424feff", a.mov_imm(W16, mem(r12), -2));    // mov word ptr [r12], 65534
  EXPECT_BYTES("6641c78500100000feff",
               a.mov_imm(W16, mem(r13, 0x1000), -2));        // mov word ptr [r13 + 4096], 65534
  EXPECT_BYTES("66c700feff", a.mov_imm(W16, mem(rax), -2));  // mov word ptr [rax], 65534
  EXPECT_BYTES("c745f878563412",
               a.mov_imm(W32, mem(rbp, -8), 0x12345678));  // mov dword ptr [rbp - 8], 305419896
  EXPECT_BYTES("41c7042478563412", a.mov_imm(W32, mem(r12), 0x12345678));  // mov dword ptr [r12], 305419896
  EXPECT_BYTES("41c7850010000078563412",
               a.mov_imm(W32, mem(r13, 0x1000), 0x12345678));  // mov dword ptr [r13 + 4096], 305419896
  EXPECT_BYTES("c70078563412", a.mov_imm(W32, mem(rax), 0x12345678));  // mov dword ptr [rax], 305419896
  EXPECT_BYTES("c745f8ffffffff", a.mov_imm(W32, mem(rbp, -8), -1));    // mov dword ptr [rbp - 8], 4294967295
  EXPECT_BYTES("41c70424ffffffff", a.mov_imm(W32, mem(r12), -1));      // mov dword ptr [r12], 4294967295
  EXPECT_BYTES("41c78500100000ffffffff",
               a.mov_imm(W32, mem(r13, 0x1000), -1));          // mov dword ptr [r13 + 4096], 4294967295
  EXPECT_BYTES("c700ffffffff", a.mov_imm(W32, mem(rax), -1));  // mov dword ptr [rax], 4294967295
  EXPECT_BYTES("48c745f8ffffffff", a.mov_imm(W64, mem(rbp, -8), -1));  // mov qword ptr [rbp - 8], -1
  EXPECT_BYTES("49c70424ffffffff", a.mov_imm(W64, mem(r12), -1));      // mov qword ptr [r12], -1
  EXPECT_BYTES("49c78500100000ffffffff",
               a.mov_imm(W64, mem(r13, 0x1000), -1));            // mov qword ptr [r13 + 4096], -1
  EXPECT_BYTES("48c700ffffffff", a.mov_imm(W64, mem(rax), -1));  // mov qword ptr [rax], -1
  EXPECT_BYTES("48c745f8ffffff7f",
               a.mov_imm(W64, mem(rbp, -8), INT32_MAX));  // mov qword ptr [rbp - 8], 2147483647
  EXPECT_BYTES("49c70424ffffff7f", a.mov_imm(W64, mem(r12), INT32_MAX));  // mov qword ptr [r12], 2147483647
  EXPECT_BYTES("49c78500100000ffffff7f",
               a.mov_imm(W64, mem(r13, 0x1000), INT32_MAX));  // mov qword ptr [r13 + 4096], 2147483647
  EXPECT_BYTES("48c700ffffff7f", a.mov_imm(W64, mem(rax), INT32_MAX));  // mov qword ptr [rax], 2147483647
}

TEST(X86GoldenMov, ZeroExtend) {
  EXPECT_BYTES("0fb6c1", a.movzx(rax, W8, rcx));                          // movzx eax, cl
  EXPECT_BYTES("400fb6c6", a.movzx(rax, W8, rsi));                        // movzx eax, sil
  EXPECT_BYTES("400fb6fc", a.movzx(rdi, W8, rsp));                        // movzx edi, spl
  EXPECT_BYTES("450fb6ca", a.movzx(r9, W8, r10));                         // movzx r9d, r10b
  EXPECT_BYTES("400fb6f5", a.movzx(rsi, W8, rbp));                        // movzx esi, bpl
  EXPECT_BYTES("440fb6ff", a.movzx(r15, W8, rdi));                        // movzx r15d, dil
  EXPECT_BYTES("0fb6db", a.movzx(rbx, W8, rbx));                          // movzx ebx, bl
  EXPECT_BYTES("0fb6442402", a.movzx(rax, W8, mem(rsp, 2)));              // movzx eax, byte ptr [rsp + 2]
  EXPECT_BYTES("450fb65d00", a.movzx(r11, W8, mem(r13)));                 // movzx r11d, byte ptr [r13]
  EXPECT_BYTES("0fb64dfc", a.movzx(rcx, W8, mem(rbp, -4)));               // movzx ecx, byte ptr [rbp - 4]
  EXPECT_BYTES("450fb6842400040000", a.movzx(r8, W8, mem(r12, 0x400)));   // movzx r8d, byte ptr [r12 + 1024]
  EXPECT_BYTES("0fb7c1", a.movzx(rax, W16, rcx));                         // movzx eax, cx
  EXPECT_BYTES("0fb7c6", a.movzx(rax, W16, rsi));                         // movzx eax, si
  EXPECT_BYTES("0fb7fc", a.movzx(rdi, W16, rsp));                         // movzx edi, sp
  EXPECT_BYTES("450fb7ca", a.movzx(r9, W16, r10));                        // movzx r9d, r10w
  EXPECT_BYTES("0fb7f5", a.movzx(rsi, W16, rbp));                         // movzx esi, bp
  EXPECT_BYTES("440fb7ff", a.movzx(r15, W16, rdi));                       // movzx r15d, di
  EXPECT_BYTES("0fb7db", a.movzx(rbx, W16, rbx));                         // movzx ebx, bx
  EXPECT_BYTES("0fb7442402", a.movzx(rax, W16, mem(rsp, 2)));             // movzx eax, word ptr [rsp + 2]
  EXPECT_BYTES("450fb75d00", a.movzx(r11, W16, mem(r13)));                // movzx r11d, word ptr [r13]
  EXPECT_BYTES("0fb74dfc", a.movzx(rcx, W16, mem(rbp, -4)));              // movzx ecx, word ptr [rbp - 4]
  EXPECT_BYTES("450fb7842400040000", a.movzx(r8, W16, mem(r12, 0x400)));  // movzx r8d, word ptr [r12 + 1024]
}

TEST(X86GoldenMov, SignExtend) {
  EXPECT_BYTES("480fbec1", a.movsx(W64, rax, W8, rcx));              // movsx rax, cl
  EXPECT_BYTES("480fbec6", a.movsx(W64, rax, W8, rsi));              // movsx rax, sil
  EXPECT_BYTES("480fbefc", a.movsx(W64, rdi, W8, rsp));              // movsx rdi, spl
  EXPECT_BYTES("4d0fbeca", a.movsx(W64, r9, W8, r10));               // movsx r9, r10b
  EXPECT_BYTES("480fbef5", a.movsx(W64, rsi, W8, rbp));              // movsx rsi, bpl
  EXPECT_BYTES("4c0fbeff", a.movsx(W64, r15, W8, rdi));              // movsx r15, dil
  EXPECT_BYTES("480fbe442402", a.movsx(W64, rax, W8, mem(rsp, 2)));  // movsx rax, byte ptr [rsp + 2]
  EXPECT_BYTES("4d0fbe5d00", a.movsx(W64, r11, W8, mem(r13)));       // movsx r11, byte ptr [r13]
  EXPECT_BYTES("480fbe4dfc", a.movsx(W64, rcx, W8, mem(rbp, -4)));   // movsx rcx, byte ptr [rbp - 4]
  EXPECT_BYTES("4d0fbe842400040000",
               a.movsx(W64, r8, W8, mem(r12, 0x400)));                // movsx r8, byte ptr [r12 + 1024]
  EXPECT_BYTES("480fbfc1", a.movsx(W64, rax, W16, rcx));              // movsx rax, cx
  EXPECT_BYTES("480fbfc6", a.movsx(W64, rax, W16, rsi));              // movsx rax, si
  EXPECT_BYTES("480fbffc", a.movsx(W64, rdi, W16, rsp));              // movsx rdi, sp
  EXPECT_BYTES("4d0fbfca", a.movsx(W64, r9, W16, r10));               // movsx r9, r10w
  EXPECT_BYTES("480fbff5", a.movsx(W64, rsi, W16, rbp));              // movsx rsi, bp
  EXPECT_BYTES("4c0fbfff", a.movsx(W64, r15, W16, rdi));              // movsx r15, di
  EXPECT_BYTES("480fbf442402", a.movsx(W64, rax, W16, mem(rsp, 2)));  // movsx rax, word ptr [rsp + 2]
  EXPECT_BYTES("4d0fbf5d00", a.movsx(W64, r11, W16, mem(r13)));       // movsx r11, word ptr [r13]
  EXPECT_BYTES("480fbf4dfc", a.movsx(W64, rcx, W16, mem(rbp, -4)));   // movsx rcx, word ptr [rbp - 4]
  EXPECT_BYTES("4d0fbf842400040000",
               a.movsx(W64, r8, W16, mem(r12, 0x400)));             // movsx r8, word ptr [r12 + 1024]
  EXPECT_BYTES("4863c1", a.movsx(W64, rax, W32, rcx));              // movsxd rax, ecx
  EXPECT_BYTES("4863c6", a.movsx(W64, rax, W32, rsi));              // movsxd rax, esi
  EXPECT_BYTES("4863fc", a.movsx(W64, rdi, W32, rsp));              // movsxd rdi, esp
  EXPECT_BYTES("4d63ca", a.movsx(W64, r9, W32, r10));               // movsxd r9, r10d
  EXPECT_BYTES("4863f5", a.movsx(W64, rsi, W32, rbp));              // movsxd rsi, ebp
  EXPECT_BYTES("4c63ff", a.movsx(W64, r15, W32, rdi));              // movsxd r15, edi
  EXPECT_BYTES("4863442402", a.movsx(W64, rax, W32, mem(rsp, 2)));  // movsxd rax, dword ptr [rsp + 2]
  EXPECT_BYTES("4d635d00", a.movsx(W64, r11, W32, mem(r13)));       // movsxd r11, dword ptr [r13]
  EXPECT_BYTES("48634dfc", a.movsx(W64, rcx, W32, mem(rbp, -4)));   // movsxd rcx, dword ptr [rbp - 4]
  EXPECT_BYTES("4d63842400040000",
               a.movsx(W64, r8, W32, mem(r12, 0x400)));            // movsxd r8, dword ptr [r12 + 1024]
  EXPECT_BYTES("0fbec1", a.movsx(W32, rax, W8, rcx));              // movsx eax, cl
  EXPECT_BYTES("400fbec6", a.movsx(W32, rax, W8, rsi));            // movsx eax, sil
  EXPECT_BYTES("400fbefc", a.movsx(W32, rdi, W8, rsp));            // movsx edi, spl
  EXPECT_BYTES("450fbeca", a.movsx(W32, r9, W8, r10));             // movsx r9d, r10b
  EXPECT_BYTES("400fbef5", a.movsx(W32, rsi, W8, rbp));            // movsx esi, bpl
  EXPECT_BYTES("440fbeff", a.movsx(W32, r15, W8, rdi));            // movsx r15d, dil
  EXPECT_BYTES("0fbe442402", a.movsx(W32, rax, W8, mem(rsp, 2)));  // movsx eax, byte ptr [rsp + 2]
  EXPECT_BYTES("450fbe5d00", a.movsx(W32, r11, W8, mem(r13)));     // movsx r11d, byte ptr [r13]
  EXPECT_BYTES("0fbe4dfc", a.movsx(W32, rcx, W8, mem(rbp, -4)));   // movsx ecx, byte ptr [rbp - 4]
  EXPECT_BYTES("450fbe842400040000",
               a.movsx(W32, r8, W8, mem(r12, 0x400)));              // movsx r8d, byte ptr [r12 + 1024]
  EXPECT_BYTES("0fbfc1", a.movsx(W32, rax, W16, rcx));              // movsx eax, cx
  EXPECT_BYTES("0fbfc6", a.movsx(W32, rax, W16, rsi));              // movsx eax, si
  EXPECT_BYTES("0fbffc", a.movsx(W32, rdi, W16, rsp));              // movsx edi, sp
  EXPECT_BYTES("450fbfca", a.movsx(W32, r9, W16, r10));             // movsx r9d, r10w
  EXPECT_BYTES("0fbff5", a.movsx(W32, rsi, W16, rbp));              // movsx esi, bp
  EXPECT_BYTES("440fbfff", a.movsx(W32, r15, W16, rdi));            // movsx r15d, di
  EXPECT_BYTES("0fbf442402", a.movsx(W32, rax, W16, mem(rsp, 2)));  // movsx eax, word ptr [rsp + 2]
  EXPECT_BYTES("450fbf5d00", a.movsx(W32, r11, W16, mem(r13)));     // movsx r11d, word ptr [r13]
  EXPECT_BYTES("0fbf4dfc", a.movsx(W32, rcx, W16, mem(rbp, -4)));   // movsx ecx, word ptr [rbp - 4]
  EXPECT_BYTES("450fbf842400040000",
               a.movsx(W32, r8, W16, mem(r12, 0x400)));  // movsx r8d, word ptr [r12 + 1024]
}

TEST(X86GoldenMov, Lea) {
  EXPECT_BYTES("8d442408", a.lea(W32, rax, mem(rsp, 8)));                  // lea eax, [rsp + 8]
  EXPECT_BYTES("8d4d00", a.lea(W32, rcx, mem(rbp)));                       // lea ecx, [rbp]
  EXPECT_BYTES("458d45ff", a.lea(W32, r8, mem(r13, -1)));                  // lea r8d, [r13 - 1]
  EXPECT_BYTES("458dbc2400100000", a.lea(W32, r15, mem(r12, 0x1000)));     // lea r15d, [r12 + 4096]
  EXPECT_BYTES("8d38", a.lea(W32, rdi, mem(rax)));                         // lea edi, [rax]
  EXPECT_BYTES("8d34c8", a.lea(W32, rsi, mem(rax, rcx, Scale::S8, 0)));    // lea esi, [rax + rcx*8]
  EXPECT_BYTES("8d3444", a.lea(W32, rsi, mem(rsp, rax, Scale::S2, 0)));    // lea esi, [rsp + rax*2]
  EXPECT_BYTES("8d743500", a.lea(W32, rsi, mem(rbp, rsi, Scale::S1, 0)));  // lea esi, [rbp + rsi*1]
  EXPECT_BYTES("438db48d00feffff",
               a.lea(W32, rsi, mem(r13, r9, Scale::S4, -0x200)));            // lea esi, [r13 + r9*4 - 512]
  EXPECT_BYTES("438d742408", a.lea(W32, rsi, mem(r12, r12, Scale::S1, 8)));  // lea esi, [r12 + r12*1 + 8]
  EXPECT_BYTES("428db4fb00000080",
               a.lea(W32, rsi, mem(rbx, r15, Scale::S8, INT32_MIN)));  // lea esi, [rbx + r15*8 - 2147483648]
  EXPECT_BYTES("418db46bffffff7f",
               a.lea(W32, rsi, mem(r11, rbp, Scale::S2, INT32_MAX)));   // lea esi, [r11 + rbp*2 + 2147483647]
  EXPECT_BYTES("488d442408", a.lea(W64, rax, mem(rsp, 8)));             // lea rax, [rsp + 8]
  EXPECT_BYTES("488d4d00", a.lea(W64, rcx, mem(rbp)));                  // lea rcx, [rbp]
  EXPECT_BYTES("4d8d45ff", a.lea(W64, r8, mem(r13, -1)));               // lea r8, [r13 - 1]
  EXPECT_BYTES("4d8dbc2400100000", a.lea(W64, r15, mem(r12, 0x1000)));  // lea r15, [r12 + 4096]
  EXPECT_BYTES("488d38", a.lea(W64, rdi, mem(rax)));                    // lea rdi, [rax]
  EXPECT_BYTES("488d34c8", a.lea(W64, rsi, mem(rax, rcx, Scale::S8, 0)));    // lea rsi, [rax + rcx*8]
  EXPECT_BYTES("488d3444", a.lea(W64, rsi, mem(rsp, rax, Scale::S2, 0)));    // lea rsi, [rsp + rax*2]
  EXPECT_BYTES("488d743500", a.lea(W64, rsi, mem(rbp, rsi, Scale::S1, 0)));  // lea rsi, [rbp + rsi*1]
  EXPECT_BYTES("4b8db48d00feffff",
               a.lea(W64, rsi, mem(r13, r9, Scale::S4, -0x200)));            // lea rsi, [r13 + r9*4 - 512]
  EXPECT_BYTES("4b8d742408", a.lea(W64, rsi, mem(r12, r12, Scale::S1, 8)));  // lea rsi, [r12 + r12*1 + 8]
  EXPECT_BYTES("4a8db4fb00000080",
               a.lea(W64, rsi, mem(rbx, r15, Scale::S8, INT32_MIN)));  // lea rsi, [rbx + r15*8 - 2147483648]
  EXPECT_BYTES("498db46bffffff7f",
               a.lea(W64, rsi, mem(r11, rbp, Scale::S2, INT32_MAX)));  // lea rsi, [r11 + rbp*2 + 2147483647]
}

}  // namespace
}  // namespace bpfdiff::jit::x86
