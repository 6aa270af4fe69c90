// Known kernel bugs are recognized by emulating them in our interpreter: a
// kernel result is labelled only when the emulated run agrees with it in
// everything compared, and only on kernels older than the bug's fix.
#include <gtest/gtest.h>

#include <string>
#include <utility>

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

// corpus/kernel-findings/tail-call-count-jit-vs-interp: each run tries the
// empty key 1, then tail-calls itself through key 0; r6 counts the runs.
// Our VM counts only tail calls taken (34 runs); a kernel that counts the
// attempts too stops after 16 tail calls (17 runs).
constexpr char kEmptySlotThenSelf[] = R"(-- map-def jmp
type prog_array
key_size 4
value_size 4
max_entries 2
prog 0 0
-- asm
add r6, 1
lddw r2, map_fd(0)
mov r3, 1
call 12
lddw r2, map_fd(0)
mov r3, 0
call 12
mov r0, r6
exit
)";

// A kernel run of `program` that ended with `runs` in r0 and r6.
Outcome counted_runs(const vm::Program& program, const std::string& engine, const std::string& release,
                     uint64_t runs) {
  Outcome k = kernel_run(program, release, runs);
  k.engine = engine;
  k.kernel->interpreted = engine == "kernel-qemu-interp";
  k.regs[6] = runs;
  return k;
}

TEST(KnownKernelBugs, CountingEmptySlotAttemptsIsTheKnownBugWhereTheKernelHasIt) {
  const vm::Program p = program_of(kEmptySlotThenSelf);
  const Outcome ours = std::move(make_engine("interp")).value()->run(p, EngineInput{});
  ASSERT_TRUE(ours.ok()) << vm::describe(ours.error);
  ASSERT_EQ(ours.regs[0], 34u);
  // 6.1: JIT and interpreter both count attempts; 6.12: its interpreter.
  for (const auto& [engine, release] : {std::pair{"kernel-qemu", "6.1.0-50-cloud-amd64"},
                                        std::pair{"kernel-qemu-interp", "6.1.0-50-cloud-amd64"},
                                        std::pair{"kernel-qemu-interp", "6.12.117+deb12-cloud-amd64"}}) {
    const Outcome k = counted_runs(p, engine, release, 17);
    ASSERT_TRUE(is_finding(p, k)) << engine << " " << release;
    const KnownKernelBug* bug = explain_with_known_bug(p, EngineInput{}, k);
    ASSERT_NE(bug, nullptr) << engine << " " << release;
    EXPECT_EQ(bug->id, "tail-call-count-jit-vs-interp");
  }
}

TEST(KnownKernelBugs, CountingEmptySlotAttemptsInA612JitIsNew) {
  // 6.12's and 6.18's x86-64 JIT count only tail calls taken, as we do.
  const vm::Program p = program_of(kEmptySlotThenSelf);
  for (const char* release : {"6.12.117+deb12-cloud-amd64", "6.18.44-fc-v1272"}) {
    for (const char* engine : {"kernel-qemu", "kernel-host"}) {
      const Outcome k = counted_runs(p, engine, release, 17);
      ASSERT_TRUE(is_finding(p, k));
      EXPECT_EQ(explain_with_known_bug(p, EngineInput{}, k), nullptr) << engine << " " << release;
    }
  }
}

TEST(KnownKernelBugs, AnotherShortChainIsNotExplainedByCountingAttempts) {
  const vm::Program p = program_of(kEmptySlotThenSelf);
  // A chain of another length than the old rule gives.
  for (uint64_t runs : {uint64_t{16}, uint64_t{18}, uint64_t{33}}) {
    const Outcome k = counted_runs(p, "kernel-qemu-interp", "6.12.117+deb12-cloud-amd64", runs);
    ASSERT_TRUE(is_finding(p, k));
    EXPECT_EQ(explain_with_known_bug(p, EngineInput{}, k), nullptr) << runs;
  }
  // The right count with a wrong register beside it.
  Outcome k = counted_runs(p, "kernel-qemu-interp", "6.12.117+deb12-cloud-amd64", 17);
  k.regs[7] = 1;
  EXPECT_EQ(explain_with_known_bug(p, EngineInput{}, k), nullptr);
  // Without an empty slot tried there is nothing for the old rule to count:
  // a kernel stopping that chain early is another bug.
  vm::Program no_empty_slot = p;
  no_empty_slot.slots[3].imm = 0;  // mov r3, 0: the first tail call is taken
  const Outcome short_chain = counted_runs(no_empty_slot, "kernel-qemu", "6.1.0-50-cloud-amd64", 17);
  ASSERT_TRUE(is_finding(no_empty_slot, short_chain));
  EXPECT_EQ(explain_with_known_bug(no_empty_slot, EngineInput{}, short_chain), nullptr);
}

}  // namespace
}  // namespace bpfdiff::oracle
