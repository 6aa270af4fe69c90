// Golden bytes for the integer ALU forms.
// Bytes come from the encoding rules and were checked against GNU as; lines
// marked (... not ...) pin a choice where another valid encoding exists.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/jit/x86_test_util.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using enum Reg;
using enum Width;

TEST(X86GoldenAlu, RegReg) {
  EXPECT_BYTES("00c8", a.alu(AluOp::Add, W8, rax, rcx));       // add al, cl
  EXPECT_BYTES("4500f8", a.alu(AluOp::Add, W8, r8, r15));      // add r8b, r15b
  EXPECT_BYTES("4000fe", a.alu(AluOp::Add, W8, rsi, rdi));     // add sil, dil
  EXPECT_BYTES("4400e4", a.alu(AluOp::Add, W8, rsp, r12));     // add spl, r12b
  EXPECT_BYTES("6601c8", a.alu(AluOp::Add, W16, rax, rcx));    // add ax, cx
  EXPECT_BYTES("664501f8", a.alu(AluOp::Add, W16, r8, r15));   // add r8w, r15w
  EXPECT_BYTES("6601fe", a.alu(AluOp::Add, W16, rsi, rdi));    // add si, di
  EXPECT_BYTES("664401e4", a.alu(AluOp::Add, W16, rsp, r12));  // add sp, r12w
  EXPECT_BYTES("01c8", a.alu(AluOp::Add, W32, rax, rcx));      // add eax, ecx
  EXPECT_BYTES("4501f8", a.alu(AluOp::Add, W32, r8, r15));     // add r8d, r15d
  EXPECT_BYTES("01fe", a.alu(AluOp::Add, W32, rsi, rdi));      // add esi, edi
  EXPECT_BYTES("4401e4", a.alu(AluOp::Add, W32, rsp, r12));    // add esp, r12d
  EXPECT_BYTES("4801c8", a.alu(AluOp::Add, W64, rax, rcx));    // add rax, rcx
  EXPECT_BYTES("4d01f8", a.alu(AluOp::Add, W64, r8, r15));     // add r8, r15
  EXPECT_BYTES("4801fe", a.alu(AluOp::Add, W64, rsi, rdi));    // add rsi, rdi
  EXPECT_BYTES("4c01e4", a.alu(AluOp::Add, W64, rsp, r12));    // add rsp, r12
  EXPECT_BYTES("08c8", a.alu(AluOp::Or, W8, rax, rcx));        // or al, cl
  EXPECT_BYTES("664509f8", a.alu(AluOp::Or, W16, r8, r15));    // or r8w, r15w
  EXPECT_BYTES("09fe", a.alu(AluOp::Or, W32, rsi, rdi));       // or esi, edi
  EXPECT_BYTES("4c09e4", a.alu(AluOp::Or, W64, rsp, r12));     // or rsp, r12
  EXPECT_BYTES("10c8", a.alu(AluOp::Adc, W8, rax, rcx));       // adc al, cl
  EXPECT_BYTES("664511f8", a.alu(AluOp::Adc, W16, r8, r15));   // adc r8w, r15w
  EXPECT_BYTES("11fe", a.alu(AluOp::Adc, W32, rsi, rdi));      // adc esi, edi
  EXPECT_BYTES("4c11e4", a.alu(AluOp::Adc, W64, rsp, r12));    // adc rsp, r12
  EXPECT_BYTES("18c8", a.alu(AluOp::Sbb, W8, rax, rcx));       // sbb al, cl
  EXPECT_BYTES("664519f8", a.alu(AluOp::Sbb, W16, r8, r15));   // sbb r8w, r15w
  EXPECT_BYTES("19fe", a.alu(AluOp::Sbb, W32, rsi, rdi));      // sbb esi, edi
  EXPECT_BYTES("4c19e4", a.alu(AluOp::Sbb, W64, rsp, r12));    // sbb rsp, r12
  EXPECT_BYTES("20c8", a.alu(AluOp::And, W8, rax, rcx));       // and al, cl
  EXPECT_BYTES("664521f8", a.alu(AluOp::And, W16, r8, r15));   // and r8w, r15w
  EXPECT_BYTES("21fe", a.alu(AluOp::And, W32, rsi, rdi));      // and esi, edi
  EXPECT_BYTES("4c21e4", a.alu(AluOp::And, W64, rsp, r12));    // and rsp, r12
  EXPECT_BYTES("28c8", a.alu(AluOp::Sub, W8, rax, rcx));       // sub al, cl
  EXPECT_BYTES("664529f8", a.alu(AluOp::Sub, W16, r8, r15));   // sub r8w, r15w
  EXPECT_BYTES("29fe", a.alu(AluOp::Sub, W32, rsi, rdi));      // sub esi, edi
  EXPECT_BYTES("4c29e4", a.alu(AluOp::Sub, W64, rsp, r12));    // sub rsp, r12
  EXPECT_BYTES("30c8", a.alu(AluOp::Xor, W8, rax, rcx));       // xor al, cl
  EXPECT_BYTES("664531f8", a.alu(AluOp::Xor, W16, r8, r15));   // xor r8w, r15w
  EXPECT_BYTES("31fe", a.alu(AluOp::Xor, W32, rsi, rdi));      // xor esi, edi
  EXPECT_BYTES("4c31e4", a.alu(AluOp::Xor, W64, rsp, r12));    // xor rsp, r12
  EXPECT_BYTES("38c8", a.alu(AluOp::Cmp, W8, rax, rcx));       // cmp al, cl
  EXPECT_BYTES("664539f8", a.alu(AluOp::Cmp, W16, r8, r15));   // cmp r8w, r15w
  EXPECT_BYTES("39fe", a.alu(AluOp::Cmp, W32, rsi, rdi));      // cmp esi, edi
  EXPECT_BYTES("4c39e4", a.alu(AluOp::Cmp, W64, rsp, r12));    // cmp rsp, r12
  EXPECT_BYTES("4901ed", a.add(W64, r13, rbp));                // add r13, rbp
  EXPECT_BYTES("4929ed", a.sub(W64, r13, rbp));                // sub r13, rbp
  EXPECT_BYTES("4921ed", a.and_(W64, r13, rbp));               // and r13, rbp
  EXPECT_BYTES("4909ed", a.or_(W64, r13, rbp));                // or r13, rbp
  EXPECT_BYTES("4931ed", a.xor_(W64, r13, rbp));               // xor r13, rbp
  EXPECT_BYTES("4939ed", a.cmp(W64, r13, rbp));                // cmp r13, rbp
}

