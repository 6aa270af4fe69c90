// Golden bytes for cmov, setcc, jumps, calls, stack and trap instructions.
// Bytes come from the encoding rules and were checked against GNU as; lines
// marked (... not ...) pin a choice where another valid encoding exists.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/jit/x86_test_util.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using enum Reg;
using enum Width;

TEST(X86GoldenFlow, Cmov) {
  EXPECT_BYTES("480f40c1", a.cmov(Cond::o, W64, rax, rcx));    // cmovo rax, rcx
  EXPECT_BYTES("450f40c7", a.cmov(Cond::o, W32, r8, r15));     // cmovo r8d, r15d
  EXPECT_BYTES("480f41c1", a.cmov(Cond::no, W64, rax, rcx));   // cmovno rax, rcx
  EXPECT_BYTES("450f41c7", a.cmov(Cond::no, W32, r8, r15));    // cmovno r8d, r15d
  EXPECT_BYTES("480f42c1", a.cmov(Cond::b, W64, rax, rcx));    // cmovb rax, rcx
  EXPECT_BYTES("450f42c7", a.cmov(Cond::b, W32, r8, r15));     // cmovb r8d, r15d
  EXPECT_BYTES("480f43c1", a.cmov(Cond::ae, W64, rax, rcx));   // cmovae rax, rcx
  EXPECT_BYTES("450f43c7", a.cmov(Cond::ae, W32, r8, r15));    // cmovae r8d, r15d
  EXPECT_BYTES("480f44c1", a.cmov(Cond::e, W64, rax, rcx));    // cmove rax, rcx
  EXPECT_BYTES("450f44c7", a.cmov(Cond::e, W32, r8, r15));     // cmove r8d, r15d
  EXPECT_BYTES("480f45c1", a.cmov(Cond::ne, W64, rax, rcx));   // cmovne rax, rcx
  EXPECT_BYTES("450f45c7", a.cmov(Cond::ne, W32, r8, r15));    // cmovne r8d, r15d
  EXPECT_BYTES("480f46c1", a.cmov(Cond::be, W64, rax, rcx));   // cmovbe rax, rcx
  EXPECT_BYTES("450f46c7", a.cmov(Cond::be, W32, r8, r15));    // cmovbe r8d, r15d
  EXPECT_BYTES("480f47c1", a.cmov(Cond::a, W64, rax, rcx));    // cmova rax, rcx
  EXPECT_BYTES("450f47c7", a.cmov(Cond::a, W32, r8, r15));     // cmova r8d, r15d
  EXPECT_BYTES("480f48c1", a.cmov(Cond::s, W64, rax, rcx));    // cmovs rax, rcx
  EXPECT_BYTES("450f48c7", a.cmov(Cond::s, W32, r8, r15));     // cmovs r8d, r15d
  EXPECT_BYTES("480f49c1", a.cmov(Cond::ns, W64, rax, rcx));   // cmovns rax, rcx
  EXPECT_BYTES("450f49c7", a.cmov(Cond::ns, W32, r8, r15));    // cmovns r8d, r15d
  EXPECT_BYTES("480f4ac1", a.cmov(Cond::p, W64, rax, rcx));    // cmovp rax, rcx
  EXPECT_BYTES("450f4ac7", a.cmov(Cond::p, W32, r8, r15));     // cmovp r8d, r15d
  EXPECT_BYTES("480f4bc1", a.cmov(Cond::np, W64, rax, rcx));   // cmovnp rax, rcx
  EXPECT_BYTES("450f4bc7", a.cmov(Cond::np, W32, r8, r15));    // cmovnp r8d, r15d
  EXPECT_BYTES("480f4cc1", a.cmov(Cond::l, W64, rax, rcx));    // cmovl rax, rcx
  EXPECT_BYTES("450f4cc7", a.cmov(Cond::l, W32, r8, r15));     // cmovl r8d, r15d
  EXPECT_BYTES("480f4dc1", a.cmov(Cond::ge, W64, rax, rcx));   // cmovge rax, rcx
  EXPECT_BYTES("450f4dc7", a.cmov(Cond::ge, W32, r8, r15));    // cmovge r8d, r15d
  EXPECT_BYTES("480f4ec1", a.cmov(Cond::le, W64, rax, rcx));   // cmovle rax, rcx
  EXPECT_BYTES("450f4ec7", a.cmov(Cond::le, W32, r8, r15));    // cmovle r8d, r15d
  EXPECT_BYTES("480f4fc1", a.cmov(Cond::g, W64, rax, rcx));    // cmovg rax, rcx
  EXPECT_BYTES("450f4fc7", a.cmov(Cond::g, W32, r8, r15));     // cmovg r8d, r15d
  EXPECT_BYTES("66410f44e4", a.cmov(Cond::e, W16, rsp, r12));  // cmove sp, r12w
  EXPECT_BYTES("410f44e4", a.cmov(Cond::e, W32, rsp, r12));    // cmove esp, r12d
  EXPECT_BYTES("490f44e4", a.cmov(Cond::e, W64, rsp, r12));    // cmove rsp, r12
}

