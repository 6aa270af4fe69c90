// Loads, stores and atomics on the stack and on the input memory, and the
// register state a program starts with.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/vm/engine_under_test.hpp"
#include "tests/vm/program_builder.hpp"

namespace bpfdiff::test {
namespace {

std::vector<uint8_t> counting_bytes(std::size_t n) {
  std::vector<uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint8_t>(i + 1);
  return v;
}

TEST(EntryState, MemoryModePointsR1AtTheInputAndR2AtItsLength) {
  std::vector<uint8_t> mem(24, 0);
  ProgramBuilder b;
  b.exit();
  const vm::RunResult r = run(b, mem);
  EXPECT_EQ(r.regs[1], kInputBase);
  EXPECT_EQ(r.regs[2], 24u);
  EXPECT_EQ(r.regs[10], kStackTop);
}

TEST(EntryState, EmptyMemoryGivesNullR1) {
  ProgramBuilder b;
  b.exit();
  const vm::RunResult r = run(b);
  EXPECT_EQ(r.regs[1], 0u);
  EXPECT_EQ(r.regs[2], 0u);
}

TEST(EntryState, NoDataModeIgnoresTheMemory) {
  std::vector<uint8_t> mem(8, 0);
  ProgramBuilder b;
  b.exit();
  RunOptions opt;
  opt.mode = vm::RunMode::NoData;
  const vm::RunResult r = run(b, mem, opt);
  EXPECT_EQ(r.regs[1], 0u);
  EXPECT_EQ(r.regs[2], 0u);
}

TEST(EntryState, FramePointerDependsOnTheCallDepthLimit) {
  ProgramBuilder b;
  b.exit();
  RunOptions opt;
  opt.limits.max_call_depth = 3;
  EXPECT_EQ(run(b, {}, opt).regs[10], kStackBase + 3 * 512);
}

TEST(Stack, StoreDoubleWordThenLoadEachSize) {
  ProgramBuilder b;
  b.lddw(1, 0x1122334455667788)
      .op(Form::stxdw, 10, 1, -8)
      .op(Form::ldxdw, 2, 10, -8)
      .op(Form::ldxw, 3, 10, -8)
      .op(Form::ldxw, 4, 10, -4)
      .op(Form::ldxh, 5, 10, -8)
      .op(Form::ldxb, 6, 10, -1)
      .op(Form::ldxb, 7, 10, -8)
      .op(Form::ldxh, 8, 10, -3)
      .exit();
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.regs[2], 0x1122334455667788u);
  EXPECT_EQ(r.regs[3], 0x55667788u);  // little-endian
  EXPECT_EQ(r.regs[4], 0x11223344u);
  EXPECT_EQ(r.regs[5], 0x7788u);
  EXPECT_EQ(r.regs[6], 0x11u);
  EXPECT_EQ(r.regs[7], 0x88u);
  EXPECT_EQ(r.regs[8], 0x2233u);  // unaligned
}

TEST(Stack, RegisterStoresTruncateToTheirSize) {
  ProgramBuilder b;
  b.lddw(1, 0x1122334455667788)
      .op(Form::stdw, 10, 0, -8, -1)
      .op(Form::stxb, 10, 1, -8)  // byte 0 = 0x88
      .op(Form::stxh, 10, 1, -7)  // bytes 1..2 = 88 77
      .op(Form::stxw, 10, 1, -4)  // bytes 4..7 = 88 77 66 55
      .op(Form::ldxdw, 0, 10, -8)
      .exit();
  EXPECT_EQ(run_r0(b), 0x55667788ff778888u);
}

TEST(Stack, ImmediateStoresOfEachSize) {
  ProgramBuilder b;
  b.op(Form::stdw, 10, 0, -8, 0)
      .op(Form::stw, 10, 0, -8, -1)  // only four bytes
      .op(Form::ldxdw, 1, 10, -8)
      .op(Form::sth, 10, 0, -16, 0x12345)  // imm truncated to 0x2345
      .op(Form::ldxh, 2, 10, -16)
      .op(Form::stb, 10, 0, -24, 0x1ff)
      .op(Form::ldxb, 3, 10, -24)
      .op(Form::stdw, 10, 0, -32, INT32_MIN)  // sign-extended to 64 bits
      .op(Form::ldxdw, 4, 10, -32)
      .op(Form::stdw, 10, 0, -40, 0x7fffffff)
      .op(Form::ldxdw, 5, 10, -40)
      .op(Form::stdw, 10, 0, -48, -2)
      .op(Form::ldxdw, 6, 10, -48)
      .exit();
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.regs[1], 0xffffffffu);
  EXPECT_EQ(r.regs[2], 0x2345u);
  EXPECT_EQ(r.regs[3], 0xffu);
  EXPECT_EQ(r.regs[4], 0xffffffff80000000u);
  EXPECT_EQ(r.regs[5], 0x7fffffffu);
  EXPECT_EQ(r.regs[6], neg(2));
}

