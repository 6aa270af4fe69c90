// bpf_tail_call: the target replaces the running function in its frame
// (reset, same depth, same r10; r6..r9 carry over), a failed call falls
// through with -ENOENT, and a run takes at most 33 tail calls, as in Linux
// (an attempt into an empty slot is not one: upstream's settled rule).
// Budget and errors are accounted exactly as the interpreter does, on every
// engine.
#include <gtest/gtest.h>

#include <vector>

#include "tests/vm/map_support.hpp"

namespace bpfdiff::test {
namespace {

using vm::ErrorKind;
using vm::ExecError;

constexpr int32_t kTailCall = 12;

// Entry: r6 = 7, a stack slot written, tail_call(ctx, map 0, index); the
// target (slot 7) returns its (reset) stack slot + r6.
ProgramBuilder frame_program(int64_t index) {
  ProgramBuilder b;
  b.mov(6, 7).op(Form::stdw, 10, 0, -8, 99).lddw_map(2, 0);     // 0..3
  b.lddw(3, static_cast<uint64_t>(index));                      // 4, 5
  b.call_helper(kTailCall).exit();                              // 6, 7
  b.op(Form::ldxdw, 0, 10, -8).op(Form::add_reg, 0, 6).exit();  // 8..10
  return b;
}

TEST(TailCall, TargetRunsInTheCallersResetFrame) {
  MapProgram p(with_maps(frame_program(1), {prog_array("jmp", 4, {{1, 8}})}));
  const vm::RunResult r = p.run();
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 7u);
  EXPECT_EQ(r.regs[10], kStackTop);
  EXPECT_EQ(r.instructions, 5u + 3u);
  const auto maps = p.maps();
  ASSERT_EQ(maps[0].entries.size(), 1u);
  EXPECT_EQ(maps[0].entries[0].key, (std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_EQ(maps[0].entries[0].value, (std::vector<uint8_t>{8, 0, 0, 0}));
}

TEST(TailCall, IndexIsAU32AsInTheKernel) {
  MapProgram p(with_maps(frame_program(0x100000001), {prog_array("jmp", 4, {{1, 8}})}));
  EXPECT_EQ(p.run().r0(), 7u);
}

TEST(TailCall, EmptySlotOrIndexPastTheEndFallsThrough) {
  for (int64_t index : {0, 3, 4, -1}) {
    MapProgram p(with_maps(frame_program(index), {prog_array("jmp", 4, {{1, 8}})}));
    const vm::RunResult r = p.run();
    ASSERT_TRUE(r.ok()) << vm::describe(r.error);
    EXPECT_EQ(r.r0(), neg_errno(vm::kENOENT)) << index;
    EXPECT_EQ(r.instructions, 6u) << index;
  }
}

TEST(TailCall, NotAProgramArrayFailsTheHelper) {
  MapProgram p(with_maps(frame_program(0), {array_map("a", 4, 4)}));
  EXPECT_EQ(p.run().error, (ExecError{ErrorKind::HelperFailed, 6, vm::map_handle(0), 0}));
  ProgramBuilder garbage;
  garbage.lddw(2, 0xdead).mov(3, 0).call_helper(kTailCall).exit();
  MapProgram g(with_maps(garbage, {prog_array("jmp", 1, {})}));
  EXPECT_EQ(g.run().error, (ExecError{ErrorKind::HelperFailed, 3, 0xdead, 0}));
}

// r6 += 1; tail_call(itself); r0 = r6: counts the program's runs.
ProgramBuilder self_tail_call() {
  ProgramBuilder b;
  b.op(Form::add_imm, 6, 0, 0, 1).lddw_map(2, 0).mov(3, 0).call_helper(kTailCall);  // 0..4
  b.movr(0, 6).exit();                                                              // 5, 6
  return b;
}

TEST(TailCall, ChainStopsAfter33TailCalls) {
  MapProgram p(with_maps(self_tail_call(), {prog_array("jmp", 1, {{0, 0}})}));
  const vm::RunResult r = p.run();
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 1u + vm::kMaxTailCalls);
  EXPECT_EQ(r.instructions, (1u + vm::kMaxTailCalls) * 4 + 2);
  EXPECT_EQ(p.run().r0(), 34u);  // the count starts again with every run
}

// r6 += 1; tail_call(index 1, empty); tail_call(itself); r0 = r6.
ProgramBuilder empty_slot_then_self() {
  ProgramBuilder b;
  b.op(Form::add_imm, 6, 0, 0, 1).lddw_map(2, 0).mov(3, 1).call_helper(kTailCall);  // 0..4
  b.lddw_map(2, 0).mov(3, 0).call_helper(kTailCall);                                // 5..8
  b.movr(0, 6).exit();                                                              // 9, 10
  return b;
}

TEST(TailCall, OnlyTailCallsTakenCountTowardsTheLimit) {
  // Upstream's rule (the x86-64 JIT of 6.12, the interpreter after
  // 3733f4be2870): the empty slot tried before each tail call uses none of
  // the 33, so the chain is as long as without it. Counting attempts (6.1)
  // would stop it after 16 tail calls: r0 = 17.
  MapProgram p(with_maps(empty_slot_then_self(), {prog_array("jmp", 2, {{0, 0}})}));
  const vm::RunResult r = p.run();
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 1u + vm::kMaxTailCalls);
  EXPECT_EQ(r.instructions, (1u + vm::kMaxTailCalls) * 7 + 2);
  EXPECT_EQ(p.run().r0(), 34u);
}

TEST(TailCall, FortyEmptySlotAttemptsLeaveTheTailCallAfterThem) {
  // r6 = 40; do tail_call(index 1, empty) while (--r6); tail_call(index 0):
  // the target (pc 13) returns 2. Had the attempts counted, the limit would
  // be spent and the last call fall through to r0 = 1.
  ProgramBuilder b;
  b.mov(6, 40);                                                        // 0
  b.lddw_map(2, 0).mov(3, 1).call_helper(kTailCall);                   // 1..4
  b.op(Form::sub_imm, 6, 0, 0, 1).op(Form::jne_imm, 6, 0, -6, 0);      // 5, 6
  b.lddw_map(2, 0).mov(3, 0).call_helper(kTailCall).mov(0, 1).exit();  // 7..12
  b.mov(0, 2).exit();                                                  // 13, 14
  MapProgram p(with_maps(b, {prog_array("jmp", 2, {{0, 13}})}));
  const vm::RunResult r = p.run();
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 2u);
}

