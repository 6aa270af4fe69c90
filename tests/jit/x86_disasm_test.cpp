// The Intel-syntax listing used by `bpfdiff disasm --x86`.
#include "vm/jit/x86/disasm.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "vm/jit/x86/assembler.hpp"

namespace bpfdiff::jit::x86 {
namespace {

using enum Reg;
using enum Width;

TEST(X86Disasm, DecodesEmittedCodeLineByLine) {
  Assembler a;
  a.mov_imm(W64, rax, 42);
  a.mov(W32, rcx, mem(rbp, -8));
  a.jcc(Cond::ne, JumpSize::Short, -2);
  a.ret();
  const auto lines = disassemble(a.code());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].offset, 0u);
  EXPECT_EQ(lines[0].bytes.size(), 7u);
  EXPECT_EQ(lines[0].text, "mov rax, 0x2a");
  EXPECT_EQ(lines[1].offset, 7u);
  EXPECT_EQ(lines[1].text, "mov ecx, [rbp-0x08]");
  EXPECT_EQ(lines[2].offset, 10u);
  EXPECT_EQ(lines[2].text, "jnz 0xa");  // relative targets print as absolute offsets
  EXPECT_EQ(lines[3].text, "ret");
  for (const auto& line : lines)
    EXPECT_TRUE(line.valid);
}

TEST(X86Disasm, ListingHasOffsetsBytesAndText) {
  Assembler a;
  a.push(rbp);
  a.mov(W64, rbp, rsp);
  a.int3();
  EXPECT_EQ(format_listing(a.code()),
            "   0:  55                       push rbp\n"
            "   1:  48 89 e5                 mov rbp, rsp\n"
            "   4:  cc                       int3\n");
}

TEST(X86Disasm, BaseAddressShiftsOffsetsOnlyInTargets) {
  Assembler a;
  a.jmp(JumpSize::Near, 0x10);
  const auto lines = disassemble(a.code(), 0x1000);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].offset, 0u);
  EXPECT_EQ(lines[0].text, "jmp 0x1015");
}

TEST(X86Disasm, UndecodableBytesBecomeOneByteBadLines) {
  const std::vector<uint8_t> code = {0x06, 0x90, 0x0f};  // push es is invalid in 64-bit mode; 0f is truncated
  const auto lines = disassemble(code);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0].valid);
  EXPECT_EQ(lines[0].text, "(bad)");
  EXPECT_EQ(lines[1].text, "nop");
  EXPECT_FALSE(lines[2].valid);
  EXPECT_EQ(format_listing(std::span<const uint8_t>()), "");
}

}  // namespace
}  // namespace bpfdiff::jit::x86