TEST(X86GoldenFlow, Setcc) {
  EXPECT_BYTES("0f90c0", a.setcc(Cond::o, rax));     // seto al
  EXPECT_BYTES("0f91c0", a.setcc(Cond::no, rax));    // setno al
  EXPECT_BYTES("0f92c0", a.setcc(Cond::b, rax));     // setb al
  EXPECT_BYTES("0f93c0", a.setcc(Cond::ae, rax));    // setae al
  EXPECT_BYTES("0f94c0", a.setcc(Cond::e, rax));     // sete al
  EXPECT_BYTES("0f95c0", a.setcc(Cond::ne, rax));    // setne al
  EXPECT_BYTES("0f96c0", a.setcc(Cond::be, rax));    // setbe al
  EXPECT_BYTES("0f97c0", a.setcc(Cond::a, rax));     // seta al
  EXPECT_BYTES("0f98c0", a.setcc(Cond::s, rax));     // sets al
  EXPECT_BYTES("0f99c0", a.setcc(Cond::ns, rax));    // setns al
  EXPECT_BYTES("0f9ac0", a.setcc(Cond::p, rax));     // setp al
  EXPECT_BYTES("0f9bc0", a.setcc(Cond::np, rax));    // setnp al
  EXPECT_BYTES("0f9cc0", a.setcc(Cond::l, rax));     // setl al
  EXPECT_BYTES("0f9dc0", a.setcc(Cond::ge, rax));    // setge al
  EXPECT_BYTES("0f9ec0", a.setcc(Cond::le, rax));    // setle al
  EXPECT_BYTES("0f9fc0", a.setcc(Cond::g, rax));     // setg al
  EXPECT_BYTES("0f95c0", a.setcc(Cond::ne, rax));    // setne al
  EXPECT_BYTES("0f95c1", a.setcc(Cond::ne, rcx));    // setne cl
  EXPECT_BYTES("0f95c2", a.setcc(Cond::ne, rdx));    // setne dl
  EXPECT_BYTES("0f95c3", a.setcc(Cond::ne, rbx));    // setne bl
  EXPECT_BYTES("400f95c4", a.setcc(Cond::ne, rsp));  // setne spl
  EXPECT_BYTES("400f95c5", a.setcc(Cond::ne, rbp));  // setne bpl
  EXPECT_BYTES("400f95c6", a.setcc(Cond::ne, rsi));  // setne sil
  EXPECT_BYTES("400f95c7", a.setcc(Cond::ne, rdi));  // setne dil
  EXPECT_BYTES("410f95c0", a.setcc(Cond::ne, r8));   // setne r8b
  EXPECT_BYTES("410f95c1", a.setcc(Cond::ne, r9));   // setne r9b
  EXPECT_BYTES("410f95c2", a.setcc(Cond::ne, r10));  // setne r10b
  EXPECT_BYTES("410f95c3", a.setcc(Cond::ne, r11));  // setne r11b
  EXPECT_BYTES("410f95c4", a.setcc(Cond::ne, r12));  // setne r12b
  EXPECT_BYTES("410f95c5", a.setcc(Cond::ne, r13));  // setne r13b
  EXPECT_BYTES("410f95c6", a.setcc(Cond::ne, r14));  // setne r14b
  EXPECT_BYTES("410f95c7", a.setcc(Cond::ne, r15));  // setne r15b
}

