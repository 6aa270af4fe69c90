// Local calls and their frames, the call-depth limit, helper calls and callx.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "tests/vm/program_builder.hpp"

namespace bpfdiff::test {
namespace {

using vm::ErrorKind;
using vm::ExecError;

TEST(LocalCall, PreservesR6ToR9AndPassesArgumentsInRegisters) {
  ProgramBuilder b;
  b.mov(6, 6).mov(7, 7).mov(8, 8).mov(9, 9).mov(1, 10).call_local(7).exit();
  // 7: the callee clobbers r6..r9 and returns r1 + 1
  b.mov(6, 0).mov(7, 0).mov(8, 0).mov(9, 0).movr(0, 1).op(Form::add_imm, 0, 0, 0, 1).exit();
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 11u);
  EXPECT_EQ(r.regs[1], 10u);
  EXPECT_EQ(r.regs[6], 6u);
  EXPECT_EQ(r.regs[7], 7u);
  EXPECT_EQ(r.regs[8], 8u);
  EXPECT_EQ(r.regs[9], 9u);
  EXPECT_EQ(r.instructions, 6u + 7 + 1);
}

TEST(LocalCall, CalleeFramePointerIsOneFrameBelowAndRestoredOnReturn) {
  ProgramBuilder b;
  b.call_local(2).exit();
  b.movr(0, 10).exit();
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.r0(), kStackTop - 512);
  EXPECT_EQ(r.regs[10], kStackTop);
}

TEST(LocalCall, NestedCallsStackFrames) {
  ProgramBuilder b;
  b.call_local(2).exit();  // main
  b.call_local(4).exit();  // 2: f calls g
  b.movr(0, 10).exit();    // 4: g
  EXPECT_EQ(run_r0(b), kStackTop - 1024);
}

TEST(LocalCall, CalleeStackIsSeparateFromTheCallers) {
  ProgramBuilder b;
  b.op(Form::stdw, 10, 0, -8, 0xaa).call_local(4).op(Form::ldxdw, 0, 10, -8).exit();
  b.op(Form::stdw, 10, 0, -8, 0xbb).op(Form::ldxdw, 0, 10, -8).exit();  // 4
  EXPECT_EQ(run_r0(b), 0xaau);
}

TEST(LocalCall, CalleeReachesTheCallersStackThroughAPointer) {
  ProgramBuilder b;
  b.op(Form::stdw, 10, 0, -8, 42)
      .movr(1, 10)
      .op(Form::add_imm, 1, 0, 0, -8)
      .call_local(6)
      .op(Form::ldxdw, 3, 10, -8)
      .exit();
  b.op(Form::ldxdw, 0, 1, 0).op(Form::stdw, 1, 0, 0, 99).exit();  // 6
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 42u);
  EXPECT_EQ(r.regs[3], 99u);
}

// main: call f; exit.  f: call f (forever).
ProgramBuilder infinite_recursion() {
  ProgramBuilder b;
  b.call_local(2).exit();
  b.call_local(2).exit();
  return b;
}

TEST(CallDepth, UnboundedRecursionStopsAtTheDefaultLimit) {
  const vm::RunResult r = run(infinite_recursion());
  EXPECT_EQ(r.error, (ExecError{ErrorKind::CallDepthExceeded, 2, 0, 0}));
  // 8 frames: the entry plus 7 calls succeed; the 8th call faults.
  EXPECT_EQ(r.instructions, 8u);
  EXPECT_EQ(r.regs[10], kStackBase + 512);
}

TEST(CallDepth, LimitIsConfigurable) {
  RunOptions opt;
  opt.limits.max_call_depth = 3;
  const vm::RunResult r = run(infinite_recursion(), {}, opt);
  EXPECT_EQ(r.error, (ExecError{ErrorKind::CallDepthExceeded, 2, 0, 0}));
  EXPECT_EQ(r.instructions, 3u);
}

TEST(CallDepth, DepthOneForbidsEveryLocalCall) {
  RunOptions opt;
  opt.limits.max_call_depth = 1;
  const vm::RunResult r = run(infinite_recursion(), {}, opt);
  EXPECT_EQ(r.error, (ExecError{ErrorKind::CallDepthExceeded, 0, 0, 0}));
  EXPECT_EQ(r.instructions, 1u);
}

