// Known kernel bugs are recognized by emulating them in our interpreter: a
// kernel result is labelled only when the emulated run agrees with it in
// everything compared, and only on kernels older than the bug's fix.
#include <gtest/gtest.h>

#include <string>

#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/known_kernel_bugs.hpp"
#include "tests/support/map_error_programs.hpp"

namespace bpfdiff::oracle {
namespace {

using test_support::kDeleteAbsentKey;
using test_support::kUpdateAbsentKey;
using test_support::program_of;

constexpr char kNoMapOperation[] = R"(-- asm
mov r0, -2
exit
)";

// What a kernel engine reports when it ran `program` like our interpreter
// except that r0 ends as `r0`.
Outcome kernel_run(const vm::Program& program, const std::string& release, uint64_t r0) {
  Outcome k = std::move(make_engine("interp")).value()->run(program, EngineInput{});
  k.engine = "kernel-qemu";
  k.kernel = KernelOutcome{};
  k.kernel->verdict = kernel::KernelVerdict::Accepted;
  k.kernel->release = release;
  k.regs[0] = r0;
  return k;
}

bool is_finding(const vm::Program& program, const Outcome& kernel) {
  const Outcome ours = std::move(make_engine("interp")).value()->run(program, EngineInput{});
  return compare_with_kernel(ours, kernel).finding();
}

TEST(KnownKernelBugs, AFailedUpdateZeroExtendedOnLinux61IsTheKnownBug) {
  const vm::Program p = program_of(kUpdateAbsentKey);
  const Outcome k = kernel_run(p, "6.1.0-50-cloud-amd64", 0xfffffffe);
  ASSERT_TRUE(is_finding(p, k));
  const KnownKernelBug* bug = explain_with_known_bug(p, EngineInput{}, k);
  ASSERT_NE(bug, nullptr);
  EXPECT_EQ(bug->id, "map-op-result-zero-extended");
}

TEST(KnownKernelBugs, AFailedDeleteZeroExtendedIsTheSameBug) {
  const vm::Program p = program_of(kDeleteAbsentKey);
  const Outcome k = kernel_run(p, "6.1.0-50-cloud-amd64", 0xfffffffe);
  ASSERT_TRUE(is_finding(p, k));
  EXPECT_NE(explain_with_known_bug(p, EngineInput{}, k), nullptr);
}

TEST(KnownKernelBugs, TheSameSymptomOnAKernelWithTheFixIsNew) {
  const vm::Program p = program_of(kUpdateAbsentKey);
  for (const char* release : {"6.12.118+deb12-cloud-amd64", "6.4.0", "7.0.1", "not-a-release"}) {
    EXPECT_EQ(explain_with_known_bug(p, EngineInput{}, kernel_run(p, release, 0xfffffffe)), nullptr)
        << release;
  }
  EXPECT_NE(explain_with_known_bug(p, EngineInput{}, kernel_run(p, "6.3.13", 0xfffffffe)), nullptr);
}

TEST(KnownKernelBugs, AnotherWrongResultIsNotExplained) {
  const vm::Program p = program_of(kUpdateAbsentKey);
  for (uint64_t r0 : {uint64_t{0xfffffffd}, uint64_t{0}, uint64_t{0xfffffffffffffffd}}) {
    const Outcome k = kernel_run(p, "6.1.0-50-cloud-amd64", r0);
    ASSERT_TRUE(is_finding(p, k));
    EXPECT_EQ(explain_with_known_bug(p, EngineInput{}, k), nullptr) << r0;
  }
}

TEST(KnownKernelBugs, TheSymptomWithoutAMapOperationIsNotExplained) {
  // r0 = -2 cut to 32 bits by something else than a map operation.
  const vm::Program p = program_of(kNoMapOperation);
  const Outcome k = kernel_run(p, "6.1.0-50-cloud-amd64", 0xfffffffe);
  ASSERT_TRUE(is_finding(p, k));
  EXPECT_EQ(explain_with_known_bug(p, EngineInput{}, k), nullptr);
}

TEST(KnownKernelBugs, ARejectionIsNeverExplained) {
  const vm::Program p = program_of(kUpdateAbsentKey);
  Outcome k = kernel_run(p, "6.1.0-50-cloud-amd64", 0xfffffffe);
  k.kernel->verdict = kernel::KernelVerdict::Rejected;
  EXPECT_EQ(explain_with_known_bug(p, EngineInput{}, k), nullptr);
}

// corpus/kernel-findings/exit-offset-not-checked: every kernel we ran accepts
// `exit` with a non-zero offset and runs it as a plain exit; we reject it.
TEST(KnownKernelBugs, AnExitWithAnOffsetTheKernelRanIsTheKnownBugOnEveryKernel) {
  vm::Program p = program_of(kNoMapOperation);
  p.slots.back().off = 1024;
  const Outcome ours = std::move(make_engine("interp")).value()->run(p, EngineInput{});
  ASSERT_FALSE(ours.loaded);
  for (const char* release : {"6.1.0-50-cloud-amd64", "6.18.44-fc-v1272", "7.2.0"}) {
    Outcome k = kernel_run(program_of(kNoMapOperation), release, 0xfffffffffffffffe);
    k.kernel->plain.loaded = true;  // the kernel loaded the program as written
    k.kernel->plain.verdict = kernel::KernelVerdict::Accepted;
    k.kernel->plain.retval = 0xfffffffe;
    ASSERT_EQ(compare_with_kernel(ours, k).kind, KernelAgreement::WeRejected);
    const KnownKernelBug* bug = explain_with_known_bug(p, EngineInput{}, k);
    ASSERT_NE(bug, nullptr) << release;
    EXPECT_EQ(bug->id, "exit-offset-not-checked");
  }
  // The kernel running it as something else than a plain exit is new.
  const Outcome other = kernel_run(program_of(kNoMapOperation), "6.18.44-fc-v1272", 7);
  EXPECT_EQ(explain_with_known_bug(p, EngineInput{}, other), nullptr);
  // A reserved field elsewhere is not this bug.
  vm::Program q = program_of(kNoMapOperation);
  q.slots.front().off = 1;
  EXPECT_EQ(explain_with_known_bug(q, EngineInput{},
                                   kernel_run(program_of(kNoMapOperation), "6.18", 0xfffffffffffffffe)),
            nullptr);
}

}  // namespace
}  // namespace bpfdiff::oracle
