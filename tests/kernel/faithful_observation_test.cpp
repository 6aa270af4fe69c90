// Faithful observation against the running kernel: a program our validator
// rejects is never made valid by the full-state wrapper, whichever wrapper
// the seed picks; the unmodified run shows r0's low half and the memory;
// every wrapper gives the same state. Skips where bpf() is unavailable.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "oracle/engine.hpp"
#include "oracle/kernel/full_state_rewrite.hpp"
#include "oracle/kernel/kernel_executor.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_host_engine.hpp"
#include "vm/program/validate.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle {
namespace {

using isa::RawInsn;
using kernel::KernelVerdict;

constexpr RawInsn kExit{0x95, 0, 0, 0, 0};
RawInsn mov(uint8_t dst, int32_t imm) {
  return {0xb7, dst, 0, 0, imm};
}

class FaithfulObservationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto probe = kernel_host_available(); !probe) GTEST_SKIP() << probe.error().message;
    auto e = kernel::KernelExecutor::create();
    ASSERT_TRUE(e.ok()) << e.error().message;
    executor_ = std::move(e).value();
  }

  kernel::KernelResponse execute(const std::vector<RawInsn>& program, uint32_t seed,
                                 std::vector<uint8_t> memory = {0, 0, 0, 0, 0, 0, 0, 0}) {
    kernel::KernelRequest request;
    request.program = program;
    request.memory = std::move(memory);
    request.instrumentation_seed = seed;
    return executor_->execute(request);
  }

  static std::vector<RawInsn> assemble(const std::string& text) {
    auto p = text::assemble(text);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? p->slots : std::vector<RawInsn>{};
  }

  std::unique_ptr<kernel::KernelExecutor> executor_;
};

struct RejectionClass {
  const char* name;
  std::vector<RawInsn> program;
};

// One program per rejection class of our validator (vm/program/validate.cpp)
// that can reach the kernel (maps, entry points and helper calls are
// refused before: see the last test).
std::vector<RejectionClass> rejection_classes() {
  const RawInsn lddw_lo{0x18, 0, 0, 0, 1};
  const RawInsn lddw_hi{0, 0, 0, 0, 0};
  return {
      {"falls off the end (the main job's false alarm)", {{0x24, 0, 0, 0, 9216}}},  // mul32 r0, 9216
      {"falls off the end after a branch", {{0x15, 1, 0, 1, 0}, mov(0, 1), mov(0, 2)}},
      {"falls into a subprogram", {{0x85, 0, 1, 1, 0}, mov(0, 1), mov(0, 2), kExit}},
      {"unknown opcode", {{0xff, 0, 0, 0, 0}, kExit}},
      {"reserved field set", {{0xb7, 0, 1, 0, 1}, kExit}},
      {"register r11", {{0xb7, 11, 0, 0, 1}, mov(0, 0), kExit}},
      {"write to r10", {{0xb7, 10, 0, 0, 1}, mov(0, 0), kExit}},
      {"jump past the end", {mov(0, 0), {0x05, 0, 0, 5, 0}, kExit}},
      {"jump before the start", {mov(0, 0), {0x05, 0, 0, -3, 0}, kExit}},
      {"jump into the second slot of an lddw", {mov(0, 0), {0x05, 0, 0, 1, 0}, lddw_lo, lddw_hi, kExit}},
      {"call outside the program", {{0x85, 0, 1, 10, 0}, kExit}},
      {"lddw truncated", {mov(0, 0), kExit, lddw_lo}},
      {"lddw second slot with an opcode", {lddw_lo, {0x07, 0, 0, 0, 0}, kExit}},
  };
}

TEST_F(FaithfulObservationTest, NoWrapperMakesAProgramOurValidatorRejectsValid) {
  for (const RejectionClass& c : rejection_classes()) {
    vm::Program p;
    p.slots = c.program;
    ASSERT_FALSE(vm::validate(p, default_helpers()).ok()) << c.name << ": our validator must reject it";
    for (uint32_t seed = 0; seed < kernel::kInstrumentationVariants; ++seed) {
      const kernel::KernelResponse r = execute(c.program, seed);
      EXPECT_FALSE(r.plain.loaded) << c.name << ": the kernel loads the unmodified program";
      EXPECT_TRUE(r.verdict == KernelVerdict::Rejected || r.verdict == KernelVerdict::Unsupported)
          << c.name << ": the full-state run (" << r.instrumentation << ") is "
          << static_cast<int>(r.verdict);
    }
  }
}

TEST_F(FaithfulObservationTest, TheMainJobsFalseAlarmIsBothRejectedThroughTheEngines) {
  auto kernel = make_engine(kKernelHostEngine);
  ASSERT_TRUE(kernel.ok()) << kernel.error().message;
  auto interp = make_engine("interp");
  vm::Program p;
  p.slots = {{0x24, 0, 0, 0, 9216}};  // mul32 r0, 9216 and no exit
  for (uint64_t seed = 0; seed < 8; ++seed) {
    EngineInput input;
    input.memory.assign(16, 0);
    input.seed = seed;
    const KernelComparison c = compare_with_kernel((*interp)->run(p, input), (*kernel)->run(p, input));
    EXPECT_EQ(c.kind, KernelAgreement::BothRejected) << "seed " << seed << ": " << c.reason;
  }
}