// main: r1 = n; call f.  f: if r1 == 0 { use the deepest frame's bottom byte;
// return 5 } else { r1 -= 1; call f }.  Needs n + 2 frames.
ProgramBuilder recurse(int32_t n) {
  ProgramBuilder b;
  b.mov(1, n).call_local(3).exit();
  b.jump(Form::jne_imm, 1, 0, 0, 7)  // 3
      .op(Form::stdw, 10, 0, -512, 5)
      .op(Form::ldxdw, 0, 10, -512)
      .exit()
      .op(Form::sub_imm, 1, 0, 0, 1)  // 7
      .call_local(3)
      .exit();
  return b;
}

TEST(CallDepth, RecursionUpToTheLimitSucceeds) {
  const vm::RunResult ok = run(recurse(6));
  ASSERT_TRUE(ok.ok()) << vm::describe(ok.error);
  EXPECT_EQ(ok.r0(), 5u);
  const vm::RunResult over = run(recurse(7));
  EXPECT_EQ(over.error, (ExecError{ErrorKind::CallDepthExceeded, 8, 0, 0}));
}

TEST(CallDepth, SmallerLimitMovesTheBoundary) {
  RunOptions opt;
  opt.limits.max_call_depth = 4;
  EXPECT_TRUE(run(recurse(2), {}, opt).ok());
  EXPECT_EQ(run(recurse(3), {}, opt).error, (ExecError{ErrorKind::CallDepthExceeded, 8, 0, 0}));
}

TEST(CallDepth, LimitsAboveSixteenFramesWork) {
  RunOptions opt;
  opt.limits.max_call_depth = 40;
  const vm::RunResult ok = run(recurse(38), {}, opt);
  ASSERT_TRUE(ok.ok()) << vm::describe(ok.error);
  EXPECT_EQ(ok.r0(), 5u);
  EXPECT_EQ(ok.regs[10], kStackBase + 40 * 512);
  EXPECT_EQ(run(recurse(39), {}, opt).error, (ExecError{ErrorKind::CallDepthExceeded, 8, 0, 0}));
}

uint64_t sum_args(vm::HelperCall& c) {
  return c.args[0] + c.args[1] + c.args[2] + c.args[3] + c.args[4];
}

uint64_t read_u64(vm::HelperCall& c) {
  const uint8_t* p = c.access(c.args[0], 8, false);
  if (p == nullptr) return 0;
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

uint64_t write_u64(vm::HelperCall& c) {
  uint8_t* p = c.access(c.args[0], 8, true);
  if (p != nullptr) std::memcpy(p, &c.args[1], 8);
  return 0;
}

uint64_t count_calls(vm::HelperCall& c) {
  return ++*static_cast<uint64_t*>(c.user);
}

struct Helpers {
  uint64_t counter = 0;
  vm::HelperRegistry registry;
  RunOptions opt;
  Helpers() {
    registry.add({1, "sum", sum_args, nullptr});
    registry.add({2, "read_u64", read_u64, nullptr});
    registry.add({3, "write_u64", write_u64, nullptr});
    registry.add({4, "count", count_calls, &counter});
    opt.helpers = &registry;
  }
};

TEST(HelperCall, ReceivesR1ToR5AndLeavesThemUnchanged) {
  Helpers h;
  ProgramBuilder b;
  b.mov(1, 1).mov(2, 2).mov(3, 3).mov(4, 4).mov(5, 5).call_helper(1).exit();
  const vm::RunResult r = run(b, {}, h.opt);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 15u);
  for (int i = 1; i <= 5; ++i)
    EXPECT_EQ(r.regs[static_cast<std::size_t>(i)], static_cast<uint64_t>(i));
}

TEST(HelperCall, PassesTheUserPointer) {
  Helpers h;
  ProgramBuilder b;
  b.call_helper(4).call_helper(4).call_helper(4).exit();
  EXPECT_EQ(run_r0(b, {}, h.opt), 3u);
  EXPECT_EQ(h.counter, 3u);
}