TEST(Stack, WholeFrameIsAddressable) {
  ProgramBuilder b;
  b.op(Form::stdw, 10, 0, -512, 7).op(Form::ldxdw, 0, 10, -512).op(Form::stb, 10, 0, -1, 1).exit();
  EXPECT_EQ(run_r0(b), 7u);
}

TEST(Input, LoadsEachSize) {
  std::vector<uint8_t> mem = counting_bytes(16);
  ProgramBuilder b;
  b.op(Form::ldxdw, 3, 1, 8)
      .op(Form::ldxw, 4, 1, 0)
      .op(Form::ldxh, 5, 1, 14)
      .op(Form::ldxb, 6, 1, 15)
      .movr(7, 1)
      .op(Form::add_reg, 7, 2)
      .op(Form::ldxb, 8, 7, -1)  // last byte through r1 + r2 - 1
      .exit();
  const vm::RunResult r = run(b, mem);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.regs[3], 0x100f0e0d0c0b0a09u);
  EXPECT_EQ(r.regs[4], 0x04030201u);
  EXPECT_EQ(r.regs[5], 0x100fu);
  EXPECT_EQ(r.regs[6], 0x10u);
  EXPECT_EQ(r.regs[8], 0x10u);
}

TEST(Input, StoresModifyTheCallersBuffer) {
  std::vector<uint8_t> mem(16, 0);
  ProgramBuilder b;
  b.lddw(3, 0x0807060504030201)
      .op(Form::stxdw, 1, 3, 0)
      .op(Form::stw, 1, 0, 8, 0x0c0b0a09)
      .op(Form::sth, 1, 0, 12, 0x0e0d)
      .op(Form::stxb, 1, 3, 14)
      .op(Form::stb, 1, 0, 15, 0xff)
      .exit();
  ASSERT_TRUE(run(b, mem).ok());
  const std::vector<uint8_t> expected = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 1, 0xff};
  EXPECT_EQ(mem, expected);
}

TEST(LoadSigned, SignExtendsFromTheStack) {
  ProgramBuilder b;
  b.op(Form::stb, 10, 0, -1, 0x80)
      .op(Form::ldxsb, 1, 10, -1)
      .op(Form::stb, 10, 0, -2, 0x7f)
      .op(Form::ldxsb, 2, 10, -2)
      .op(Form::sth, 10, 0, -4, 0x8001)
      .op(Form::ldxsh, 3, 10, -4)
      .op(Form::sth, 10, 0, -6, 0x7fff)
      .op(Form::ldxsh, 4, 10, -6)
      .op(Form::stw, 10, 0, -12, INT32_MIN)
      .op(Form::ldxsw, 5, 10, -12)
      .op(Form::stw, 10, 0, -16, 0x7fffffff)
      .op(Form::ldxsw, 6, 10, -16)
      .op(Form::ldxb, 7, 10, -1)  // the zero-extending load of the same byte
      .exit();
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.regs[1], 0xffffffffffffff80u);
  EXPECT_EQ(r.regs[2], 0x7fu);
  EXPECT_EQ(r.regs[3], 0xffffffffffff8001u);
  EXPECT_EQ(r.regs[4], 0x7fffu);
  EXPECT_EQ(r.regs[5], 0xffffffff80000000u);
  EXPECT_EQ(r.regs[6], 0x7fffffffu);
  EXPECT_EQ(r.regs[7], 0x80u);
}

TEST(LoadSigned, SignExtendsFromTheInput) {
  std::vector<uint8_t> mem = {0xff, 0xfe, 0x80, 0x80, 0x01, 0x00, 0x00, 0x00};
  ProgramBuilder b;
  b.op(Form::ldxsb, 3, 1, 0)
      .op(Form::ldxsh, 4, 1, 0)
      .op(Form::ldxsw, 5, 1, 0)
      .op(Form::ldxsw, 6, 1, 4)
      .exit();
  const vm::RunResult r = run(b, mem);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.regs[3], kAll);
  EXPECT_EQ(r.regs[4], 0xfffffffffffffeffu);
  EXPECT_EQ(r.regs[5], 0xffffffff8080feffu);
  EXPECT_EQ(r.regs[6], 1u);
}

// Atomics: [r10-8] holds `init`, r2 holds `operand`. After the instruction
// the double word at [r10-8] must be `memory` and r2 must be `src_after`.
struct AtomicRow {
  Form form;
  uint64_t init;
  uint64_t operand;
  uint64_t memory;
  uint64_t src_after;
};

