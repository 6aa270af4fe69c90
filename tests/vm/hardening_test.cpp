// Run-time hardening: every out-of-bounds access of every size on every kind
// of address faults with the exact ExecError; the instruction budget; the
// legacy packet loads.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/vm/engine_under_test.hpp"
#include "tests/vm/program_builder.hpp"

namespace bpfdiff::test {
namespace {

using vm::ErrorKind;
using vm::ExecError;

constexpr std::size_t kInputSize = 16;
constexpr uint64_t kDeadFrame = kStackTop - 512;  // r10 of a callee that has returned

// Where a bad access points. Every program has the same shape:
//   0: ja +2            (skips f)
//   1: mov r0, r10      (f: returns its frame pointer)
//   2: exit
//   3: <setup>          leaves the base pointer in r6
//   P: <access> [r6 + offset(size)]
//   P+1: exit
//   P+2: exit           (a function, so `lddw code` has a target)
struct BadAddress {
  const char* name;
  // Emits the setup and returns the base it leaves in r6.
  std::function<uint64_t(ProgramBuilder&)> setup;
  std::function<int(unsigned size)> offset;
};

uint64_t base_r10(ProgramBuilder& b) {
  b.movr(6, 10);
  return kStackTop;
}
uint64_t base_input(ProgramBuilder& b) {
  b.movr(6, 1);
  return kInputBase;
}
uint64_t base_dead_frame(ProgramBuilder& b) {
  b.call_local(1).movr(6, 0);
  return kDeadFrame;
}
uint64_t base_null(ProgramBuilder& b) {
  b.mov(6, 0);
  return 0;
}
uint64_t base_code(ProgramBuilder& b) {
  const uint32_t target = b.pc() + 4;  // lddw (2), access, exit
  b.lddw_code(6, target);
  return kCodeBase + target * 8;
}
std::function<uint64_t(ProgramBuilder&)> base_const(uint64_t v) {
  return [v](ProgramBuilder& b) {
    b.lddw(6, v);
    return v;
  };
}
std::function<int(unsigned)> at(int off) {
  return [off](unsigned) { return off; };
}

const std::vector<BadAddress>& bad_addresses() {
  static const std::vector<BadAddress> cases = {
      {"StackBelowLiveFrame", base_r10, at(-513)},
      {"StackFarBelow", base_r10, at(-4096)},
      {"StackAboveTop", base_r10, at(0)},
      {"StackStraddlesTop", base_r10, [](unsigned n) { return 1 - static_cast<int>(n); }},
      {"DeadCalleeFrameTop", base_dead_frame, at(-8)},
      {"DeadCalleeFrameBottom", base_dead_frame, at(-512)},
      {"InputPastEnd", base_input, at(static_cast<int>(kInputSize))},
      {"InputStraddlesEnd", base_input, [](unsigned n) { return static_cast<int>(kInputSize + 1 - n); }},
      {"InputBeforeStart", base_input, at(-1)},
      {"Null", base_null, at(0)},
      {"NullPlusOffset", base_null, at(16)},
      {"CodeAddress", base_code, at(0)},
      {"PacketRegionUnmappedInMemoryMode", base_const(uint64_t{3} << 32), at(0)},
      {"UnmappedRegion", base_const(uint64_t{5} << 32), at(8)},
      {"DynamicRegionUnmapped", base_const(uint64_t{8} << 32), at(0)},
      {"RegionBeyondTheTable", base_const(uint64_t{64} << 32), at(0)},
      {"TopOfAddressSpace", base_const(kAll - 3), at(0)},
  };
  return cases;
}

enum class Access { Load, LoadSigned, StoreReg, StoreImm };

struct AccessCase {
  std::size_t address;  // index into bad_addresses()
  Access access;
  unsigned size;
  std::string name;
};

Form access_form(Access a, unsigned size) {
  switch (a) {
    case Access::Load:
      return size == 1 ? Form::ldxb : size == 2 ? Form::ldxh : size == 4 ? Form::ldxw : Form::ldxdw;
    case Access::LoadSigned:
      return size == 1 ? Form::ldxsb : size == 2 ? Form::ldxsh : Form::ldxsw;
    case Access::StoreReg:
      return size == 1 ? Form::stxb : size == 2 ? Form::stxh : size == 4 ? Form::stxw : Form::stxdw;
    case Access::StoreImm:
      return size == 1 ? Form::stb : size == 2 ? Form::sth : size == 4 ? Form::stw : Form::stdw;
  }
  return Form::exit;
}

std::vector<AccessCase> all_access_cases() {
  std::vector<AccessCase> out;
  for (std::size_t i = 0; i < bad_addresses().size(); ++i) {
    for (Access a : {Access::Load, Access::LoadSigned, Access::StoreReg, Access::StoreImm}) {
      for (unsigned size : {1u, 2u, 4u, 8u}) {
        if (a == Access::LoadSigned && size == 8) continue;  // there is no ldxsdw
        out.push_back(
            {i, a, size, std::string(bad_addresses()[i].name) + "_" + form_name(access_form(a, size))});
      }
    }
  }
  return out;
}

class OutOfBounds : public ::testing::TestWithParam<AccessCase> {};

TEST_P(OutOfBounds, FaultsWithTheExactError) {
  const AccessCase& c = GetParam();
  const BadAddress& where = bad_addresses()[c.address];
  ProgramBuilder b;
  b.op(Form::ja, 0, 0, 2).movr(0, 10).exit();
  const uint64_t base = where.setup(b);
  const int off = where.offset(c.size);
  const uint32_t pc = b.pc();
  const Form form = access_form(c.access, c.size);
  const bool load = c.access == Access::Load || c.access == Access::LoadSigned;
  switch (c.access) {
    case Access::Load:
    case Access::LoadSigned:
      b.op(form, 0, 6, off);
      break;
    case Access::StoreReg:
      b.op(form, 6, 7, off);
      break;
    case Access::StoreImm:
      b.op(form, 6, 0, off, 1);
      break;
  }
  b.exit().exit();
  std::vector<uint8_t> mem(kInputSize, 0);
  const vm::RunResult r = run(b, mem);
  const uint64_t address = base + static_cast<uint64_t>(static_cast<int64_t>(off));
  EXPECT_EQ(r.error, (ExecError{load ? ErrorKind::MemoryRead : ErrorKind::MemoryWrite, pc, address, c.size}));
  EXPECT_EQ(mem, std::vector<uint8_t>(kInputSize, 0));
}

INSTANTIATE_TEST_SUITE_P(Cases, OutOfBounds, ::testing::ValuesIn(all_access_cases()),
                         [](const auto& p) { return p.param.name; });

// The in-bounds neighbours of the faulting addresses above work, so the
// bounds are exact rather than conservative.
TEST(InBounds, EdgesOfEachRegionAreAccessible) {
  std::vector<uint8_t> mem(kInputSize, 0);
  ProgramBuilder b;
  b.op(Form::stdw, 10, 0, -8, 1)       // top of the live frame
      .op(Form::stdw, 10, 0, -512, 2)  // bottom of the live frame
      .op(Form::stb, 10, 0, -1, 3)
      .op(Form::stdw, 1, 0, static_cast<int>(kInputSize) - 8, 4)  // last double word of the input
      .op(Form::stb, 1, 0, static_cast<int>(kInputSize) - 1, 5)
      .op(Form::ldxb, 0, 1, 0)
      .exit();
  const vm::RunResult r = run(b, mem);
  EXPECT_TRUE(r.ok()) << vm::describe(r.error);
}

TEST(InBounds, CalleeFrameIsLiveWhileTheCalleeRuns) {
  ProgramBuilder b;
  b.call_local(2).exit();
  b.op(Form::stdw, 10, 0, -512, 9).op(Form::ldxdw, 0, 10, -512).exit();
  EXPECT_EQ(run_r0(b), 9u);
}

// Runs `form` against every bad address; `check` sees the expected pc,
// address and size next to the actual error.
template <class Check>
void for_each_bad_atomic(Check check) {
  for (Form form : {Form::atomic_add, Form::atomic_fetch_add, Form::atomic_xchg, Form::atomic_cmpxchg,
                    Form::atomic32_or, Form::atomic32_fetch_xor, Form::atomic32_cmpxchg}) {
    const unsigned size = isa::info(form).sem.width == isa::Width::W32 ? 4 : 8;
    for (const BadAddress& where : bad_addresses()) {
      ProgramBuilder b;
      b.op(Form::ja, 0, 0, 2).movr(0, 10).exit();
      const uint64_t base = where.setup(b);
      const int off = where.offset(size);
      const uint32_t pc = b.pc();
      b.op(form, 6, 7, off).exit().exit();
      std::vector<uint8_t> mem(kInputSize, 0);
      const vm::RunResult r = run(b, mem);
      const uint64_t address = base + static_cast<uint64_t>(static_cast<int64_t>(off));
      check(r.error, ExecError{r.error.kind, pc, address, size}, form_name(form) + " at " + where.name);
    }
  }
}

TEST(OutOfBoundsAtomic, FaultsAtTheExactAddressPcAndSize) {
  for_each_bad_atomic([](const ExecError& actual, const ExecError& expected, const std::string& what) {
    EXPECT_TRUE(actual.kind == ErrorKind::MemoryRead || actual.kind == ErrorKind::MemoryWrite) << what;
    EXPECT_EQ(actual, expected) << what;
  });
}

// error.hpp documents MemoryRead as "load (or the read half of an atomic)
// outside every live region" and MemoryWrite as "store outside the live
// regions or into a read-only one": an atomic on an address that is mapped
// nowhere fails its read half first, so it is a MemoryRead.
// An atomic is one read-modify-write access: outside the live regions it is a
// write fault, as error.hpp documents, whether or not the bytes were readable.
TEST(OutOfBoundsAtomic, OutsideEveryRegionIsAWriteFault) {
  for_each_bad_atomic([](const ExecError& actual, const ExecError&, const std::string& what) {
    EXPECT_EQ(vm::to_string(actual.kind), std::string(vm::to_string(ErrorKind::MemoryWrite))) << what;
  });
}

TEST(Interpreter, IsReusableAfterAFaultInsideACall) {
  ProgramBuilder b;
  b.op(Form::jeq_imm, 2, 0, 0, 3)  // no memory: r2 == 0 -> fault path
      .call_local(5)
      .exit()
      .call_local(5)  // 3
      .exit()
      .op(Form::ldxdw, 0, 1, 0)  // 5: reads *r1
      .exit();
  vm::Program p = b.program();
  auto loaded = vm::validate(p, no_helpers());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EngineUnderTest interp(*loaded, no_helpers());
  const vm::RunResult bad = interp.run({});
  EXPECT_EQ(bad.error, (ExecError{ErrorKind::MemoryRead, 5, 0, 8}));
  std::vector<uint8_t> mem = {7, 0, 0, 0, 0, 0, 0, 0};
  const vm::RunResult good = interp.run({vm::RunMode::Memory, mem});
  ASSERT_TRUE(good.ok()) << vm::describe(good.error);
  EXPECT_EQ(good.r0(), 7u);
  EXPECT_EQ(good.regs[10], kStackTop);
  // The input of the previous run is not mapped any more.
  const vm::RunResult again = interp.run({});
  EXPECT_EQ(again.error, (ExecError{ErrorKind::MemoryRead, 5, 0, 8}));
}

TEST(Interpreter, TraceSeesEveryExecutedPcWithRegistersBeforeIt) {
  ProgramBuilder b;
  b.mov(0, 1).call_local(3).exit();
  b.op(Form::add_imm, 0, 0, 0, 1).exit();  // 3
  auto loaded = vm::validate(b.program(), no_helpers());
  ASSERT_TRUE(loaded.ok());
  vm::Interpreter interp(*loaded, no_helpers());
  std::vector<uint32_t> pcs;
  std::vector<uint64_t> r0s;
  const vm::RunResult r = interp.run_traced({}, [&](uint32_t pc, const auto& regs) {
    pcs.push_back(pc);
    r0s.push_back(regs[0]);
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pcs, (std::vector<uint32_t>{0, 1, 3, 4, 2}));
  EXPECT_EQ(r0s, (std::vector<uint64_t>{0, 1, 1, 2, 2}));
  EXPECT_EQ(r.instructions, pcs.size());
}

TEST(FaultState, RegistersAreThoseBeforeTheFaultingInstruction) {
  ProgramBuilder b;
  b.mov(0, 7).mov(3, 1).op(Form::ldxdw, 0, 3, 0).mov(0, 8).exit();
  const vm::RunResult r = run(b);
  EXPECT_EQ(r.error, (ExecError{ErrorKind::MemoryRead, 2, 1, 8}));
  EXPECT_EQ(r.r0(), 7u);
  EXPECT_EQ(r.instructions, 3u);  // the faulting instruction counts
}

TEST(Describe, NamesTheErrorPcAddressAndSize) {
  EXPECT_EQ(vm::describe({ErrorKind::MemoryRead, 4, 0x200000010, 4}),
            "pc 4: out-of-bounds read of 4 bytes at 0x200000010");
  EXPECT_EQ(vm::describe({ErrorKind::MemoryWrite, 0, 0, 8}), "pc 0: out-of-bounds write of 8 bytes at 0x0");
  EXPECT_EQ(vm::describe({ErrorKind::BudgetExhausted, 2, 0, 0}), "pc 2: instruction budget exhausted");
  EXPECT_EQ(vm::describe({ErrorKind::CallDepthExceeded, 9, 0, 0}), "pc 9: call depth exceeded");
  EXPECT_EQ(vm::describe({ErrorKind::BadCallTarget, 1, 0x400000003, 0}), "pc 1: bad call target 0x400000003");
  EXPECT_EQ(vm::describe({ErrorKind::UnknownHelper, 1, 99, 0}), "pc 1: unknown helper 0x63");
}

// 0: mov r0, 0; 1: add r0, 1; 2: ja -2
ProgramBuilder infinite_loop() {
  ProgramBuilder b;
  b.mov(0, 0).op(Form::add_imm, 0, 0, 0, 1).op(Form::ja, 0, 0, -2);
  return b;
}

TEST(Budget, InfiniteLoopStopsAtTheInstructionThatWouldExceedIt) {
  RunOptions opt;
  opt.limits.instruction_budget = 10;
  const vm::RunResult r = run(infinite_loop(), {}, opt);
  // Executed: pc 0, then (1, 2) four times, then 1: ten instructions; pc 2 would be the 11th.
  EXPECT_EQ(r.error, (ExecError{ErrorKind::BudgetExhausted, 2, 0, 0}));
  EXPECT_EQ(r.instructions, 10u);
  EXPECT_EQ(r.r0(), 5u);
}

TEST(Budget, DefaultBudgetIsOneMillion) {
  const vm::RunResult r = run(infinite_loop());
  EXPECT_EQ(r.error.kind, ErrorKind::BudgetExhausted);
  EXPECT_EQ(r.instructions, 1'000'000u);
  EXPECT_EQ(r.error.pc, 2u);  // even count: 0, then (1, 2) x 499999, then 1
}

TEST(Budget, ProgramUsingExactlyTheBudgetSucceeds) {
  ProgramBuilder b;
  b.mov(0, 1).mov(0, 2).mov(0, 3).mov(0, 4).exit();
  RunOptions opt;
  opt.limits.instruction_budget = 5;
  const vm::RunResult ok = run(b, {}, opt);
  EXPECT_TRUE(ok.ok()) << vm::describe(ok.error);
  EXPECT_EQ(ok.instructions, 5u);
  EXPECT_EQ(ok.r0(), 4u);

  opt.limits.instruction_budget = 4;
  const vm::RunResult over = run(b, {}, opt);
  EXPECT_EQ(over.error, (ExecError{ErrorKind::BudgetExhausted, 4, 0, 0}));
  EXPECT_EQ(over.instructions, 4u);
}

TEST(Budget, ZeroBudgetStopsBeforeTheFirstInstruction) {
  ProgramBuilder b;
  b.exit();
  RunOptions opt;
  opt.limits.instruction_budget = 0;
  const vm::RunResult r = run(b, {}, opt);
  EXPECT_EQ(r.error, (ExecError{ErrorKind::BudgetExhausted, 0, 0, 0}));
  EXPECT_EQ(r.instructions, 0u);
}

TEST(Budget, LddwCountsAsOneInstruction) {
  ProgramBuilder b;
  b.lddw(0, 1).lddw(0, 2).exit();
  RunOptions opt;
  opt.limits.instruction_budget = 3;
  const vm::RunResult r = run(b, {}, opt);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.instructions, 3u);
}

std::vector<uint8_t> packet() {
  std::vector<uint8_t> v(16);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<uint8_t>(i);
  return v;
}

TEST(LegacyPacket, AbsoluteLoadsAreBigEndian) {
  std::vector<uint8_t> mem = packet();
  ProgramBuilder b;
  b.op(Form::ldabsb, 0, 0, 0, 3)
      .movr(3, 0)
      .op(Form::ldabsh, 0, 0, 0, 2)
      .movr(4, 0)
      .op(Form::ldabsw, 0, 0, 0, 12)  // the last four bytes
      .exit();
  const vm::RunResult r = run(b, mem);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.regs[3], 0x03u);
  EXPECT_EQ(r.regs[4], 0x0203u);
  EXPECT_EQ(r.r0(), 0x0c0d0e0fu);
}

TEST(LegacyPacket, IndirectLoadsAddTheRegister) {
  std::vector<uint8_t> mem = packet();
  ProgramBuilder b;
  b.mov(3, 2)
      .op(Form::ldindw, 0, 3, 0, 4)  // offset 6
      .movr(4, 0)
      .op(Form::ldindh, 0, 3, 0, 12)  // offset 14: the last two bytes
      .movr(5, 0)
      .op(Form::ldindb, 0, 3, 0, -2)  // offset 0
      .exit();
  const vm::RunResult r = run(b, mem);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.regs[4], 0x06070809u);
  EXPECT_EQ(r.regs[5], 0x0e0fu);
  EXPECT_EQ(r.r0(), 0x00u);
  EXPECT_EQ(r.instructions, 7u);
}