TEST(X86GoldenAlu, RegImm) {
  EXPECT_BYTES("4883c101", a.alu_imm(AluOp::Add, W64, rcx, 1));                // add rcx, 1
  EXPECT_BYTES("4883c1ff", a.alu_imm(AluOp::Add, W64, rcx, -1));               // add rcx, -1
  EXPECT_BYTES("4883c17f", a.alu_imm(AluOp::Add, W64, rcx, 127));              // add rcx, 127
  EXPECT_BYTES("4883c180", a.alu_imm(AluOp::Add, W64, rcx, -128));             // add rcx, -128
  EXPECT_BYTES("4881c180000000", a.alu_imm(AluOp::Add, W64, rcx, 128));        // add rcx, 128
  EXPECT_BYTES("4881c17fffffff", a.alu_imm(AluOp::Add, W64, rcx, -129));       // add rcx, -129
  EXPECT_BYTES("4983c108", a.alu_imm(AluOp::Add, W64, r9, 8));                 // add r9, 8
  EXPECT_BYTES("4981c134120000", a.alu_imm(AluOp::Add, W64, r9, 0x1234));      // add r9, 4660
  EXPECT_BYTES("4183c2ff", a.alu_imm(AluOp::Add, W32, r10, -1));               // add r10d, -1
  EXPECT_BYTES("4181c234120000", a.alu_imm(AluOp::Add, W32, r10, 0x1234));     // add r10d, 4660
  EXPECT_BYTES("6683c2ff", a.alu_imm(AluOp::Add, W16, rdx, -1));               // add dx, -1
  EXPECT_BYTES("6681c23412", a.alu_imm(AluOp::Add, W16, rdx, 0x1234));         // add dx, 4660
  EXPECT_BYTES("4881c3ffffff7f", a.alu_imm(AluOp::Add, W64, rbx, INT32_MAX));  // add rbx, 2147483647
  EXPECT_BYTES("4881c300000080", a.alu_imm(AluOp::Add, W64, rbx, INT32_MIN));  // add rbx, -2147483648
  EXPECT_BYTES("4080c67f", a.alu_imm(AluOp::Add, W8, rsi, 0x7f));              // add sil, 0x7f
  EXPECT_BYTES("4180c47f", a.alu_imm(AluOp::Add, W8, r12, 0x7f));              // add r12b, 0x7f
  EXPECT_BYTES("4883c901", a.alu_imm(AluOp::Or, W64, rcx, 1));                 // or rcx, 1
  EXPECT_BYTES("4883c9ff", a.alu_imm(AluOp::Or, W64, rcx, -1));                // or rcx, -1
  EXPECT_BYTES("4883c97f", a.alu_imm(AluOp::Or, W64, rcx, 127));               // or rcx, 127
  EXPECT_BYTES("4883c980", a.alu_imm(AluOp::Or, W64, rcx, -128));              // or rcx, -128
  EXPECT_BYTES("4881c980000000", a.alu_imm(AluOp::Or, W64, rcx, 128));         // or rcx, 128
  EXPECT_BYTES("4881c97fffffff", a.alu_imm(AluOp::Or, W64, rcx, -129));        // or rcx, -129
  EXPECT_BYTES("4983c908", a.alu_imm(AluOp::Or, W64, r9, 8));                  // or r9, 8
  EXPECT_BYTES("4981c934120000", a.alu_imm(AluOp::Or, W64, r9, 0x1234));       // or r9, 4660
  EXPECT_BYTES("4183caff", a.alu_imm(AluOp::Or, W32, r10, -1));                // or r10d, -1
  EXPECT_BYTES("4181ca34120000", a.alu_imm(AluOp::Or, W32, r10, 0x1234));      // or r10d, 4660
  EXPECT_BYTES("6683caff", a.alu_imm(AluOp::Or, W16, rdx, -1));                // or dx, -1
  EXPECT_BYTES("6681ca3412", a.alu_imm(AluOp::Or, W16, rdx, 0x1234));          // or dx, 4660
  EXPECT_BYTES("4881cbffffff7f", a.alu_imm(AluOp::Or, W64, rbx, INT32_MAX));   // or rbx, 2147483647
  EXPECT_BYTES("4881cb00000080", a.alu_imm(AluOp::Or, W64, rbx, INT32_MIN));   // or rbx, -2147483648
  EXPECT_BYTES("4080ce7f", a.alu_imm(AluOp::Or, W8, rsi, 0x7f));               // or sil, 0x7f
  EXPECT_BYTES("4180cc7f", a.alu_imm(AluOp::Or, W8, r12, 0x7f));               // or r12b, 0x7f
  EXPECT_BYTES("4883d101", a.alu_imm(AluOp::Adc, W64, rcx, 1));                // adc rcx, 1
  EXPECT_BYTES("4883d1ff", a.alu_imm(AluOp::Adc, W64, rcx, -1));               // adc rcx, -1
  EXPECT_BYTES("4883d17f", a.alu_imm(AluOp::Adc, W64, rcx, 127));              // adc rcx, 127
  EXPECT_BYTES("4883d180", a.alu_imm(AluOp::Adc, W64, rcx, -128));             // adc rcx, -128
  EXPECT_BYTES("4881d180000000", a.alu_imm(AluOp::Adc, W64, rcx, 128));        // adc rcx, 128
  EXPECT_BYTES("4881d17fffffff", a.alu_imm(AluOp::Adc, W64, rcx, -129));       // adc rcx, -129
  EXPECT_BYTES("4983d108", a.alu_imm(AluOp::Adc, W64, r9, 8));                 // adc r9, 8
  EXPECT_BYTES("4981d134120000", a.alu_imm(AluOp::Adc, W64, r9, 0x1234));      // adc r9, 4660
  EXPECT_BYTES("4183d2ff", a.alu_imm(AluOp::Adc, W32, r10, -1));               // adc r10d, -1
  EXPECT_BYTES("4181d234120000", a.alu_imm(AluOp::Adc, W32, r10, 0x1234));     // adc r10d, 4660
  EXPECT_BYTES("6683d2ff", a.alu_imm(AluOp::Adc, W16, rdx, -1));               // adc dx, -1
  EXPECT_BYTES("6681d23412", a.alu_imm(AluOp::Adc, W16, rdx, 0x1234));         // adc dx, 4660
  EXPECT_BYTES("4881d3ffffff7f", a.alu_imm(AluOp::Adc, W64, rbx, INT32_MAX));  // adc rbx, 2147483647
  EXPECT_BYTES("4881d300000080", a.alu_imm(AluOp::Adc, W64, rbx, INT32_MIN));  // adc rbx, -2147483648
  EXPECT_BYTES("4080d67f", a.alu_imm(AluOp::Adc, W8, rsi, 0x7f));              // adc sil, 0x7f
  EXPECT_BYTES("4180d47f", a.alu_imm(AluOp::Adc, W8, r12, 0x7f));              // adc r12b, 0x7f
  EXPECT_BYTES("4883d901", a.alu_imm(AluOp::Sbb, W64, rcx, 1));                // sbb rcx, 1
  EXPECT_BYTES("4883d9ff", a.alu_imm(AluOp::Sbb, W64, rcx, -1));               // sbb rcx, -1
  EXPECT_BYTES("4883d97f", a.alu_imm(AluOp::Sbb, W64, rcx, 127));              // sbb rcx, 127
  EXPECT_BYTES("4883d980", a.alu_imm(AluOp::Sbb, W64, rcx, -128));             // sbb rcx, -128
  EXPECT_BYTES("4881d980000000", a.alu_imm(AluOp::Sbb, W64, rcx, 128));        // sbb rcx, 128
  EXPECT_BYTES("4881d97fffffff", a.alu_imm(AluOp::Sbb, W64, rcx, -129));       // sbb rcx, -129
  EXPECT_BYTES("4983d908", a.alu_imm(AluOp::Sbb, W64, r9, 8));                 // sbb r9, 8
  EXPECT_BYTES("4981d934120000", a.alu_imm(AluOp::Sbb, W64, r9, 0x1234));      // sbb r9, 4660
  EXPECT_BYTES("4183daff", a.alu_imm(AluOp::Sbb, W32, r10, -1));               // sbb r10d, -1
  EXPECT_BYTES("4181da34120000", a.alu_imm(AluOp::Sbb, W32, r10, 0x1234));     // sbb r10d, 4660
  EXPECT_BYTES("6683daff", a.alu_imm(AluOp::Sbb, W16, rdx, -1));               // sbb dx, -1
  EXPECT_BYTES("6681da3412", a.alu_imm(AluOp::Sbb, W16, rdx, 0x1234));         // sbb dx, 4660
  EXPECT_BYTES("4881dbffffff7f", a.alu_imm(AluOp::Sbb, W64, rbx, INT32_MAX));  // sbb rbx, 2147483647
  EXPECT_BYTES("4881db00000080", a.alu_imm(AluOp::Sbb, W64, rbx, INT32_MIN));  // sbb rbx, -2147483648
  EXPECT_BYTES("4080de7f", a.alu_imm(AluOp::Sbb, W8, rsi, 0x7f));              // sbb sil, 0x7f
  EXPECT_BYTES("4180dc7f", a.alu_imm(AluOp::Sbb, W8, r12, 0x7f));              // sbb r12b, 0x7f
  EXPECT_BYTES("4883e101", a.alu_imm(AluOp::And, W64, rcx, 1));                // and rcx, 1
  EXPECT_BYTES("4883e1ff", a.alu_imm(AluOp::And, W64, rcx, -1));               // and rcx, -1
  EXPECT_BYTES("4883e17f", a.alu_imm(AluOp::And, W64, rcx, 127));              // and rcx, 127
  EXPECT_BYTES("4883e180", a.alu_imm(AluOp::And, W64, rcx, -128));             // and rcx, -128
  EXPECT_BYTES("4881e180000000", a.alu_imm(AluOp::And, W64, rcx, 128));        // and rcx, 128
  EXPECT_BYTES("4881e17fffffff", a.alu_imm(AluOp::And, W64, rcx, -129));       // and rcx, -129
  EXPECT_BYTES("4983e108", a.alu_imm(AluOp::And, W64, r9, 8));                 // and r9, 8
  EXPECT_BYTES("4981e134120000", a.alu_imm(AluOp::And, W64, r9, 0x1234));      // and r9, 4660
  EXPECT_BYTES("4183e2ff", a.alu_imm(AluOp::And, W32, r10, -1));               // and r10d, -1
  EXPECT_BYTES("4181e234120000", a.alu_imm(AluOp::And, W32, r10, 0x1234));     // and r10d, 4660
  EXPECT_BYTES("6683e2ff", a.alu_imm(AluOp::And, W16, rdx, -1));               // and dx, -1
  EXPECT_BYTES("6681e23412", a.alu_imm(AluOp::And, W16, rdx, 0x1234));         // and dx, 4660
  EXPECT_BYTES("4881e3ffffff7f", a.alu_imm(AluOp::And, W64, rbx, INT32_MAX));  // and rbx, 2147483647
  EXPECT_BYTES("4881e300000080", a.alu_imm(AluOp::And, W64, rbx, INT32_MIN));  // and rbx, -2147483648
  EXPECT_BYTES("4080e67f", a.alu_imm(AluOp::And, W8, rsi, 0x7f));              // and sil, 0x7f
  EXPECT_BYTES("4180e47f", a.alu_imm(AluOp::And, W8, r12, 0x7f));              // and r12b, 0x7f
  EXPECT_BYTES("4883e901", a.alu_imm(AluOp::Sub, W64, rcx, 1));                // sub rcx, 1
  EXPECT_BYTES("4883e9ff", a.alu_imm(AluOp::Sub, W64, rcx, -1));               // sub rcx, -1
  EXPECT_BYTES("4883e97f", a.alu_imm(AluOp::Sub, W64, rcx, 127));              // sub rcx, 127
  EXPECT_BYTES("4883e980", a.alu_imm(AluOp::Sub, W64, rcx, -128));             // sub rcx, -128
  EXPECT_BYTES("4881e980000000", a.alu_imm(AluOp::Sub, W64, rcx, 128));        // sub rcx, 128
  EXPECT_BYTES("4881e97fffffff", a.alu_imm(AluOp::Sub, W64, rcx, -129));       // sub rcx, -129
  EXPECT_BYTES("4983e908", a.alu_imm(AluOp::Sub, W64, r9, 8));                 // sub r9, 8
  EXPECT_BYTES("4981e934120000", a.alu_imm(AluOp::Sub, W64, r9, 0x1234));      // sub r9, 4660
  EXPECT_BYTES("4183eaff", a.alu_imm(AluOp::Sub, W32, r10, -1));               // sub r10d, -1
  EXPECT_BYTES("4181ea34120000", a.alu_imm(AluOp::Sub, W32, r10, 0x1234));     // sub r10d, 4660
  EXPECT_BYTES("6683eaff", a.alu_imm(AluOp::Sub, W16, rdx, -1));               // sub dx, -1
  EXPECT_BYTES("6681ea3412", a.alu_imm(AluOp::Sub, W16, rdx, 0x1234));         // sub dx, 4660
  EXPECT_BYTES("4881ebffffff7f", a.alu_imm(AluOp::Sub, W64, rbx, INT32_MAX));  // sub rbx, 2147483647
  EXPECT_BYTES("4881eb00000080", a.alu_imm(AluOp::Sub, W64, rbx, INT32_MIN));  // sub rbx, -2147483648
  EXPECT_BYTES("4080ee7f", a.alu_imm(AluOp::Sub, W8, rsi, 0x7f));              // sub sil, 0x7f
  EXPECT_BYTES("4180ec7f", a.alu_imm(AluOp::Sub, W8, r12, 0x7f));              // sub r12b, 0x7f
  EXPECT_BYTES("4883f101", a.alu_imm(AluOp::Xor, W64, rcx, 1));                // xor rcx, 1
  EXPECT_BYTES("4883f1ff", a.alu_imm(AluOp::Xor, W64, rcx, -1));               // xor rcx, -1
  EXPECT_BYTES("4883f17f", a.alu_imm(AluOp::Xor, W64, rcx, 127));              // xor rcx, 127
  EXPECT_BYTES("4883f180", a.alu_imm(AluOp::Xor, W64, rcx, -128));             // xor rcx, -128
  EXPECT_BYTES("4881f180000000", a.alu_imm(AluOp::Xor, W64, rcx, 128));        // xor rcx, 128
  EXPECT_BYTES("4881f17fffffff", a.alu_imm(AluOp::Xor, W64, rcx, -129));       // xor rcx, -129
  EXPECT_BYTES("4983f108", a.alu_imm(AluOp::Xor, W64, r9, 8));                 // xor r9, 8
  EXPECT_BYTES("4981f134120000", a.alu_imm(AluOp::Xor, W64, r9, 0x1234));      // xor r9, 4660
  EXPECT_BYTES("4183f2ff", a.alu_imm(AluOp::Xor, W32, r10, -1));               // xor r10d, -1
  EXPECT_BYTES("4181f234120000", a.alu_imm(AluOp::Xor, W32, r10, 0x1234));     // xor r10d, 4660
  EXPECT_BYTES("6683f2ff", a.alu_imm(AluOp::Xor, W16, rdx, -1));               // xor dx, -1
  EXPECT_BYTES("6681f23412", a.alu_imm(AluOp::Xor, W16, rdx, 0x1234));         // xor dx, 4660
  EXPECT_BYTES("4881f3ffffff7f", a.alu_imm(AluOp::Xor, W64, rbx, INT32_MAX));  // xor rbx, 2147483647
  EXPECT_BYTES("4881f300000080", a.alu_imm(AluOp::Xor, W64, rbx, INT32_MIN));  // xor rbx, -2147483648
  EXPECT_BYTES("4080f67f", a.alu_imm(AluOp::Xor, W8, rsi, 0x7f));              // xor sil, 0x7f
  EXPECT_BYTES("4180f47f", a.alu_imm(AluOp::Xor, W8, r12, 0x7f));              // xor r12b, 0x7f
  EXPECT_BYTES("4883f901", a.alu_imm(AluOp::Cmp, W64, rcx, 1));                // cmp rcx, 1
  EXPECT_BYTES("4883f9ff", a.alu_imm(AluOp::Cmp, W64, rcx, -1));               // cmp rcx, -1
  EXPECT_BYTES("4883f97f", a.alu_imm(AluOp::Cmp, W64, rcx, 127));              // cmp rcx, 127
  EXPECT_BYTES("4883f980", a.alu_imm(AluOp::Cmp, W64, rcx, -128));             // cmp rcx, -128
  EXPECT_BYTES("4881f980000000", a.alu_imm(AluOp::Cmp, W64, rcx, 128));        // cmp rcx, 128
  EXPECT_BYTES("4881f97fffffff", a.alu_imm(AluOp::Cmp, W64, rcx, -129));       // cmp rcx, -129
  EXPECT_BYTES("4983f908", a.alu_imm(AluOp::Cmp, W64, r9, 8));                 // cmp r9, 8
  EXPECT_BYTES("4981f934120000", a.alu_imm(AluOp::Cmp, W64, r9, 0x1234));      // cmp r9, 4660
  EXPECT_BYTES("4183faff", a.alu_imm(AluOp::Cmp, W32, r10, -1));               // cmp r10d, -1
  EXPECT_BYTES("4181fa34120000", a.alu_imm(AluOp::Cmp, W32, r10, 0x1234));     // cmp r10d, 4660
  EXPECT_BYTES("6683faff", a.alu_imm(AluOp::Cmp, W16, rdx, -1));               // cmp dx, -1
  EXPECT_BYTES("6681fa3412", a.alu_imm(AluOp::Cmp, W16, rdx, 0x1234));         // cmp dx, 4660
  EXPECT_BYTES("4881fbffffff7f", a.alu_imm(AluOp::Cmp, W64, rbx, INT32_MAX));  // cmp rbx, 2147483647
  EXPECT_BYTES("4881fb00000080", a.alu_imm(AluOp::Cmp, W64, rbx, INT32_MIN));  // cmp rbx, -2147483648
  EXPECT_BYTES("4080fe7f", a.alu_imm(AluOp::Cmp, W8, rsi, 0x7f));              // cmp sil, 0x7f
  EXPECT_BYTES("4180fc7f", a.alu_imm(AluOp::Cmp, W8, r12, 0x7f));              // cmp r12b, 0x7f
  EXPECT_BYTES("4881c000100000", a.alu_imm(AluOp::Add, W64, rax, 0x1000));  // add rax, 0x1000 (81 /0, not 05)
  EXPECT_BYTES("81e800100000", a.alu_imm(AluOp::Sub, W32, rax, 0x1000));    // sub eax, 0x1000 (81 /5, not 2d)
  EXPECT_BYTES("6681f80010", a.alu_imm(AluOp::Cmp, W16, rax, 0x1000));  // cmp ax, 0x1000 (66 81 /7, not 3d)
  EXPECT_BYTES("80e00f", a.alu_imm(AluOp::And, W8, rax, 0x0f));         // and al, 0xf (80 /4, not 24)
  EXPECT_BYTES("4883f0ff", a.alu_imm(AluOp::Xor, W64, rax, -1));        // xor rax, -1
  EXPECT_BYTES("4983c508", a.add_imm(W64, r13, 8));                     // add r13, 8
  EXPECT_BYTES("4983ed08", a.sub_imm(W64, r13, 8));                     // sub r13, 8
  EXPECT_BYTES("4983e508", a.and_imm(W64, r13, 8));                     // and r13, 8
  EXPECT_BYTES("4983cd08", a.or_imm(W64, r13, 8));                      // or r13, 8
  EXPECT_BYTES("4983f508", a.xor_imm(W64, r13, 8));                     // xor r13, 8
  EXPECT_BYTES("4983fd08", a.cmp_imm(W64, r13, 8));                     // cmp r13, 8
}

