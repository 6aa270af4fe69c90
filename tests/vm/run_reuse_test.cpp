// One engine instance, many runs: a run resets only what the previous run
// can have changed (the frames it dirtied, the input regions, the stack's
// live bound), so these tests pin down that nothing else leaks from one run
// into the next.
#include <gtest/gtest.h>

#include <vector>

#include "tests/vm/engine_under_test.hpp"
#include "tests/vm/program_builder.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::test {
namespace {

using vm::ErrorKind;
using vm::ExecError;

// Runs `b` on one engine instance, `runs` times in a row, on the given inputs.
class Reused {
 public:
  explicit Reused(const ProgramBuilder& b, vm::ExecLimits limits = {}) : program_(b.program()) {
    auto loaded = vm::validate(program_, no_helpers());
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    if (loaded.ok()) {
      loaded_ = std::make_unique<vm::LoadedProgram>(std::move(loaded).value());
      engine_ = std::make_unique<EngineUnderTest>(*loaded_, no_helpers(), limits);
    }
  }
  EngineUnderTest& engine() { return *engine_; }

 private:
  vm::Program program_;
  std::unique_ptr<vm::LoadedProgram> loaded_;
  std::unique_ptr<EngineUnderTest> engine_;
};

// r0 = the stack slot at r10-8 as the run found it; then (when r1 != 0)
// writes r1's first byte + 1 there, in the callee's frame too.
ProgramBuilder read_then_dirty_stack() {
  ProgramBuilder b;
  b.op(Form::ldxdw, 0, 10, -8)
      .jump(Form::jeq_imm, 1, 0, 0, 5)  // no input: leave the stack alone
      .op(Form::ldxb, 2, 1, 0)
      .op(Form::stxdw, 10, 2, -8)
      .call_local(6)
      .exit()                      // 5
      .op(Form::stxdw, 10, 2, -8)  // 6: the callee's frame
      .exit();
  return b;
}

TEST(RunReuse, EveryRunStartsFromAZeroedStackAfterRunsThatWroteIt) {
  Reused r(read_then_dirty_stack());
  std::vector<uint8_t> mem = {41};
  for (int i = 0; i < 3; ++i) {
    const vm::RunResult res = r.engine().run({vm::RunMode::Memory, mem});
    ASSERT_TRUE(res.ok()) << vm::describe(res.error);
    EXPECT_EQ(res.r0(), 0u) << "run " << i << " saw the previous run's stack";
  }
  // The last run wrote the entry frame and the callee's frame.
  const auto stack = r.engine().stack();
  EXPECT_EQ(stack[stack.size() - 8], 41);
  EXPECT_EQ(stack[stack.size() - 512 - 8], 41);
  const vm::RunResult quiet = r.engine().run({vm::RunMode::NoData, {}});
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(quiet.r0(), 0u);
  for (uint8_t byte : r.engine().stack())
    ASSERT_EQ(byte, 0) << "a run that wrote nothing leaves the stack zeroed";
}

TEST(RunReuse, AProgramThatCannotWriteSeesAZeroedStackEveryRun) {
  ProgramBuilder b;
  b.op(Form::ldxdw, 0, 10, -8).op(Form::ldxdw, 3, 10, -512).op(Form::or_reg, 0, 3).exit();
  Reused r(b);
  for (int i = 0; i < 3; ++i) {
    const vm::RunResult res = r.engine().run({vm::RunMode::NoData, {}});
    ASSERT_TRUE(res.ok()) << vm::describe(res.error);
    EXPECT_EQ(res.r0(), 0u);
  }
}

TEST(RunReuse, TheStackBoundIsResetAfterARunThatFaultedInsideACall) {
  ProgramBuilder b;
  b.jump(Form::jeq_imm, 1, 0, 0, 2)  // no input: skip the call
      .call_local(4)
      .op(Form::ldxdw, 0, 10, -512)  // 2: the entry frame's lowest slot
      .exit()
      .op(Form::ldxdw, 0, 0, 0)  // 4: reads address 0: faults with a frame pushed
      .exit();
  Reused r(b);
  std::vector<uint8_t> mem = {1};
  const vm::RunResult bad = r.engine().run({vm::RunMode::Memory, mem});
  EXPECT_EQ(bad.error, (ExecError{ErrorKind::MemoryRead, 4, 0, 8}));
  const vm::RunResult good = r.engine().run({vm::RunMode::NoData, {}});
  ASSERT_TRUE(good.ok()) << vm::describe(good.error);
  EXPECT_EQ(good.regs[10], kStackTop);
}

TEST(RunReuse, APacketRunLeavesNoPacketMappedForTheNextRun) {
  ProgramBuilder b;
  b.lddw(2, uint64_t{16} << 20)  // kPacketBase: the packet's first byte in packet mode
      .op(Form::ldxb, 0, 2, 0)
      .exit();
  Reused r(b);
  std::vector<uint8_t> packet = {9, 8, 7};
  const vm::RunResult in_packet = r.engine().run({vm::RunMode::Packet, packet});
  ASSERT_TRUE(in_packet.ok()) << vm::describe(in_packet.error);
  EXPECT_EQ(in_packet.r0(), 9u);
  const vm::RunResult after = r.engine().run({vm::RunMode::Memory, packet});
  EXPECT_EQ(after.error.kind, ErrorKind::MemoryRead);
}

TEST(RunReuse, ARegionRegisteredBetweenRunsIsMappedInTheNext) {
  ProgramBuilder b;
  b.lddw(2, uint64_t{8} << 32).op(Form::ldxb, 0, 2, 0).exit();  // the first dynamic region
  Reused r(b);
  const vm::RunResult before = r.engine().run({vm::RunMode::NoData, {}});
  EXPECT_EQ(before.error.kind, ErrorKind::MemoryRead);
  std::vector<uint8_t> buffer = {77};
  EXPECT_EQ(r.engine().register_region(buffer, false), uint64_t{8} << 32);
  const vm::RunResult after = r.engine().run({vm::RunMode::NoData, {}});
  ASSERT_TRUE(after.ok()) << vm::describe(after.error);
  EXPECT_EQ(after.r0(), 77u);
}

}  // namespace
}  // namespace bpfdiff::test