TEST(X86GoldenFlow, Jumps) {
  EXPECT_BYTES("7010", a.jcc(Cond::o, JumpSize::Short, 0x10));                // jo rel8 +0x10
  EXPECT_BYTES("0f8078563412", a.jcc(Cond::o, JumpSize::Near, 0x12345678));   // jo rel32 +0x12345678
  EXPECT_BYTES("7110", a.jcc(Cond::no, JumpSize::Short, 0x10));               // jno rel8 +0x10
  EXPECT_BYTES("0f8178563412", a.jcc(Cond::no, JumpSize::Near, 0x12345678));  // jno rel32 +0x12345678
  EXPECT_BYTES("7210", a.jcc(Cond::b, JumpSize::Short, 0x10));                // jb rel8 +0x10
  EXPECT_BYTES("0f8278563412", a.jcc(Cond::b, JumpSize::Near, 0x12345678));   // jb rel32 +0x12345678
  EXPECT_BYTES("7310", a.jcc(Cond::ae, JumpSize::Short, 0x10));               // jae rel8 +0x10
  EXPECT_BYTES("0f8378563412", a.jcc(Cond::ae, JumpSize::Near, 0x12345678));  // jae rel32 +0x12345678
  EXPECT_BYTES("7410", a.jcc(Cond::e, JumpSize::Short, 0x10));                // je rel8 +0x10
  EXPECT_BYTES("0f8478563412", a.jcc(Cond::e, JumpSize::Near, 0x12345678));   // je rel32 +0x12345678
  EXPECT_BYTES("7510", a.jcc(Cond::ne, JumpSize::Short, 0x10));               // jne rel8 +0x10
  EXPECT_BYTES("0f8578563412", a.jcc(Cond::ne, JumpSize::Near, 0x12345678));  // jne rel32 +0x12345678
  EXPECT_BYTES("7610", a.jcc(Cond::be, JumpSize::Short, 0x10));               // jbe rel8 +0x10
  EXPECT_BYTES("0f8678563412", a.jcc(Cond::be, JumpSize::Near, 0x12345678));  // jbe rel32 +0x12345678
  EXPECT_BYTES("7710", a.jcc(Cond::a, JumpSize::Short, 0x10));                // ja rel8 +0x10
  EXPECT_BYTES("0f8778563412", a.jcc(Cond::a, JumpSize::Near, 0x12345678));   // ja rel32 +0x12345678
  EXPECT_BYTES("7810", a.jcc(Cond::s, JumpSize::Short, 0x10));                // js rel8 +0x10
  EXPECT_BYTES("0f8878563412", a.jcc(Cond::s, JumpSize::Near, 0x12345678));   // js rel32 +0x12345678
  EXPECT_BYTES("7910", a.jcc(Cond::ns, JumpSize::Short, 0x10));               // jns rel8 +0x10
  EXPECT_BYTES("0f8978563412", a.jcc(Cond::ns, JumpSize::Near, 0x12345678));  // jns rel32 +0x12345678
  EXPECT_BYTES("7a10", a.jcc(Cond::p, JumpSize::Short, 0x10));                // jp rel8 +0x10
  EXPECT_BYTES("0f8a78563412", a.jcc(Cond::p, JumpSize::Near, 0x12345678));   // jp rel32 +0x12345678
  EXPECT_BYTES("7b10", a.jcc(Cond::np, JumpSize::Short, 0x10));               // jnp rel8 +0x10
  EXPECT_BYTES("0f8b78563412", a.jcc(Cond::np, JumpSize::Near, 0x12345678));  // jnp rel32 +0x12345678
  EXPECT_BYTES("7c10", a.jcc(Cond::l, JumpSize::Short, 0x10));                // jl rel8 +0x10
  EXPECT_BYTES("0f8c78563412", a.jcc(Cond::l, JumpSize::Near, 0x12345678));   // jl rel32 +0x12345678
  EXPECT_BYTES("7d10", a.jcc(Cond::ge, JumpSize::Short, 0x10));               // jge rel8 +0x10
  EXPECT_BYTES("0f8d78563412", a.jcc(Cond::ge, JumpSize::Near, 0x12345678));  // jge rel32 +0x12345678
  EXPECT_BYTES("7e10", a.jcc(Cond::le, JumpSize::Short, 0x10));               // jle rel8 +0x10
  EXPECT_BYTES("0f8e78563412", a.jcc(Cond::le, JumpSize::Near, 0x12345678));  // jle rel32 +0x12345678
  EXPECT_BYTES("7f10", a.jcc(Cond::g, JumpSize::Short, 0x10));                // jg rel8 +0x10
  EXPECT_BYTES("0f8f78563412", a.jcc(Cond::g, JumpSize::Near, 0x12345678));   // jg rel32 +0x12345678
  EXPECT_BYTES("7cfe", a.jcc(Cond::l, JumpSize::Short, -2));                  // jl to itself
  EXPECT_BYTES("7c7f", a.jcc(Cond::l, JumpSize::Short, 127));                 // jl rel8 max
  EXPECT_BYTES("7c80", a.jcc(Cond::l, JumpSize::Short, -128));                // jl rel8 min
  EXPECT_BYTES("0f8dfaffffff", a.jcc(Cond::ge, JumpSize::Near, -6));          // jge to itself
  EXPECT_BYTES("0f8d00000000", a.jcc(Cond::ge, JumpSize::Near, 0));           // jge next
  EXPECT_BYTES("eb00", a.jmp(JumpSize::Short, 0));                            // jmp rel8 0
  EXPECT_BYTES("ebfe", a.jmp(JumpSize::Short, -2));                           // jmp to itself
  EXPECT_BYTES("eb7f", a.jmp(JumpSize::Short, 127));                          // jmp rel8 max
  EXPECT_BYTES("eb80", a.jmp(JumpSize::Short, -128));                         // jmp rel8 min
  EXPECT_BYTES("e978563412", a.jmp(JumpSize::Near, 0x12345678));              // jmp rel32
  EXPECT_BYTES("e9fbffffff", a.jmp(JumpSize::Near, -5));                      // jmp rel32 to itself
  EXPECT_BYTES("e900000080", a.jmp(JumpSize::Near, INT32_MIN));               // jmp rel32 min
  EXPECT_BYTES("e800010000", a.call(0x100));                                  // call rel32
  EXPECT_BYTES("e8fbffffff", a.call(-5));                                     // call rel32 to itself
}