TEST(X86GoldenAlu, RegMemAndMemImm) {
  EXPECT_BYTES("4903442458", a.alu(AluOp::Add, W64, rax, mem(r12, 0x58)));      // add rax, [r12+0x58]
  EXPECT_BYTES("4d3b5a08", a.alu(AluOp::Cmp, W64, r11, mem(r10, 8)));           // cmp r11, [r10+8]
  EXPECT_BYTES("034500", a.alu(AluOp::Add, W32, rax, mem(rbp, 0)));             // add eax, [rbp+0]
  EXPECT_BYTES("4d3b4d00", a.alu(AluOp::Cmp, W64, r9, mem(r13, 0)));            // cmp r9, [r13+0]
  EXPECT_BYTES("49836c245805", a.alu_imm(AluOp::Sub, W64, mem(r12, 0x58), 5));  // sub qword [r12+0x58], 5
  EXPECT_BYTES("49816c24582c010000", a.alu_imm(AluOp::Sub, W64, mem(r12, 0x58), 300));
  EXPECT_BYTES("41837c246007", a.alu_imm(AluOp::Cmp, W32, mem(r12, 0x60), 7));  // cmp dword [r12+0x60], 7
  EXPECT_BYTES("48830424ff", a.alu_imm(AluOp::Add, W64, mem(rsp, 0), -1));      // add qword [rsp], -1
}