TEST(TailCall, BudgetRunsOutInsideTheChainAtTheInterpretersPc) {
  vm::ExecLimits limits;
  limits.instruction_budget = 10;
  MapProgram p(with_maps(self_tail_call(), {prog_array("jmp", 1, {{0, 0}})}), limits);
  const vm::RunResult r = p.run();
  EXPECT_EQ(r.error, (ExecError{ErrorKind::BudgetExhausted, 3, 0, 0}));
  EXPECT_EQ(r.instructions, 10u);
  EXPECT_EQ(r.regs[6], 3u);
}

TEST(TailCall, FromASubprogramReturnsToItsCaller) {
  ProgramBuilder b;
  b.mov(6, 1).call_local(4).op(Form::add_imm, 0, 0, 0, 100).exit();  // 0..3
  b.lddw_map(2, 0).mov(3, 0).call_helper(kTailCall).exit();          // 4..8: the subprogram
  b.movr(0, 10).exit();                                              // 9, 10: the target
  MapProgram p(with_maps(b, {prog_array("jmp", 1, {{0, 9}})}));
  const vm::RunResult r = p.run();
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), kStackTop - vm::kStackFrameBytes + 100);  // the subprogram's frame
  EXPECT_EQ(r.regs[10], kStackTop);
}

TEST(TailCall, CallDepthIsTheCallersAfterATailCall) {
  // The target recurses through local calls: the limit applies from the
  // depth the tail call was made at.
  ProgramBuilder b;
  b.call_local(2).exit();                                    // 0, 1
  b.lddw_map(2, 0).mov(3, 0).call_helper(kTailCall).exit();  // 2..6
  b.call_local(7).exit();                                    // 7, 8: the target calls itself
  vm::ExecLimits limits;
  limits.max_call_depth = 4;
  MapProgram p(with_maps(b, {prog_array("jmp", 1, {{0, 7}})}), limits);
  const vm::RunResult r = p.run();
  // Frames: entry, the subprogram (now the target), two more calls; the third fails.
  EXPECT_EQ(r.error, (ExecError{ErrorKind::CallDepthExceeded, 7, 0, 0}));
}

TEST(TailCall, CallxReachesTheHelperById) {
  ProgramBuilder b;
  b.lddw_map(2, 0).mov(3, 0).mov(7, kTailCall).op(Form::callx, 7).exit();  // 0..5
  b.mov(0, 55).exit();                                                     // 6, 7
  MapProgram p(with_maps(b, {prog_array("jmp", 1, {{0, 6}})}));
  const vm::RunResult r = p.run();
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 55u);
}

TEST(TailCall, ProgramsOfOneObjectCallEachOther) {
  // Two entry programs; running either one can tail-call the other.
  ProgramBuilder b;
  b.mov(0, 1).lddw_map(2, 0).mov(3, 1).call_helper(kTailCall).exit();  // 0..5: "first"
  b.mov(0, 2).exit();                                                  // 6, 7: "second"
  vm::Program prog = with_maps(b, {prog_array("jmp", 2, {{0, 0}, {1, 6}})});
  prog.entries = {{"first", 0}, {"second", 6}};
  MapProgram first(prog);
  EXPECT_EQ(first.run().r0(), 2u);
  prog.entry = 6;
  MapProgram second(prog);
  EXPECT_EQ(second.run().r0(), 2u);
}

}  // namespace
}  // namespace bpfdiff::test