TEST(X86GoldenFlow, CallsStackAndTraps) {
  EXPECT_BYTES("ffd0", a.call(rax));       // call rax
  EXPECT_BYTES("ffd1", a.call(rcx));       // call rcx
  EXPECT_BYTES("ffd2", a.call(rdx));       // call rdx
  EXPECT_BYTES("ffd3", a.call(rbx));       // call rbx
  EXPECT_BYTES("ffd4", a.call(rsp));       // call rsp
  EXPECT_BYTES("ffd5", a.call(rbp));       // call rbp
  EXPECT_BYTES("ffd6", a.call(rsi));       // call rsi
  EXPECT_BYTES("ffd7", a.call(rdi));       // call rdi
  EXPECT_BYTES("41ffd0", a.call(r8));      // call r8
  EXPECT_BYTES("41ffd1", a.call(r9));      // call r9
  EXPECT_BYTES("41ffd2", a.call(r10));     // call r10
  EXPECT_BYTES("41ffd3", a.call(r11));     // call r11
  EXPECT_BYTES("41ffd4", a.call(r12));     // call r12
  EXPECT_BYTES("41ffd5", a.call(r13));     // call r13
  EXPECT_BYTES("41ffd6", a.call(r14));     // call r14
  EXPECT_BYTES("41ffd7", a.call(r15));     // call r15
  EXPECT_BYTES("ffe0", a.jmp(rax));        // jmp rax
  EXPECT_BYTES("ffe1", a.jmp(rcx));        // jmp rcx
  EXPECT_BYTES("ffe2", a.jmp(rdx));        // jmp rdx
  EXPECT_BYTES("ffe3", a.jmp(rbx));        // jmp rbx
  EXPECT_BYTES("ffe4", a.jmp(rsp));        // jmp rsp
  EXPECT_BYTES("ffe5", a.jmp(rbp));        // jmp rbp
  EXPECT_BYTES("ffe6", a.jmp(rsi));        // jmp rsi
  EXPECT_BYTES("ffe7", a.jmp(rdi));        // jmp rdi
  EXPECT_BYTES("41ffe0", a.jmp(r8));       // jmp r8
  EXPECT_BYTES("41ffe1", a.jmp(r9));       // jmp r9
  EXPECT_BYTES("41ffe2", a.jmp(r10));      // jmp r10
  EXPECT_BYTES("41ffe3", a.jmp(r11));      // jmp r11
  EXPECT_BYTES("41ffe4", a.jmp(r12));      // jmp r12
  EXPECT_BYTES("41ffe5", a.jmp(r13));      // jmp r13
  EXPECT_BYTES("41ffe6", a.jmp(r14));      // jmp r14
  EXPECT_BYTES("41ffe7", a.jmp(r15));      // jmp r15
  EXPECT_BYTES("50", a.push(rax));         // push rax
  EXPECT_BYTES("51", a.push(rcx));         // push rcx
  EXPECT_BYTES("52", a.push(rdx));         // push rdx
  EXPECT_BYTES("53", a.push(rbx));         // push rbx
  EXPECT_BYTES("54", a.push(rsp));         // push rsp
  EXPECT_BYTES("55", a.push(rbp));         // push rbp
  EXPECT_BYTES("56", a.push(rsi));         // push rsi
  EXPECT_BYTES("57", a.push(rdi));         // push rdi
  EXPECT_BYTES("4150", a.push(r8));        // push r8
  EXPECT_BYTES("4151", a.push(r9));        // push r9
  EXPECT_BYTES("4152", a.push(r10));       // push r10
  EXPECT_BYTES("4153", a.push(r11));       // push r11
  EXPECT_BYTES("4154", a.push(r12));       // push r12
  EXPECT_BYTES("4155", a.push(r13));       // push r13
  EXPECT_BYTES("4156", a.push(r14));       // push r14
  EXPECT_BYTES("4157", a.push(r15));       // push r15
  EXPECT_BYTES("58", a.pop(rax));          // pop rax
  EXPECT_BYTES("59", a.pop(rcx));          // pop rcx
  EXPECT_BYTES("5a", a.pop(rdx));          // pop rdx
  EXPECT_BYTES("5b", a.pop(rbx));          // pop rbx
  EXPECT_BYTES("5c", a.pop(rsp));          // pop rsp
  EXPECT_BYTES("5d", a.pop(rbp));          // pop rbp
  EXPECT_BYTES("5e", a.pop(rsi));          // pop rsi
  EXPECT_BYTES("5f", a.pop(rdi));          // pop rdi
  EXPECT_BYTES("4158", a.pop(r8));         // pop r8
  EXPECT_BYTES("4159", a.pop(r9));         // pop r9
  EXPECT_BYTES("415a", a.pop(r10));        // pop r10
  EXPECT_BYTES("415b", a.pop(r11));        // pop r11
  EXPECT_BYTES("415c", a.pop(r12));        // pop r12
  EXPECT_BYTES("415d", a.pop(r13));        // pop r13
  EXPECT_BYTES("415e", a.pop(r14));        // pop r14
  EXPECT_BYTES("415f", a.pop(r15));        // pop r15
  EXPECT_BYTES("c3", a.ret());             // ret
  EXPECT_BYTES("cc", a.int3());            // int3
  EXPECT_BYTES("90", a.nop());             // nop
  EXPECT_BYTES("0f0b", a.ud2());           // ud2
  EXPECT_BYTES("cccccc", a.fill_int3(3));  // three int3
}

}  // namespace
}  // namespace bpfdiff::jit::x86
