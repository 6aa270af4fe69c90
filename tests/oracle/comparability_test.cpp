// Which of our runs compare with the kernel's (oracle/comparability.hpp):
// pointers are known by where they came from, so a scalar that merely lies
// in our stack or input region's range (2 << 32 is the input region's base)
// is compared like any number, while real pointers through every path they
// can take (moves, offsets, spills and fills, calls) still excuse what their
// bits change.
#include "oracle/comparability.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle {
namespace {

Comparability of(const std::string& source) {
  auto p = text::assemble(source);
  EXPECT_TRUE(p.ok()) << source;
  if (!p.ok()) return {};
  const std::vector<uint8_t> memory(16, 0);
  return check_comparability(*p, memory, vm::RunMode::Memory, vm::ExecLimits{});
}

TEST(Comparability, AScalarInARegionsRangeIsANumber) {
  EXPECT_FALSE(of("lddw r0, 0x200000000\nmul r0, 3\nexit\n").pointer_bits_exposed);
  EXPECT_FALSE(of("lddw r0, 0x100000010\nrsh r0, 4\nexit\n").pointer_bits_exposed);
  EXPECT_FALSE(of("mov r0, 2\nlsh r0, 32\nstxw [r10-8], r0\nldxw r0, [r10-8]\nexit\n").pointer_bits_exposed);
  // Spilled and filled, then used: still a number.
  EXPECT_FALSE(of("lddw r2, 0x200000000\nstxdw [r10-8], r2\nldxdw r0, [r10-8]\nxor r0, 1\nexit\n")
                   .pointer_bits_exposed);
  // A pointer minus a pointer into the same region is a distance.
  EXPECT_FALSE(of("mov r2, r1\nadd r2, 8\nsub r2, r1\nmov r0, r2\nmul r0, 3\nexit\n").pointer_bits_exposed);
}

TEST(Comparability, APointersBitsAreExposedWhereverItWent) {
  EXPECT_TRUE(of("mov r0, r10\nmul r0, 3\nexit\n").pointer_bits_exposed);
  EXPECT_TRUE(of("mov r2, r1\nadd r2, 4\nand r2, 255\nmov r0, 0\nexit\n").pointer_bits_exposed);
  EXPECT_TRUE(of("mov32 r0, r1\nexit\n").pointer_bits_exposed);
  // Through a spill and fill.
  EXPECT_TRUE(of("stxdw [r10-8], r1\nldxdw r3, [r10-8]\nrsh r3, 1\nmov r0, 0\nexit\n").pointer_bits_exposed);
  // Half of a spilled pointer read back, or overwritten.
  EXPECT_TRUE(of("stxdw [r10-8], r1\nldxw r0, [r10-8]\nexit\n").pointer_bits_exposed);
  EXPECT_TRUE(of("stxdw [r10-8], r1\nstw [r10-4], 0\nldxdw r0, [r10-8]\nexit\n").pointer_bits_exposed);
  // Kept in a callee-saved register across a local call.
  EXPECT_TRUE(of("mov r6, r1\ncall local +3\nmov r0, r6\nlsh r0, 1\nexit\nmov r6, 5\nmov r0, 0\nexit\n")
                  .pointer_bits_exposed);
  // A helper's result is a number, whatever was in r0 before.
  EXPECT_FALSE(of("mov r0, r1\ncall 7\nand r0, 0\nexit\n").pointer_bits_exposed);
}

// A tail call taken: the target starts with the r1 the caller passed (our
// VM carries the input pointer, the kernel passes its context), a pointer
// either way although the call clobbered r1..r5.
TEST(Comparability, ATailCallTargetStartsWithAPointerInR1) {
  auto p = text::assemble(
      "mov r6, r1\nlddw r2, map_fd(0)\nmov r3, 1\ncall 12\nmov r0, 0\nexit\n"
      "mov32 r0, r1\nexit\n");
  ASSERT_TRUE(p.ok()) << p.error().message;
  vm::MapDef progs;
  progs.type = vm::MapType::ProgArray;
  progs.value_size = 4;
  progs.max_entries = 2;
  progs.prog_entries = {{0, 0}, {1, 7}};
  p->maps = {progs};
  const std::vector<uint8_t> memory(16, 0);
  EXPECT_TRUE(check_comparability(*p, memory, vm::RunMode::Memory, vm::ExecLimits{}).pointer_bits_exposed)
      << "the target's mov32 truncates the pointer";
  p->maps[0].prog_entries.resize(1);
  EXPECT_FALSE(check_comparability(*p, memory, vm::RunMode::Memory, vm::ExecLimits{}).pointer_bits_exposed)
      << "without the target the mov32 never runs";
}

}  // namespace
}  // namespace bpfdiff::oracle