TEST(X86GoldenAlu, Test) {
  EXPECT_BYTES("84c0", a.test(W8, rax, rax));                         // test al, al
  EXPECT_BYTES("84d1", a.test(W8, rcx, rdx));                         // test cl, dl
  EXPECT_BYTES("4584f8", a.test(W8, r8, r15));                        // test r8b, r15b
  EXPECT_BYTES("4084fe", a.test(W8, rsi, rdi));                       // test sil, dil
  EXPECT_BYTES("4484e5", a.test(W8, rbp, r12));                       // test bpl, r12b
  EXPECT_BYTES("6685c0", a.test(W16, rax, rax));                      // test ax, ax
  EXPECT_BYTES("6685d1", a.test(W16, rcx, rdx));                      // test cx, dx
  EXPECT_BYTES("664585f8", a.test(W16, r8, r15));                     // test r8w, r15w
  EXPECT_BYTES("6685fe", a.test(W16, rsi, rdi));                      // test si, di
  EXPECT_BYTES("664485e5", a.test(W16, rbp, r12));                    // test bp, r12w
  EXPECT_BYTES("85c0", a.test(W32, rax, rax));                        // test eax, eax
  EXPECT_BYTES("85d1", a.test(W32, rcx, rdx));                        // test ecx, edx
  EXPECT_BYTES("4585f8", a.test(W32, r8, r15));                       // test r8d, r15d
  EXPECT_BYTES("85fe", a.test(W32, rsi, rdi));                        // test esi, edi
  EXPECT_BYTES("4485e5", a.test(W32, rbp, r12));                      // test ebp, r12d
  EXPECT_BYTES("4885c0", a.test(W64, rax, rax));                      // test rax, rax
  EXPECT_BYTES("4885d1", a.test(W64, rcx, rdx));                      // test rcx, rdx
  EXPECT_BYTES("4d85f8", a.test(W64, r8, r15));                       // test r8, r15
  EXPECT_BYTES("4885fe", a.test(W64, rsi, rdi));                      // test rsi, rdi
  EXPECT_BYTES("4c85e5", a.test(W64, rbp, r12));                      // test rbp, r12
  EXPECT_BYTES("f6c101", a.test_imm(W8, rcx, 1));                     // test cl, 1
  EXPECT_BYTES("f6c17f", a.test_imm(W8, rcx, 127));                   // test cl, 127
  EXPECT_BYTES("41f6c101", a.test_imm(W8, r9, 1));                    // test r9b, 1
  EXPECT_BYTES("41f6c17f", a.test_imm(W8, r9, 127));                  // test r9b, 127
  EXPECT_BYTES("40f6c601", a.test_imm(W8, rsi, 1));                   // test sil, 1
  EXPECT_BYTES("40f6c67f", a.test_imm(W8, rsi, 127));                 // test sil, 127
  EXPECT_BYTES("66f7c10100", a.test_imm(W16, rcx, 1));                // test cx, 1
  EXPECT_BYTES("66f7c17f00", a.test_imm(W16, rcx, 127));              // test cx, 127
  EXPECT_BYTES("6641f7c10100", a.test_imm(W16, r9, 1));               // test r9w, 1
  EXPECT_BYTES("6641f7c17f00", a.test_imm(W16, r9, 127));             // test r9w, 127
  EXPECT_BYTES("66f7c60100", a.test_imm(W16, rsi, 1));                // test si, 1
  EXPECT_BYTES("66f7c67f00", a.test_imm(W16, rsi, 127));              // test si, 127
  EXPECT_BYTES("f7c101000000", a.test_imm(W32, rcx, 1));              // test ecx, 1
  EXPECT_BYTES("f7c17f000000", a.test_imm(W32, rcx, 127));            // test ecx, 127
  EXPECT_BYTES("41f7c101000000", a.test_imm(W32, r9, 1));             // test r9d, 1
  EXPECT_BYTES("41f7c17f000000", a.test_imm(W32, r9, 127));           // test r9d, 127
  EXPECT_BYTES("f7c601000000", a.test_imm(W32, rsi, 1));              // test esi, 1
  EXPECT_BYTES("f7c67f000000", a.test_imm(W32, rsi, 127));            // test esi, 127
  EXPECT_BYTES("48f7c101000000", a.test_imm(W64, rcx, 1));            // test rcx, 1
  EXPECT_BYTES("48f7c17f000000", a.test_imm(W64, rcx, 127));          // test rcx, 127
  EXPECT_BYTES("49f7c101000000", a.test_imm(W64, r9, 1));             // test r9, 1
  EXPECT_BYTES("49f7c17f000000", a.test_imm(W64, r9, 127));           // test r9, 127
  EXPECT_BYTES("48f7c601000000", a.test_imm(W64, rsi, 1));            // test rsi, 1
  EXPECT_BYTES("48f7c67f000000", a.test_imm(W64, rsi, 127));          // test rsi, 127
  EXPECT_BYTES("f7c1ffffffff", a.test_imm(W32, rcx, -1));             // test ecx, 0xffffffff
  EXPECT_BYTES("41f7c1ffffffff", a.test_imm(W32, r9, -1));            // test r9d, 0xffffffff
  EXPECT_BYTES("48f7c200000080", a.test_imm(W64, rdx, -0x80000000));  // test rdx, -0x80000000
  EXPECT_BYTES("48f7c001000000", a.test_imm(W64, rax, 1));            // test rax, 1 (F7 /0, not A9)
  EXPECT_BYTES("f6c001", a.test_imm(W8, rax, 1));                     // test al, 1 (F6 /0, not A8)
}

