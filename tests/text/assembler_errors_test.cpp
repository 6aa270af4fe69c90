// Assembler errors name the line and the column of the offending token.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/text/test_util.hpp"

namespace bpfdiff::text {
namespace {

using testing::assemble_error;

TEST(AssemblerErrors, RejectsRegistersAboveR10) {
  EXPECT_EQ(assemble_error("mov r11, 1"), "line 1, column 5: unknown register r11 (registers are r0 to r10)");
  EXPECT_EQ(assemble_error("exit\nadd r1, %r15"),
            "line 2, column 9: unknown register %r15 (registers are r0 to r10)");
  EXPECT_EQ(assemble_error("ldxw r1, [r12+4]"),
            "line 1, column 11: unknown register r12 (registers are r0 to r10)");
  EXPECT_EQ(assemble_error("mov %foo, 1"),
            "line 1, column 5: unknown register %foo (registers are r0 to r10)");
}

TEST(AssemblerErrors, UnknownMnemonic) {
  EXPECT_EQ(assemble_error("exit\n\n  foo r1, 2"), "line 3, column 3: unknown mnemonic 'foo'");
  EXPECT_EQ(assemble_error("lock foo [r1], r2"), "line 1, column 1: unknown mnemonic 'lock foo'");
  EXPECT_EQ(assemble_error("ldxw32 r1, [r2]"), "line 1, column 1: unknown mnemonic 'ldxw32'");
}

TEST(AssemblerErrors, WrongOperandCountPointsAtTheExtraOperandOrTheMnemonic) {
  const std::string extra = assemble_error("add r1, 5, 6");
  EXPECT_EQ(extra.rfind("line 1, column 12: wrong number of operands for 'add'", 0), 0u) << extra;
  const std::string missing = assemble_error("  add r1");
  EXPECT_EQ(missing.rfind("line 1, column 3: wrong number of operands for 'add'", 0), 0u) << missing;
  EXPECT_NE(missing.find("add reg, imm"), std::string::npos) << missing;
  const std::string exit_arg = assemble_error("exit r0");
  EXPECT_EQ(exit_arg.rfind("line 1, column 6: wrong number of operands", 0), 0u) << exit_arg;
}

TEST(AssemblerErrors, WrongOperandShape) {
  const std::string got = assemble_error("add r1, [r2]");
  EXPECT_EQ(got.rfind("line 1, column 9: invalid operand for 'add': got a memory operand", 0), 0u) << got;
  const std::string store = assemble_error("stxw r1, r2");
  EXPECT_EQ(store.rfind("line 1, column 6: invalid operand for 'stxw'", 0), 0u) << store;
}

TEST(AssemblerErrors, ImmediateOutOfRange) {
  EXPECT_EQ(assemble_error("add r1, 0x100000000"),
            "line 1, column 9: immediate out of range: expected a 32-bit value");
  EXPECT_EQ(assemble_error("add r1, -2147483649"),
            "line 1, column 9: immediate out of range: expected a 32-bit value");
  EXPECT_EQ(assemble_error("lddw r1, 0x10000000000000000"),
            "line 1, column 10: invalid number '0x10000000000000000'");
  EXPECT_EQ(assemble_error("lddw r1, -9223372036854775809"),
            "line 1, column 10: immediate out of range: expected a 64-bit value");
  EXPECT_EQ(assemble_error("mov r1, 12ab"), "line 1, column 9: invalid number '12ab'");
}

TEST(AssemblerErrors, OffsetOutOfRange) {
  EXPECT_EQ(assemble_error("ja +32768"), "line 1, column 4: offset out of range: expected -32768 to 32767");
  EXPECT_EQ(assemble_error("ldxw r1, [r2+32768]"),
            "line 1, column 13: offset out of range: expected -32768 to 32767");
  EXPECT_EQ(assemble_error("gotol +2147483648"),
            "line 1, column 7: offset out of range: expected a signed 32-bit value");
}

TEST(AssemblerErrors, LabelProblems) {
  EXPECT_EQ(assemble_error("exit\nja nowhere"), "line 2, column 4: undefined label 'nowhere'");
  EXPECT_EQ(assemble_error("a:\nexit\n a: exit"),
            "line 3, column 2: duplicate label 'a' (first defined on line 1)");
  EXPECT_EQ(assemble_error("r1: exit"), "line 1, column 1: 'r1' is a register and cannot be a label");
  std::string far = "jeq r1, 1, far\n";
  for (int i = 0; i < 40000; ++i)
    far += "exit\n";
  far += "far: exit\n";
  EXPECT_EQ(assemble_error(far),
            "line 1, column 12: jump to label 'far' is 40000 slots away, beyond the 16-bit offset range");
  // gotol carries its offset in imm, so the same distance is fine there.
  EXPECT_TRUE(assemble(std::string("gotol far\n") + far.substr(far.find('\n') + 1)).ok());
}

TEST(AssemblerErrors, HelpersAndPseudoForms) {
  EXPECT_EQ(assemble_error("call bpf_nothing"), "line 1, column 6: unknown helper 'bpf_nothing'");
  const std::string pseudo = assemble_error("lddw r1, map_foo(3)");
  EXPECT_EQ(pseudo.rfind("line 1, column 10: unknown lddw pseudo form 'map_foo'", 0), 0u) << pseudo;
  EXPECT_EQ(assemble_error("lddw r1, map_value(3)"), "line 1, column 10: map_value takes 2 arguments");
  EXPECT_EQ(assemble_error("lddw r1, map_fd(0x100000000)"),
            "line 1, column 17: immediate out of range: expected a 32-bit value");
}

TEST(AssemblerErrors, Syntax) {
  EXPECT_EQ(assemble_error("mov r1, @"), "line 1, column 9: unexpected character '@'");
  EXPECT_EQ(assemble_error("mov r1 r2"), "line 1, column 8: expected ',', got 'r2'");
  EXPECT_EQ(assemble_error("ldxw r1, [r2+4"), "line 1, column 15: expected ']' at end of line");
  EXPECT_EQ(assemble_error("mov r1, -"),
            "line 1, column 10: expected a number after the sign at end of line");
  EXPECT_EQ(assemble_error("12: exit"), "line 1, column 1: expected a mnemonic, got '12'");
}

TEST(AssemblerErrors, SlotDirective) {
  EXPECT_EQ(assemble_error(".slot 0x100, 0, 0, 0, 0"),
            "line 1, column 7: .slot opcode out of range [0, 255]");
  EXPECT_EQ(assemble_error(".slot 0, 16, 0, 0, 0"), "line 1, column 10: .slot dst out of range [0, 15]");
  EXPECT_EQ(assemble_error(".slot 0, 0, 0, 0"),
            "line 1, column 1: .slot takes 5 numbers: opcode, dst, src, off, imm");
  EXPECT_EQ(assemble_error(".slot 0, r1, 0, 0, 0"), "line 1, column 10: .slot dst must be a number");
  EXPECT_EQ(assemble_error(".byte 1"), "line 1, column 1: unknown directive '.byte'");
}

TEST(AssemblerErrors, NeverThrowsOnGarbage) {
  std::mt19937 rng(7);
  const std::string alphabet = "abcdlrxmovq0123456789%[]+-(),:#; \t.\nx_";
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i)
      text += alphabet[rng() % alphabet.size()];
    if (rng() % 4 == 0) text += static_cast<char>(rng() % 256);
    const auto result = assemble(text);  // must return, ok or not
    if (!result.ok()) {
      EXPECT_EQ(result.error().message.rfind("line ", 0), 0u) << result.error().message;
    }
  }
}

}  // namespace
}  // namespace bpfdiff::text