TEST(LegacyPacket, OutOfRangeEndsTheProgramWithR0Zero) {
  std::vector<uint8_t> mem = packet();
  for (auto [form, imm] : {std::pair{Form::ldabsw, 13},
                           {Form::ldabsh, 15},
                           {Form::ldabsb, 16},
                           {Form::ldabsb, -1},
                           {Form::ldabsw, INT32_MAX}}) {
    ProgramBuilder b;
    b.mov(0, 99).op(form, 0, 0, 0, imm).mov(0, 77).exit();
    const vm::RunResult r = run(b, mem);
    EXPECT_TRUE(r.ok()) << form_name(form) << " " << imm;
    EXPECT_EQ(r.r0(), 0u) << form_name(form) << " " << imm;
    EXPECT_EQ(r.instructions, 2u);
  }
}

TEST(LegacyPacket, IndirectOutOfRange) {
  std::vector<uint8_t> mem = packet();
  ProgramBuilder b;
  b.mov(3, -1).op(Form::ldindb, 0, 3, 0, 0).mov(0, 77).exit();
  EXPECT_EQ(run_r0(b, mem), 0u);
  ProgramBuilder c;
  c.mov(3, 10).op(Form::ldindw, 0, 3, 0, 3).mov(0, 77).exit();
  EXPECT_EQ(run_r0(c, mem), 0u);
}