TEST(X86GoldenAlu, Imul) {
  EXPECT_BYTES("0fafc1", a.imul(W32, rax, rcx));                           // imul eax, ecx
  EXPECT_BYTES("6bc103", a.imul_imm(W32, rax, rcx, 3));                    // imul eax, ecx, 3
  EXPECT_BYTES("6bc180", a.imul_imm(W32, rax, rcx, -128));                 // imul eax, ecx, -128
  EXPECT_BYTES("69c180000000", a.imul_imm(W32, rax, rcx, 128));            // imul eax, ecx, 128
  EXPECT_BYTES("69c188a9cbed", a.imul_imm(W32, rax, rcx, -0x12345678));    // imul eax, ecx, -305419896
  EXPECT_BYTES("450fafc7", a.imul(W32, r8, r15));                          // imul r8d, r15d
  EXPECT_BYTES("456bc703", a.imul_imm(W32, r8, r15, 3));                   // imul r8d, r15d, 3
  EXPECT_BYTES("456bc780", a.imul_imm(W32, r8, r15, -128));                // imul r8d, r15d, -128
  EXPECT_BYTES("4569c780000000", a.imul_imm(W32, r8, r15, 128));           // imul r8d, r15d, 128
  EXPECT_BYTES("4569c788a9cbed", a.imul_imm(W32, r8, r15, -0x12345678));   // imul r8d, r15d, -305419896
  EXPECT_BYTES("0faff4", a.imul(W32, rsi, rsp));                           // imul esi, esp
  EXPECT_BYTES("6bf403", a.imul_imm(W32, rsi, rsp, 3));                    // imul esi, esp, 3
  EXPECT_BYTES("6bf480", a.imul_imm(W32, rsi, rsp, -128));                 // imul esi, esp, -128
  EXPECT_BYTES("69f480000000", a.imul_imm(W32, rsi, rsp, 128));            // imul esi, esp, 128
  EXPECT_BYTES("69f488a9cbed", a.imul_imm(W32, rsi, rsp, -0x12345678));    // imul esi, esp, -305419896
  EXPECT_BYTES("410fafed", a.imul(W32, rbp, r13));                         // imul ebp, r13d
  EXPECT_BYTES("416bed03", a.imul_imm(W32, rbp, r13, 3));                  // imul ebp, r13d, 3
  EXPECT_BYTES("416bed80", a.imul_imm(W32, rbp, r13, -128));               // imul ebp, r13d, -128
  EXPECT_BYTES("4169ed80000000", a.imul_imm(W32, rbp, r13, 128));          // imul ebp, r13d, 128
  EXPECT_BYTES("4169ed88a9cbed", a.imul_imm(W32, rbp, r13, -0x12345678));  // imul ebp, r13d, -305419896
  EXPECT_BYTES("440fafe0", a.imul(W32, r12, rax));                         // imul r12d, eax
  EXPECT_BYTES("446be003", a.imul_imm(W32, r12, rax, 3));                  // imul r12d, eax, 3
  EXPECT_BYTES("446be080", a.imul_imm(W32, r12, rax, -128));               // imul r12d, eax, -128
  EXPECT_BYTES("4469e080000000", a.imul_imm(W32, r12, rax, 128));          // imul r12d, eax, 128
  EXPECT_BYTES("4469e088a9cbed", a.imul_imm(W32, r12, rax, -0x12345678));  // imul r12d, eax, -305419896
  EXPECT_BYTES("480fafc1", a.imul(W64, rax, rcx));                         // imul rax, rcx
  EXPECT_BYTES("486bc103", a.imul_imm(W64, rax, rcx, 3));                  // imul rax, rcx, 3
  EXPECT_BYTES("486bc180", a.imul_imm(W64, rax, rcx, -128));               // imul rax, rcx, -128
  EXPECT_BYTES("4869c180000000", a.imul_imm(W64, rax, rcx, 128));          // imul rax, rcx, 128
  EXPECT_BYTES("4869c188a9cbed", a.imul_imm(W64, rax, rcx, -0x12345678));  // imul rax, rcx, -305419896
  EXPECT_BYTES("4d0fafc7", a.imul(W64, r8, r15));                          // imul r8, r15
  EXPECT_BYTES("4d6bc703", a.imul_imm(W64, r8, r15, 3));                   // imul r8, r15, 3
  EXPECT_BYTES("4d6bc780", a.imul_imm(W64, r8, r15, -128));                // imul r8, r15, -128
  EXPECT_BYTES("4d69c780000000", a.imul_imm(W64, r8, r15, 128));           // imul r8, r15, 128
  EXPECT_BYTES("4d69c788a9cbed", a.imul_imm(W64, r8, r15, -0x12345678));   // imul r8, r15, -305419896
  EXPECT_BYTES("480faff4", a.imul(W64, rsi, rsp));                         // imul rsi, rsp
  EXPECT_BYTES("486bf403", a.imul_imm(W64, rsi, rsp, 3));                  // imul rsi, rsp, 3
  EXPECT_BYTES("486bf480", a.imul_imm(W64, rsi, rsp, -128));               // imul rsi, rsp, -128
  EXPECT_BYTES("4869f480000000", a.imul_imm(W64, rsi, rsp, 128));          // imul rsi, rsp, 128
  EXPECT_BYTES("4869f488a9cbed", a.imul_imm(W64, rsi, rsp, -0x12345678));  // imul rsi, rsp, -305419896
  EXPECT_BYTES("490fafed", a.imul(W64, rbp, r13));                         // imul rbp, r13
  EXPECT_BYTES("496bed03", a.imul_imm(W64, rbp, r13, 3));                  // imul rbp, r13, 3
  EXPECT_BYTES("496bed80", a.imul_imm(W64, rbp, r13, -128));               // imul rbp, r13, -128
  EXPECT_BYTES("4969ed80000000", a.imul_imm(W64, rbp, r13, 128));          // imul rbp, r13, 128
  EXPECT_BYTES("4969ed88a9cbed", a.imul_imm(W64, rbp, r13, -0x12345678));  // imul rbp, r13, -305419896
  EXPECT_BYTES("4c0fafe0", a.imul(W64, r12, rax));                         // imul r12, rax
  EXPECT_BYTES("4c6be003", a.imul_imm(W64, r12, rax, 3));                  // imul r12, rax, 3
  EXPECT_BYTES("4c6be080", a.imul_imm(W64, r12, rax, -128));               // imul r12, rax, -128
  EXPECT_BYTES("4c69e080000000", a.imul_imm(W64, r12, rax, 128));          // imul r12, rax, 128
  EXPECT_BYTES("4c69e088a9cbed", a.imul_imm(W64, r12, rax, -0x12345678));  // imul r12, rax, -305419896
}