TEST(HelperCall, DoesNotUseACallFrame) {
  Helpers h;
  h.opt.limits.max_call_depth = 1;
  ProgramBuilder b;
  b.mov(1, 40).mov(2, 2).call_helper(1).exit();
  EXPECT_EQ(run_r0(b, {}, h.opt), 42u);
}

TEST(HelperCall, ReadsTheStackThroughAccess) {
  Helpers h;
  ProgramBuilder b;
  b.lddw(3, 0x1122334455667788)
      .op(Form::stxdw, 10, 3, -16)
      .movr(1, 10)
      .op(Form::add_imm, 1, 0, 0, -16)
      .call_helper(2)
      .exit();
  EXPECT_EQ(run_r0(b, {}, h.opt), 0x1122334455667788u);
}

TEST(HelperCall, WritesTheInputThroughAccess) {
  Helpers h;
  std::vector<uint8_t> mem(8, 0);
  ProgramBuilder b;
  b.lddw(2, 0x0807060504030201).call_helper(3).exit();
  ASSERT_TRUE(run(b, mem, h.opt).ok());
  EXPECT_EQ(mem, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(HelperCall, BadPointerFailsTheRunAtTheCall) {
  Helpers h;
  ProgramBuilder b;
  b.mov(1, 0).call_helper(2).exit();
  EXPECT_EQ(run(b, {}, h.opt).error, (ExecError{ErrorKind::HelperFailed, 1, 0, 8}));
}

// A failed call changes no register: r0 keeps its value (the JIT once
// returned the helper's 0 in rax; found by the interp-vs-JIT fuzzer).
TEST(HelperCall, FailureLeavesR0Unchanged) {
  Helpers h;
  ProgramBuilder b;
  b.mov(0, 77).mov(1, 0).call_helper(2).exit();
  const vm::RunResult r = run(b, {}, h.opt);
  EXPECT_EQ(r.error, (ExecError{ErrorKind::HelperFailed, 2, 0, 8}));
  EXPECT_EQ(r.r0(), 77u);
}

TEST(Callx, UnknownHelperLeavesR0Unchanged) {
  ProgramBuilder b;
  b.mov(0, 15).mov(3, 0).op(Form::callx, 3).exit();
  const vm::RunResult r = run(b);
  EXPECT_EQ(r.error, (ExecError{ErrorKind::UnknownHelper, 2, 0, 0}));
  EXPECT_EQ(r.r0(), 15u);
}

TEST(HelperCall, PointerStraddlingTheStackTopFails) {
  Helpers h;
  ProgramBuilder b;
  b.movr(1, 10).op(Form::add_imm, 1, 0, 0, -4).call_helper(2).exit();
  EXPECT_EQ(run(b, {}, h.opt).error, (ExecError{ErrorKind::HelperFailed, 2, kStackTop - 4, 8}));
}

TEST(HelperCall, WriteBeyondTheInputFails) {
  Helpers h;
  std::vector<uint8_t> mem(8, 0);
  ProgramBuilder b;
  b.op(Form::add_imm, 1, 0, 0, 4).call_helper(3).exit();
  EXPECT_EQ(run(b, mem, h.opt).error, (ExecError{ErrorKind::HelperFailed, 1, kInputBase + 4, 8}));
  EXPECT_EQ(mem, std::vector<uint8_t>(8, 0));
}

TEST(HelperCall, TheBudgetRunsOutAtTheSameInstructionAcrossHelperAndLocalCalls) {
  // The JIT keeps the budget in a register that a helper call may clobber
  // and a local call must carry into the callee and back: every budget
  // short of the run's length stops it at exactly the instruction the
  // trace reaches, having called the helper exactly as often.
  //   0: mov r6, 20   1: call count   2: call 6   3: sub r6, 1   4: jne r6, 0, 1   5: exit
  //   6: add r0, 1    7: exit
  ProgramBuilder b;
  b.mov(6, 20)
      .call_helper(4)
      .call_local(6)
      .op(Form::sub_imm, 6, 0, 0, 1)
      .op(Form::jne_imm, 6, 0, -4, 0)
      .exit();
  b.op(Form::add_imm, 0, 0, 0, 1).exit();
  std::vector<uint32_t> trace = {0};
  for (int trip = 0; trip < 20; ++trip)
    trace.insert(trace.end(), {1, 2, 6, 7, 3, 4});
  trace.push_back(5);
  for (uint32_t budget = 0; budget <= trace.size(); ++budget) {
    Helpers h;
    h.opt.limits.instruction_budget = budget;
    const vm::RunResult r = run(b, {}, h.opt);
    const auto helper_calls = static_cast<uint64_t>(
        std::count(trace.begin(), trace.begin() + std::min<std::size_t>(budget, trace.size()), 1u));
    EXPECT_EQ(h.counter, helper_calls) << "budget " << budget;
    if (budget >= trace.size()) {
      EXPECT_TRUE(r.ok()) << vm::describe(r.error);
      EXPECT_EQ(r.instructions, trace.size());
      continue;
    }
    EXPECT_EQ(r.error, (ExecError{ErrorKind::BudgetExhausted, trace[budget], 0, 0})) << "budget " << budget;
    EXPECT_EQ(r.instructions, budget);
  }
}

TEST(Callx, CodeAddressFromLddwIsALocalCall) {
  ProgramBuilder b;
  b.lddw_code(2, 5).mov(1, 20).op(Form::callx, 2).exit();
  b.movr(0, 1).op(Form::add_imm, 0, 0, 0, 1).exit();  // 5
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 21u);
  EXPECT_EQ(r.regs[2], kCodeBase + 5 * 8);
}

TEST(Callx, LocalCallThroughCallxUsesAFrame) {
  ProgramBuilder b;
  b.lddw_code(6, 4).op(Form::callx, 6).exit();
  b.op(Form::callx, 6).exit();  // 4: calls itself
  EXPECT_EQ(run(b).error, (ExecError{ErrorKind::CallDepthExceeded, 4, 0, 0}));
}

TEST(Callx, SmallValueIsAHelperId) {
  Helpers h;
  ProgramBuilder b;
  b.mov(6, 1).mov(1, 1).mov(2, 2).mov(3, 3).mov(4, 4).mov(5, 5).op(Form::callx, 6).exit();
  EXPECT_EQ(run_r0(b, {}, h.opt), 15u);
}

vm::RunResult callx_to(uint64_t value, const RunOptions& opt = {}) {
  ProgramBuilder b;
  b.lddw(6, value).op(Form::callx, 6).exit().exit();
  return run(b, {}, opt);
}

TEST(Callx, UnregisteredHelperId) {
  Helpers h;
  EXPECT_EQ(callx_to(99, h.opt).error, (ExecError{ErrorKind::UnknownHelper, 2, 99, 0}));
  EXPECT_EQ(callx_to(0).error, (ExecError{ErrorKind::UnknownHelper, 2, 0, 0}));
}

TEST(Callx, MisalignedCodeAddress) {
  EXPECT_EQ(callx_to(kCodeBase + 3).error, (ExecError{ErrorKind::BadCallTarget, 2, kCodeBase + 3, 0}));
}

TEST(Callx, CodeAddressThatIsNotAFunctionStart) {
  EXPECT_EQ(callx_to(kCodeBase + 3 * 8).error, (ExecError{ErrorKind::BadCallTarget, 2, kCodeBase + 24, 0}));
}

TEST(Callx, CodeAddressPastTheProgram) {
  EXPECT_EQ(callx_to(kCodeBase + 1000 * 8).error,
            (ExecError{ErrorKind::BadCallTarget, 2, kCodeBase + 8000, 0}));
}

TEST(Callx, DataAddressIsNotACallTarget) {
  EXPECT_EQ(callx_to(kStackTop).error, (ExecError{ErrorKind::BadCallTarget, 2, kStackTop, 0}));
  EXPECT_EQ(callx_to(kAll).error, (ExecError{ErrorKind::BadCallTarget, 2, kAll, 0}));
}

}  // namespace
}  // namespace bpfdiff::test
