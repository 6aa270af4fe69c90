// The range analysis that lets the JIT drop the bounds check of stack
// accesses through pointers derived from r10 (vm/jit/stack_bounds.hpp):
// what it proves, and -- the part safety rests on -- what it must not
// prove: pointers it cannot bound, values a caller or callee hands over,
// loops that move a pointer, joins of unlike values, the frame's edges.
// tests/vm/data/stack-range-*.data run such programs on every engine.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vm/jit/lowering.hpp"
#include "vm/jit/stack_bounds.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/std_helpers.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::jit {
namespace {

// The pcs of the accesses proved inside the frame.
std::vector<uint32_t> proved(const std::string& source) {
  auto program = text::assemble(source);
  EXPECT_TRUE(program.ok()) << program.error().message;
  if (!program.ok()) return {};
  auto loaded = vm::validate(*program, vm::standard_helpers());
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  if (!loaded.ok()) return {};
  const std::vector<bool> flags = prove_stack_accesses(*loaded, analyse_blocks(*loaded).leader);
  std::vector<uint32_t> pcs;
  for (uint32_t pc = 0; pc < flags.size(); ++pc) {
    if (flags[pc]) pcs.push_back(pc);
  }
  return pcs;
}

using Pcs = std::vector<uint32_t>;

TEST(StackBounds, MaskedIndexIntoAStackBufferIsProved) {
  EXPECT_EQ(proved(R"(
    mov r6, 100
    loop:
    mov r2, r6
    and r2, 7
    lsh r2, 3
    mov r3, r10
    add r3, -64
    add r3, r2
    ldxdw r4, [r3]
    stxb [r3+7], r4
    sub r6, 1
    jne r6, 0, loop
    exit
  )"),
            (Pcs{7, 8}));
}

TEST(StackBounds, AnIndexThatCanReachPastTheFrameIsNotProved) {
  // (r6 & 15) * 8 reaches 120: r10 - 64 + 120 is above the frame.
  EXPECT_EQ(proved(R"(
    mov r2, r6
    and r2, 15
    lsh r2, 3
    mov r3, r10
    add r3, -64
    add r3, r2
    ldxdw r0, [r3]
    exit
  )"),
            Pcs{});
}

TEST(StackBounds, TheFramesEdgesAreExact) {
  // r10 - 512 .. r10 - 1 is the frame: [r3+0] and [r3+504] of r10-512 are
  // in, [r3-1] and [r3+505] (8 bytes) are not; r10 - 8 + 1 is out.
  EXPECT_EQ(proved(R"(
    mov r3, r10
    add r3, -512
    ldxdw r0, [r3]
    ldxdw r0, [r3+504]
    ldxb r0, [r3-1]
    ldxdw r0, [r3+505]
    mov r4, r10
    sub r4, 8
    stxdw [r4], r0
    stxdw [r4+1], r0
    stxb [r4+7], r0
    exit
  )"),
            (Pcs{2, 3, 8, 10}));
}

TEST(StackBounds, APointerACallerPassesIsNotTrusted) {
  // f's r1 is the caller's r10 - 8, but nothing is assumed at a function start.
  EXPECT_EQ(proved(R"(
    mov r1, r10
    add r1, -8
    call local f
    exit
    f:
    stdw [r1], 1
    exit
  )"),
            Pcs{});
}

TEST(StackBounds, ACalleeClobbersR0ToR5ButKeepsR6ToR9) {
  EXPECT_EQ(proved(R"(
    mov r6, r10
    add r6, -16
    mov r1, r10
    add r1, -16
    call local f
    stdw [r6], 1
    stdw [r1], 1
    stdw [r0], 1
    exit
    f:
    mov r0, r10
    add r0, -8
    stdw [r0], 2
    exit
  )"),
            (Pcs{5, 11}));
}

TEST(StackBounds, AHelperCallClobbersItsArguments) {
  EXPECT_EQ(proved(R"(
    mov r1, r10
    add r1, -8
    mov r7, r1
    call 7
    stdw [r1], 1
    stdw [r7], 1
    exit
  )"),
            (Pcs{5}));
}

TEST(StackBounds, APointerMovedByALoopIsWidenedToUnknown) {
  EXPECT_EQ(proved(R"(
    mov r3, r10
    add r3, -8
    mov r6, 10
    loop:
    stdw [r3], 1
    add r3, -8
    sub r6, 1
    jne r6, 0, loop
    exit
  )"),
            Pcs{});
}

TEST(StackBounds, JoinsKeepTheHullOfLikeValuesOnly) {
  // Both paths give a stack pointer in the frame: proved. A stack pointer
  // on one path and a scalar on the other: not.
  EXPECT_EQ(proved(R"(
    mov r3, r10
    add r3, -8
    jeq r6, 0, +2
    mov r3, r10
    add r3, -32
    stdw [r3], 1
    mov r4, r10
    jeq r6, 1, +1
    mov r4, 4096
    stdw [r4-8], 1
    exit
  )"),
            (Pcs{5}));
}

TEST(StackBounds, OverflowingOrUnknownArithmeticProvesNothing) {
  EXPECT_EQ(proved(R"(
    mov r2, r6
    lsh r2, 3
    mov r3, r10
    add r3, r2
    stdw [r3-8], 1
    lddw r2, 0x7fffffffffffffff
    add r2, 1
    mov r3, r10
    add r3, r2
    stdw [r3-8], 1
    mov32 r3, r10
    stdw [r3-8], 1
    mov r3, r10
    xor r3, 0
    stdw [r3-8], 1
    exit
  )"),
            Pcs{});
}

TEST(StackBounds, LoadsAndAlu32BoundTheirResults) {
  // A byte load is at most 255, an and32 with 0x1f at most 31.
  EXPECT_EQ(proved(R"(
    ldxb r2, [r10-1]
    mov r3, r10
    add r3, -264
    add r3, r2
    stxb [r3], r2
    ldxw r2, [r10-8]
    and32 r2, 0x1f
    mov r3, r10
    sub r3, 64
    add r3, r2
    stxdw [r3], r2
    ldxh r2, [r10-2]
    mov r3, r10
    add r3, -512
    add r3, r2
    stxb [r3], r2
    exit
  )"),
            (Pcs{0, 4, 5, 10, 11}));
}

TEST(StackBounds, AtomicsForgetWhatTheyWrite) {
  EXPECT_EQ(proved(R"(
    mov r2, r10
    add r2, -8
    mov r3, r10
    add r3, -16
    lock fetch add [r3], r2
    stdw [r2], 1
    mov r0, r10
    add r0, -8
    lock cmpxchg [r3], r2
    stdw [r0], 1
    stdw [r3], 1
    exit
  )"),
            (Pcs{4, 8, 10}));
}

TEST(StackBounds, TheDataTestsExerciseProvedAccesses) {
  // tests/vm/data/stack-range-deepest-frame.data: g's store through r3 and
  // its byte load (r10 - 512 reached in two steps) are range-proved.
  EXPECT_EQ(proved(R"(
    call local f
    exit
    f:
    call local g
    exit
    g:
    mov r3, r10
    add r3, -256
    add r3, -256
    stdw [r3], 0x1234
    ldxdw r0, [r10-512]
    ldxb r1, [r3+1]
    add r0, r1
    exit
  )"),
            (Pcs{7, 8, 9}));
}

}  // namespace
}  // namespace bpfdiff::jit
