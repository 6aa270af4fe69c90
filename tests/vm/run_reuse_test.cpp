// One engine instance, many runs: a run resets only what the previous run
// can have changed (the frames it dirtied, the input regions, the stack's
// live bound), so these tests pin down that nothing else leaks from one run
// into the next.
#include <gtest/gtest.h>

#include <cstring>
#include <span>
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

// The input regions are mapped again only when the input differs from the
// previous run's (mode, address, size): each test below changes one of them,
// or rebuilds the region table, and would see the previous run's mapping if
// that went unnoticed.

TEST(RunReuse, AShorterInputAtTheSameAddressIsMappedWithItsOwnSize) {
  ProgramBuilder b;
  b.op(Form::ldxb, 0, 1, 3).op(Form::add_reg, 0, 2).exit();  // r0 = mem[3] + r2
  Reused r(b);
  std::vector<uint8_t> mem = {1, 2, 3, 40};
  const std::span<uint8_t> whole(mem);
  for (int i = 0; i < 2; ++i) {
    const vm::RunResult four = r.engine().run({vm::RunMode::Memory, whole});
    ASSERT_TRUE(four.ok()) << vm::describe(four.error);
    EXPECT_EQ(four.r0(), 44u);
    const vm::RunResult three = r.engine().run({vm::RunMode::Memory, whole.first(3)});
    EXPECT_EQ(three.error, (ExecError{ErrorKind::MemoryRead, 0, kInputBase + 3, 1}))
        << "run " << i << ": byte 3 is outside a 3-byte input";
    EXPECT_EQ(three.regs[2], 3u);
  }
}

TEST(RunReuse, ADifferentBufferOfTheSameSizeIsTheOneTheRunSees) {
  ProgramBuilder b;
  b.op(Form::ldxb, 0, 1, 0).op(Form::stb, 1, 0, 0, 9).exit();  // r0 = mem[0]; mem[0] = 9
  Reused r(b);
  std::vector<uint8_t> first = {5};
  std::vector<uint8_t> second = {6};
  EXPECT_EQ(r.engine().run({vm::RunMode::Memory, first}).r0(), 5u);
  EXPECT_EQ(r.engine().run({vm::RunMode::Memory, second}).r0(), 6u);
  EXPECT_EQ(first[0], 9);
  EXPECT_EQ(second[0], 9) << "the store went to the second buffer";
  EXPECT_EQ(r.engine().run({vm::RunMode::Memory, second}).r0(), 9u);
}

TEST(RunReuse, TheSameInputStaysMappedAfterTheRegionTableIsRebuilt) {
  ProgramBuilder b;
  b.op(Form::ldxb, 0, 1, 0).exit();
  Reused r(b);
  std::vector<uint8_t> mem = {33};
  std::vector<uint8_t> extra = {1};
  EXPECT_EQ(r.engine().run({vm::RunMode::Memory, mem}).r0(), 33u);
  r.engine().reset_maps();  // the table is rebuilt before the next run
  const vm::RunResult after_reset = r.engine().run({vm::RunMode::Memory, mem});
  ASSERT_TRUE(after_reset.ok()) << vm::describe(after_reset.error);
  EXPECT_EQ(after_reset.r0(), 33u);
  r.engine().register_region(extra, false);  // so is it after a registration
  const vm::RunResult after_register = r.engine().run({vm::RunMode::Memory, mem});
  ASSERT_TRUE(after_register.ok()) << vm::describe(after_register.error);
  EXPECT_EQ(after_register.r0(), 33u);
}

TEST(RunReuse, TheMetadataBufferIsWrittenAgainOnEveryRun) {
  // r0 = the data address the run found in the buffer; then overwrites it.
  ProgramBuilder b;
  b.op(Form::ldxdw, 0, 1, 0).mov(3, 0).op(Form::stxdw, 1, 3, 0).exit();
  Reused r(b);
  std::vector<uint8_t> packet = {1, 2};
  std::vector<uint8_t> meta(16, 0);
  vm::RunInput in;
  in.mode = vm::RunMode::MetaBuffer;
  in.memory = packet;
  in.metadata = meta;
  for (int i = 0; i < 2; ++i) {
    const vm::RunResult res = r.engine().run(in);
    ASSERT_TRUE(res.ok()) << vm::describe(res.error);
    EXPECT_EQ(res.r0(), vm::kPacketBase) << "run " << i;
  }
}

// The engines write every register of the result themselves (neither
// zeroes the result first), so a register a run leaves alone must come out
// 0 even when the previous run set it.
TEST(RunReuse, RegistersARunDoesNotSetAreZeroWhateverThePreviousRunLeft) {
  ProgramBuilder b;
  b.jump(Form::jeq_imm, 1, 0, 0, 8);  // no input: straight to the exit
  for (int reg = 3; reg <= 9; ++reg)
    b.mov(reg, 70 + reg);
  b.mov(0, 1).exit();  // 8
  Reused r(b);
  std::vector<uint8_t> mem = {1};
  const vm::RunResult busy = r.engine().run({vm::RunMode::Memory, mem});
  ASSERT_TRUE(busy.ok()) << vm::describe(busy.error);
  for (int reg = 3; reg <= 9; ++reg)
    EXPECT_EQ(busy.regs[reg], 70u + reg);
  const vm::RunResult quiet = r.engine().run({vm::RunMode::NoData, {}});
  ASSERT_TRUE(quiet.ok()) << vm::describe(quiet.error);
  EXPECT_EQ(quiet.r0(), 1u);
  for (int reg = 1; reg <= 9; ++reg)
    EXPECT_EQ(quiet.regs[reg], 0u) << "r" << reg;
  EXPECT_EQ(quiet.regs[10], kStackTop);
}

TEST(RunReuse, TheFramePointerStartsAtTheTopOfAStackOfTheConfiguredDepth) {
  ProgramBuilder b;
  b.mov(0, 0).exit();
  vm::ExecLimits limits;
  limits.max_call_depth = 3;
  Reused r(b, limits);
  for (int i = 0; i < 2; ++i) {
    const vm::RunResult res = r.engine().run({vm::RunMode::NoData, {}});
    ASSERT_TRUE(res.ok()) << vm::describe(res.error);
    EXPECT_EQ(res.regs[10], kStackBase + 3 * 512);
  }
}

}  // namespace
}  // namespace bpfdiff::test
