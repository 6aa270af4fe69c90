// When a rejection of ours for a reserved field is excused against the
// kernel (the instruction is never reached) and when it stays a finding.
#include <gtest/gtest.h>

#include "oracle/comparability.hpp"
#include "oracle/unreached_reserved_fields.hpp"

namespace bpfdiff::oracle {
namespace {

using isa::RawInsn;

constexpr RawInsn kExit{0x95, 0, 0, 0, 0};

vm::Program program(std::vector<RawInsn> slots) {
  vm::Program p;
  p.slots = std::move(slots);
  return p;
}

std::string excuse(const vm::Program& p, std::vector<uint8_t> memory = {}) {
  return unreached_reserved_fields(p, memory, vm::RunMode::Memory, vm::ExecLimits{});
}

TEST(UnreachedReservedFields, AnInstructionOnABranchNeverTakenIsExcusedWithItsPcAndField) {
  // mov r0, 0; ja +1; mov r1, r2 (imm 5, reserved); exit
  const vm::Program p = program({{0xb7, 0, 0, 0, 0}, {0x05, 0, 0, 1, 0}, {0xbf, 1, 2, 0, 5}, kExit});
  const std::string why = excuse(p);
  EXPECT_NE(why.find("pc 2 imm"), std::string::npos) << why;
  // The same through check_comparability, as the kernel engines call it.
  EXPECT_EQ(check_comparability(p, {}, vm::RunMode::Memory, vm::ExecLimits{}).rejection_not_comparable, why);
}

TEST(UnreachedReservedFields, EveryOffendingFieldIsClearedAndNamed) {
  // Two fields of one dead slot and one of another.
  const vm::Program p = program({{0xb7, 0, 0, 0, 0},
                                 {0x05, 0, 0, 2, 0},
                                 {0x0f, 1, 2, 7, 5},  // add r1, r2 with off and imm set
                                 {0x07, 1, 3, 0, 1},  // add r1, 1 with src 3
                                 kExit});
  const std::string why = excuse(p);
  EXPECT_NE(why.find("pc 2 off"), std::string::npos) << why;
  EXPECT_NE(why.find("pc 2 imm"), std::string::npos) << why;
  EXPECT_NE(why.find("pc 3 src"), std::string::npos) << why;
}

TEST(UnreachedReservedFields, AKnownOpcodeWithADiscriminatorOfNoFormIsExcusedToo) {
  // mov r1, r2 with off 7 (0, 8, 16 and 32 are its forms) on a dead branch.
  const std::string why =
      excuse(program({{0xb7, 0, 0, 0, 0}, {0x05, 0, 0, 1, 0}, {0xbf, 1, 2, 7, 0}, kExit}));
  EXPECT_NE(why.find("pc 2 off"), std::string::npos) << why;
}

TEST(UnreachedReservedFields, RegistersPastR10AndWritesToR10AreExcusedToo) {
  // xor r15, r10 with off -4177 and an imm (from the fuzzer), behind a jump
  // over it; the validator stops at one field after the other.
  const std::string why = excuse(program({{0xb7, 0, 0, 0, 0},
                                          {0x05, 0, 0, 1, 0},
                                          {0xaf, 15, 10, -4177, static_cast<int32_t>(0xafafafaf)},
                                          kExit}));
  EXPECT_NE(why.find("pc 2 off"), std::string::npos) << why;
  EXPECT_NE(why.find("pc 2 dst"), std::string::npos) << why;
  EXPECT_NE(why.find("pc 2 imm"), std::string::npos) << why;
  // mov r10, 1 on a dead branch.
  EXPECT_NE(
      excuse(program({{0xb7, 0, 0, 0, 0}, {0x05, 0, 0, 1, 0}, {0xb7, 10, 0, 0, 1}, kExit})).find("pc 2 dst"),
      std::string::npos);
  // ... but not where it runs.
  EXPECT_EQ(excuse(program({{0xb7, 0, 0, 0, 0}, {0xb7, 10, 0, 0, 1}, kExit})), "");
}

TEST(UnreachedReservedFields, AReachedInstructionStaysAFinding) {
  // mov r0, 0; mov r1, r2 (imm 5); exit: runs the offending slot.
  EXPECT_EQ(excuse(program({{0xb7, 0, 0, 0, 0}, {0xbf, 1, 2, 0, 5}, kExit})), "");
  // Reached only for some inputs: r0 = *(u8 *)(r1 + 0); if r0 == 0 goto exit.
  const vm::Program by_input = program({{0x71, 0, 1, 0, 0}, {0x15, 0, 0, 1, 0}, {0xbf, 1, 2, 0, 5}, kExit});
  EXPECT_NE(excuse(by_input, {0}), "");
  EXPECT_EQ(excuse(by_input, {1}), "");
}

TEST(UnreachedReservedFields, OnlyReservedFieldsAreExcused) {
  // An unknown opcode on the dead branch: the kernel checks opcodes in every slot.
  EXPECT_EQ(excuse(program({{0xb7, 0, 0, 0, 0}, {0x05, 0, 0, 1, 0}, {0xff, 0, 0, 0, 0}, kExit})), "");
  // The second slot of an lddw: checked by the kernel in every slot too.
  EXPECT_EQ(
      excuse(program({{0xb7, 0, 0, 0, 0}, {0x05, 0, 0, 2, 0}, {0x18, 1, 0, 0, 1}, {0, 0, 0, 3, 0}, kExit})),
      "");
  // A valid program needs no excuse.
  EXPECT_EQ(excuse(program({{0xb7, 0, 0, 0, 0}, kExit})), "");
}

TEST(UnreachedReservedFields, ARunThatFaultsIsNotExcused) {
  // The dead slot is never reached, but the run faults first (a read at
  // r2 = 0): the kernel's acceptance says more than the dead slot.
  EXPECT_EQ(excuse(program({{0x79, 0, 2, 0, 0}, {0x05, 0, 0, 1, 0}, {0xbf, 1, 2, 0, 5}, kExit})), "");
}

}  // namespace
}  // namespace bpfdiff::oracle