// Found by a 60-minute interp_vs_kernel run: a reserved field set in an
// instruction behind a branch the verifier proves never taken. The kernel
// loads and runs the program (it checks fields only where it explores); we
// reject it, and the disagreement says nothing about the program's meaning.
TEST_F(FaithfulObservationTest, AReservedFieldTheVerifierNeverExploresIsNotComparable) {
  auto kernel = make_engine(kKernelHostEngine);
  ASSERT_TRUE(kernel.ok()) << kernel.error().message;
  auto interp = make_engine("interp");
  vm::Program p;
  // r2 = 1; if r2 != 0 goto exit (always); mov r1, r2 with imm 5; r0 = 3; exit
  p.slots = {mov(2, 1), {0x55, 2, 0, 2, 0}, {0xbf, 1, 2, 0, 5}, mov(0, 3), mov(0, 4), kExit};
  EngineInput input;
  input.memory.assign(8, 0);
  const Outcome theirs = (*kernel)->run(p, input);
  ASSERT_TRUE(theirs.kernel);
  EXPECT_TRUE(theirs.kernel->plain.loaded) << "the kernel runs it: " << theirs.kernel->plain.log;
  const KernelComparison c = compare_with_kernel((*interp)->run(p, input), theirs);
  EXPECT_EQ(c.kind, KernelAgreement::NotComparable) << c.reason;
  EXPECT_NE(c.reason.find("pc 2 imm"), std::string::npos) << c.reason;
}

TEST_F(FaithfulObservationTest, TheUnmodifiedRunShowsTheReturnValueAndTheMemory) {
  const auto program = assemble(
      "ldxw r0, [r1+0]\n"
      "mov r2, 9\n"
      "stxw [r1+4], r2\n"
      "exit\n");
  const kernel::KernelResponse r = execute(program, 0, {7, 0, 0, 0, 1, 1, 1, 1});
  ASSERT_EQ(r.plain.verdict, KernelVerdict::Accepted) << r.plain.log;
  EXPECT_EQ(r.plain.retval, 7u);
  EXPECT_EQ(r.plain.memory, (std::vector<uint8_t>{7, 0, 0, 0, 9, 0, 0, 0}));
  ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
  EXPECT_EQ(r.memory, r.plain.memory);
}

TEST_F(FaithfulObservationTest, ContextRulesRejectTheUnmodifiedProgramNotTheFullStateOne) {
  // Pointer arithmetic on r1 is legal on a map value, not on the context.
  const auto program = assemble(
      "mov r6, r1\n"
      "add r6, 4\n"
      "ldxw r0, [r6+0]\n"
      "exit\n");
  const kernel::KernelResponse r = execute(program, 0, {0, 0, 0, 0, 5, 0, 0, 0});
  EXPECT_EQ(r.plain.verdict, KernelVerdict::Rejected);
  ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
  EXPECT_EQ(r.regs[0], 5u);
}

TEST_F(FaithfulObservationTest, ReadingPastTheMemoryIsARunFailureOfTheUnmodifiedProgram) {
  const kernel::KernelResponse r = execute(assemble("ldxw r0, [r1+8]\nexit\n"), 0, {1, 2, 3, 4});
  EXPECT_TRUE(r.plain.loaded) << "the verifier checks context offsets against the test run's size later";
  EXPECT_EQ(r.plain.verdict, KernelVerdict::Failed);
}

TEST_F(FaithfulObservationTest, EveryWrapperGivesTheSameState) {
  const auto program = assemble(
      "mov r6, 3\n"
      "ldxw r7, [r1+0]\n"
      "jgt r7, 10, +3\n"
      "mov r1, 5\n"
      "call local f\n"
      "add r0, r7\n"
      "mul r6, r0\n"
      "exit\n"
      "f:\n"
      "mov r0, r1\n"
      "exit\n");
  std::vector<std::string> wrappers;
  std::vector<kernel::KernelResponse> responses;
  for (uint32_t seed = 0; seed < kernel::kInstrumentationVariants; ++seed) {
    responses.push_back(execute(program, seed, {4, 0, 0, 0}));
    ASSERT_EQ(responses.back().verdict, KernelVerdict::Accepted) << responses.back().log;
    wrappers.push_back(responses.back().instrumentation);
  }
  for (std::size_t i = 1; i < responses.size(); ++i) {
    EXPECT_NE(wrappers[i], wrappers[0]);
    const uint16_t both = responses[i].regs_valid & responses[0].regs_valid;
    for (int reg = 0; reg < 10; ++reg) {
      if (both & (1u << reg)) {
        EXPECT_EQ(responses[i].regs[reg], responses[0].regs[reg]) << wrappers[i] << " r" << reg;
      }
    }
    EXPECT_EQ(responses[i].memory, responses[0].memory);
  }
  EXPECT_EQ(responses[0].regs[0], 9u);
  EXPECT_EQ(responses[0].regs[6], 27u);
}

TEST_F(FaithfulObservationTest, WhatNoRunCanGiveTheSameMeaningIsUnsupportedForBoth) {
  for (const auto& program : {std::vector<RawInsn>{},                                            // empty
                              std::vector<RawInsn>{{0x18, 1, 1, 0, 3}, {0, 0, 0, 0, 0}, kExit},  // a map
                              std::vector<RawInsn>{{0x85, 0, 0, 0, 6}, kExit},                   // a helper
                              std::vector<RawInsn>{{0xe5, 0, 0, 0, 0}, mov(0, 0), kExit}}) {     // may_goto
    const kernel::KernelResponse r = execute(program, 0);
    EXPECT_EQ(r.verdict, KernelVerdict::Unsupported);
    EXPECT_EQ(r.plain.verdict, KernelVerdict::Unsupported);
    EXPECT_FALSE(r.plain.loaded);
    EXPECT_FALSE(r.plain.log.empty());
  }
}

}  // namespace
}  // namespace bpfdiff::oracle