constexpr uint64_t kInit64 = 0xf0f0f0f0f0f0f0f0;
constexpr uint64_t kOp64 = 0x0f0f0f0f0f0f0f10;
// 32-bit forms touch only the low word; the high words of memory and operand are decoys.
constexpr uint64_t kInit32 = 0x11111111f0f0f0f0;
constexpr uint64_t kOp32 = 0xdead00000f0f0f10;

// clang-format off
const AtomicRow kAtomicRows[] = {
    {Form::atomic_add, kInit64, kOp64, 0, kOp64},
    {Form::atomic_fetch_add, kInit64, kOp64, 0, kInit64},
    {Form::atomic_or, kInit64, kOp64, 0xfffffffffffffff0, kOp64},
    {Form::atomic_fetch_or, kInit64, kOp64, 0xfffffffffffffff0, kInit64},
    {Form::atomic_and, kInit64, kOp64, 0x10, kOp64},
    {Form::atomic_fetch_and, kInit64, kOp64, 0x10, kInit64},
    {Form::atomic_xor, kInit64, kOp64, 0xffffffffffffffe0, kOp64},
    {Form::atomic_fetch_xor, kInit64, kOp64, 0xffffffffffffffe0, kInit64},
    {Form::atomic_xchg, kInit64, kOp64, kOp64, kInit64},
    {Form::atomic32_add, kInit32, kOp32, 0x1111111100000000, kOp32},  // carry does not reach the high word
    {Form::atomic32_fetch_add, kInit32, kOp32, 0x1111111100000000, 0xf0f0f0f0},  // old value zero-extended
    {Form::atomic32_or, kInit32, kOp32, 0x11111111fffffff0, kOp32},
    {Form::atomic32_fetch_or, kInit32, kOp32, 0x11111111fffffff0, 0xf0f0f0f0},
    {Form::atomic32_and, kInit32, kOp32, 0x1111111100000010, kOp32},
    {Form::atomic32_fetch_and, kInit32, kOp32, 0x1111111100000010, 0xf0f0f0f0},
    {Form::atomic32_xor, kInit32, kOp32, 0x11111111ffffffe0, kOp32},
    {Form::atomic32_fetch_xor, kInit32, kOp32, 0x11111111ffffffe0, 0xf0f0f0f0},
    {Form::atomic32_xchg, kInit32, kOp32, 0x111111110f0f0f10, 0xf0f0f0f0},
};
// clang-format on

class Atomic : public ::testing::TestWithParam<AtomicRow> {};

TEST_P(Atomic, UpdatesMemoryAndFetchesTheOldValue) {
  const AtomicRow& c = GetParam();
  ProgramBuilder b;
  b.lddw(1, c.init)
      .op(Form::stxdw, 10, 1, -8)
      .lddw(2, c.operand)
      .op(c.form, 10, 2, -8)
      .op(Form::ldxdw, 0, 10, -8)
      .exit();
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), c.memory) << std::hex << r.r0();
  EXPECT_EQ(r.regs[2], c.src_after) << std::hex << r.regs[2];
}

INSTANTIATE_TEST_SUITE_P(Rows, Atomic, ::testing::ValuesIn(kAtomicRows),
                         [](const auto& p) { return form_name(p.param.form); });

// r0 = expected, r2 = replacement, [r10-8] = kInit; returns the run.
vm::RunResult cmpxchg(Form form, uint64_t init, uint64_t expected) {
  ProgramBuilder b;
  b.lddw(1, init)
      .op(Form::stxdw, 10, 1, -8)
      .lddw(0, expected)
      .lddw(2, 0xabcdef0123456789)
      .op(form, 10, 2, -8)
      .op(Form::ldxdw, 3, 10, -8)
      .exit();
  return run(b);
}

TEST(Cmpxchg, SwapsWhenR0MatchesAndAlwaysReturnsTheOldValue) {
  const vm::RunResult r = cmpxchg(Form::atomic_cmpxchg, kInit64, kInit64);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.regs[3], 0xabcdef0123456789u);
  EXPECT_EQ(r.r0(), kInit64);
  EXPECT_EQ(r.regs[2], 0xabcdef0123456789u);
}

TEST(Cmpxchg, LeavesMemoryWhenR0DiffersInAnyBit) {
  const vm::RunResult r = cmpxchg(Form::atomic_cmpxchg, kInit64, kInit64 ^ (uint64_t{1} << 63));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.regs[3], kInit64);
  EXPECT_EQ(r.r0(), kInit64);
}

TEST(Cmpxchg32, ComparesOnlyTheLowHalfOfR0) {
  const vm::RunResult r = cmpxchg(Form::atomic32_cmpxchg, kInit32, 0xfffffffff0f0f0f0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.regs[3], 0x1111111123456789u);  // low word replaced, high word kept
  EXPECT_EQ(r.r0(), 0xf0f0f0f0u);             // old low word, zero-extended
}