TEST(X86GoldenAlu, MulDiv) {
  EXPECT_BYTES("f7e1", a.mul(W32, rcx));                          // mul ecx
  EXPECT_BYTES("f7e4", a.mul(W32, rsp));                          // mul esp
  EXPECT_BYTES("41f7e0", a.mul(W32, r8));                         // mul r8d
  EXPECT_BYTES("41f7e7", a.mul(W32, r15));                        // mul r15d
  EXPECT_BYTES("f72424", a.mul(W32, mem(rsp)));                   // mul dword ptr [rsp]
  EXPECT_BYTES("41f76500", a.mul(W32, mem(r13)));                 // mul dword ptr [r13]
  EXPECT_BYTES("f7a700100000", a.mul(W32, mem(rdi, 0x1000)));     // mul dword ptr [rdi + 4096]
  EXPECT_BYTES("48f7e1", a.mul(W64, rcx));                        // mul rcx
  EXPECT_BYTES("48f7e4", a.mul(W64, rsp));                        // mul rsp
  EXPECT_BYTES("49f7e0", a.mul(W64, r8));                         // mul r8
  EXPECT_BYTES("49f7e7", a.mul(W64, r15));                        // mul r15
  EXPECT_BYTES("48f72424", a.mul(W64, mem(rsp)));                 // mul qword ptr [rsp]
  EXPECT_BYTES("49f76500", a.mul(W64, mem(r13)));                 // mul qword ptr [r13]
  EXPECT_BYTES("48f7a700100000", a.mul(W64, mem(rdi, 0x1000)));   // mul qword ptr [rdi + 4096]
  EXPECT_BYTES("f7f1", a.div(W32, rcx));                          // div ecx
  EXPECT_BYTES("f7f4", a.div(W32, rsp));                          // div esp
  EXPECT_BYTES("41f7f0", a.div(W32, r8));                         // div r8d
  EXPECT_BYTES("41f7f7", a.div(W32, r15));                        // div r15d
  EXPECT_BYTES("f73424", a.div(W32, mem(rsp)));                   // div dword ptr [rsp]
  EXPECT_BYTES("41f77500", a.div(W32, mem(r13)));                 // div dword ptr [r13]
  EXPECT_BYTES("f7b700100000", a.div(W32, mem(rdi, 0x1000)));     // div dword ptr [rdi + 4096]
  EXPECT_BYTES("48f7f1", a.div(W64, rcx));                        // div rcx
  EXPECT_BYTES("48f7f4", a.div(W64, rsp));                        // div rsp
  EXPECT_BYTES("49f7f0", a.div(W64, r8));                         // div r8
  EXPECT_BYTES("49f7f7", a.div(W64, r15));                        // div r15
  EXPECT_BYTES("48f73424", a.div(W64, mem(rsp)));                 // div qword ptr [rsp]
  EXPECT_BYTES("49f77500", a.div(W64, mem(r13)));                 // div qword ptr [r13]
  EXPECT_BYTES("48f7b700100000", a.div(W64, mem(rdi, 0x1000)));   // div qword ptr [rdi + 4096]
  EXPECT_BYTES("f7f9", a.idiv(W32, rcx));                         // idiv ecx
  EXPECT_BYTES("f7fc", a.idiv(W32, rsp));                         // idiv esp
  EXPECT_BYTES("41f7f8", a.idiv(W32, r8));                        // idiv r8d
  EXPECT_BYTES("41f7ff", a.idiv(W32, r15));                       // idiv r15d
  EXPECT_BYTES("f73c24", a.idiv(W32, mem(rsp)));                  // idiv dword ptr [rsp]
  EXPECT_BYTES("41f77d00", a.idiv(W32, mem(r13)));                // idiv dword ptr [r13]
  EXPECT_BYTES("f7bf00100000", a.idiv(W32, mem(rdi, 0x1000)));    // idiv dword ptr [rdi + 4096]
  EXPECT_BYTES("48f7f9", a.idiv(W64, rcx));                       // idiv rcx
  EXPECT_BYTES("48f7fc", a.idiv(W64, rsp));                       // idiv rsp
  EXPECT_BYTES("49f7f8", a.idiv(W64, r8));                        // idiv r8
  EXPECT_BYTES("49f7ff", a.idiv(W64, r15));                       // idiv r15
  EXPECT_BYTES("48f73c24", a.idiv(W64, mem(rsp)));                // idiv qword ptr [rsp]
  EXPECT_BYTES("49f77d00", a.idiv(W64, mem(r13)));                // idiv qword ptr [r13]
  EXPECT_BYTES("48f7bf00100000", a.idiv(W64, mem(rdi, 0x1000)));  // idiv qword ptr [rdi + 4096]
}