TEST(LegacyPacket, OutOfRangeInsideACallEndsTheWholeProgram) {
  std::vector<uint8_t> mem = packet();
  ProgramBuilder b;
  b.call_local(3).mov(0, 77).exit();
  b.op(Form::ldabsb, 0, 0, 0, 100).exit();  // 3
  const vm::RunResult r = run(b, mem);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.r0(), 0u);
  EXPECT_EQ(r.instructions, 2u);
}

TEST(LegacyPacket, EndingInsideACallUnwindsToTheEntryFunctionsRegisters) {
  std::vector<uint8_t> mem = packet();
  ProgramBuilder b;
  b.mov(6, 6).mov(9, 9).call_local(4).exit();
  b.mov(6, 60).mov(9, 90).call_local(8).exit();  // 4: one frame deep
  b.op(Form::ldabsb, 0, 0, 0, 100).exit();       // 8: two frames deep
  const vm::RunResult r = run(b, mem);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.r0(), 0u);
  EXPECT_EQ(r.regs[6], 6u);
  EXPECT_EQ(r.regs[9], 9u);
  EXPECT_EQ(r.regs[10], kStackTop);
}

TEST(LegacyPacket, EmptyMemoryIsAlwaysOutOfRange) {
  ProgramBuilder b;
  b.mov(0, 5).op(Form::ldabsb, 0, 0, 0, 0).exit();
  EXPECT_EQ(run_r0(b), 0u);
}

}  // namespace
}  // namespace bpfdiff::test