TEST(Cmpxchg32, FailureLeavesMemoryAndLoadsTheOldValue) {
  const vm::RunResult r = cmpxchg(Form::atomic32_cmpxchg, kInit32, 0x11111111f0f0f0f1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.regs[3], kInit32);
  EXPECT_EQ(r.r0(), 0xf0f0f0f0u);
}

TEST(AtomicInput, OperatesOnTheInputMemory) {
  std::vector<uint8_t> mem(16, 0);
  mem[8] = 40;
  ProgramBuilder b;
  b.mov(3, 2)
      .op(Form::atomic_fetch_add, 1, 3, 8)
      .mov(4, 0x0100)
      .op(Form::atomic32_or, 1, 4, 8)
      .mov(0, 0)
      .exit();
  const vm::RunResult r = run(b, mem);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.regs[3], 40u);
  EXPECT_EQ(mem[8], 42);
  EXPECT_EQ(mem[9], 1);
}

// Mode by input length: with memory, the entry function and a callee write
// [r10-8]; without, they read it. Reusing one interpreter, the reads must see
// a zeroed stack: no run observes what an earlier run left behind.
TEST(StackReuse, EveryRunStartsWithAZeroedStack) {
  ProgramBuilder b;
  b.mov(0, 0)
      .jump(Form::jne_imm, 2, 0, 0, 5)
      .op(Form::ldxdw, 3, 10, -8)
      .op(Form::or_reg, 0, 3)
      .op(Form::ja, 0, 0, 1)
      .op(Form::stdw, 10, 0, -8, -1)  // 5
      .call_local(8)
      .exit();
  b.jump(Form::jne_imm, 2, 0, 0, 12)  // 8: f
      .op(Form::ldxdw, 3, 10, -8)
      .op(Form::or_reg, 0, 3)
      .exit()
      .op(Form::stdw, 10, 0, -8, -1)  // 12
      .exit();
  auto loaded = vm::validate(b.program(), no_helpers());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EngineUnderTest interp(*loaded, no_helpers());
  std::vector<uint8_t> mem(8, 0);
  ASSERT_TRUE(interp.run({vm::RunMode::Memory, mem}).ok());
  const vm::RunResult read = interp.run({});
  ASSERT_TRUE(read.ok()) << vm::describe(read.error);
  EXPECT_EQ(read.r0(), 0u);
  for (uint8_t byte : interp.stack())
    ASSERT_EQ(byte, 0);
}

TEST(StackReuse, DeepFramesOfAnEarlierRunAreZeroedToo) {
  // With memory: recurse 6 deep writing each frame; without: recurse and read.
  ProgramBuilder b;
  b.mov(0, 0).mov(6, 6).call_local(4).exit();
  b.jump(Form::jeq_imm, 2, 0, 0, 7)  // 4: f
      .op(Form::stdw, 10, 0, -512, -1)
      .op(Form::ja, 0, 0, 2)
      .op(Form::ldxdw, 3, 10, -512)  // 7
      .op(Form::or_reg, 0, 3)
      .op(Form::jeq_imm, 6, 0, 3, 0)  // 9: r6 == 0 -> exit
      .op(Form::sub_imm, 6, 0, 0, 1)
      .call_local(4)
      .mov(6, 0)
      .exit();  // 13
  auto loaded = vm::validate(b.program(), no_helpers());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EngineUnderTest interp(*loaded, no_helpers());
  std::vector<uint8_t> mem(8, 0);
  ASSERT_TRUE(interp.run({vm::RunMode::Memory, mem}).ok());
  const vm::RunResult read = interp.run({});
  ASSERT_TRUE(read.ok()) << vm::describe(read.error);
  EXPECT_EQ(read.r0(), 0u);
}

TEST(RegisteredRegion, IsMappedInEveryRunAtAFirstDynamicRegion) {
  std::vector<uint8_t> buffer = {0x2a, 0, 0, 0, 0, 0, 0, 0};
  ProgramBuilder b;
  b.lddw(1, uint64_t{8} << 32).op(Form::ldxdw, 0, 1, 0).op(Form::stdw, 1, 0, 0, 7).exit();
  auto loaded = vm::validate(b.program(), no_helpers());
  ASSERT_TRUE(loaded.ok());
  EngineUnderTest interp(*loaded, no_helpers());
  EXPECT_EQ(interp.register_region(buffer, true), uint64_t{8} << 32);
  EXPECT_EQ(interp.run({}).r0(), 0x2au);
  EXPECT_EQ(buffer[0], 7);
  EXPECT_EQ(interp.run({}).r0(), 7u);
}

}  // namespace
}  // namespace bpfdiff::test