TEST(X86GoldenAlu, NegNotSignExtendAccumulator) {
  EXPECT_BYTES("40f6de", a.neg(W8, rsi));      // neg sil
  EXPECT_BYTES("41f6df", a.neg(W8, r15));      // neg r15b
  EXPECT_BYTES("66f7de", a.neg(W16, rsi));     // neg si
  EXPECT_BYTES("6641f7df", a.neg(W16, r15));   // neg r15w
  EXPECT_BYTES("f7de", a.neg(W32, rsi));       // neg esi
  EXPECT_BYTES("41f7df", a.neg(W32, r15));     // neg r15d
  EXPECT_BYTES("48f7de", a.neg(W64, rsi));     // neg rsi
  EXPECT_BYTES("49f7df", a.neg(W64, r15));     // neg r15
  EXPECT_BYTES("40f6d6", a.not_(W8, rsi));     // not sil
  EXPECT_BYTES("41f6d7", a.not_(W8, r15));     // not r15b
  EXPECT_BYTES("66f7d6", a.not_(W16, rsi));    // not si
  EXPECT_BYTES("6641f7d7", a.not_(W16, r15));  // not r15w
  EXPECT_BYTES("f7d6", a.not_(W32, rsi));      // not esi
  EXPECT_BYTES("41f7d7", a.not_(W32, r15));    // not r15d
  EXPECT_BYTES("48f7d6", a.not_(W64, rsi));    // not rsi
  EXPECT_BYTES("49f7d7", a.not_(W64, r15));    // not r15
  EXPECT_BYTES("99", a.cdq());                 // cdq
  EXPECT_BYTES("4899", a.cqo());               // cqo
}

}  // namespace
}  // namespace bpfdiff::jit::x86
