#include "oracle/kernel_compare.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "oracle/compare.hpp"
#include "oracle/kernel_outcome.hpp"

namespace bpfdiff::oracle {
namespace {

using kernel::KernelVerdict;

Outcome ours_ran(uint64_t r0, std::vector<uint8_t> memory = {1, 2}) {
  Outcome o;
  o.engine = "interp";
  o.loaded = true;
  o.regs[0] = r0;
  o.regs[3] = 33;
  o.memory = std::move(memory);
  o.stack.assign(4096, 0xaa);  // never compared with the kernel
  o.instructions = 12;
  return o;
}

Outcome kernel_outcome(KernelVerdict verdict, uint64_t r0 = 0, std::vector<uint8_t> memory = {1, 2}) {
  Outcome o;
  o.engine = "kernel-host";
  o.loaded = verdict == KernelVerdict::Accepted;
  o.regs[0] = r0;
  o.regs[3] = 33;
  o.memory = std::move(memory);
  KernelOutcome k;
  k.verdict = verdict;
  if (verdict == KernelVerdict::Rejected) k.rejection_reason = "R# invalid mem access 'scalar'";
  o.kernel = k;
  return o;
}

TEST(KernelCompare, AKernelRejectionIsNotAMismatchButCountsItsReason) {
  const auto c = compare_with_kernel(ours_ran(1), kernel_outcome(KernelVerdict::Rejected));
  EXPECT_EQ(c.kind, KernelAgreement::KernelRejected);
  EXPECT_EQ(c.reason, "R# invalid mem access 'scalar'");
  EXPECT_FALSE(c.finding());
  Outcome faulted = ours_ran(1);
  faulted.error.kind = vm::ErrorKind::MemoryRead;
  EXPECT_EQ(compare_with_kernel(faulted, kernel_outcome(KernelVerdict::Rejected)).kind,
            KernelAgreement::KernelRejected)
      << "the verifier caught what our VM caught at run time";
  Outcome rejected;
  EXPECT_EQ(compare_with_kernel(rejected, kernel_outcome(KernelVerdict::Rejected)).kind,
            KernelAgreement::BothRejected);
}

TEST(KernelCompare, AcceptedAndSameStateAgreesWhateverTheStackAndCount) {
  const auto c = compare_with_kernel(ours_ran(7), kernel_outcome(KernelVerdict::Accepted, 7));
  EXPECT_EQ(c.kind, KernelAgreement::Agree);
  EXPECT_TRUE(c.differences.empty());
}

TEST(KernelCompare, AnyRegisterOrMemoryByteIsAFinding) {
  auto c = compare_with_kernel(ours_ran(7), kernel_outcome(KernelVerdict::Accepted, 8));
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch);
  ASSERT_EQ(c.differences.size(), 1u);
  EXPECT_EQ(to_string(c.differences[0]), "r0: 0x7 vs 0x8");
  c = compare_with_kernel(ours_ran(7), kernel_outcome(KernelVerdict::Accepted, 7, {1, 3}));
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch);
  EXPECT_EQ(to_string(c.differences.at(0)), "memory[1]: 0x2 vs 0x3");
}

// Found by a 60-minute host campaign: `lddw r9, 0xc900000000000000; mov r2,
// 16; arsh r9, r2` leaves r9 = 0xffffc90000000000, a scalar that lies near
// the kernel's vmalloc'd memory map, so it was translated as a pointer and
// reported as a mismatch (the raw bpf() reproducer agreed).
TEST(KernelCompare, AScalarNearAKernelObjectIsComparedUntranslated) {
  constexpr uint64_t kMemBase = 0xffffc90000a41000;
  constexpr uint64_t kScalar = 0xffffc90000000000;
  kernel::KernelResponse r;
  r.verdict = KernelVerdict::Accepted;
  r.regs = {0, 0, 0, 33, 0, 0, 0, 0, 0, kScalar};
  r.memory = {1, 2};
  r.memory_base = kMemBase;
  r.frame_base = 0xffffc90000c27e00;
  const Outcome kernel = outcome_from_response("kernel-host", r, vm::ExecLimits{});
  ASSERT_NE(kernel.regs[9], kScalar) << "the value is near enough to the memory to be translated";
  Outcome ours = ours_ran(0);
  ours.regs[9] = kScalar;
  EXPECT_EQ(compare_with_kernel(ours, kernel).kind, KernelAgreement::Agree);
  ours.regs[9] = kScalar + 8;
  const auto c = compare_with_kernel(ours, kernel);
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch);
  ASSERT_FALSE(c.differences.empty());
  EXPECT_EQ(c.differences[0].field, "r9");
}

// The same for a scalar stored into the memory: its bytes seen at some
// offset lie within a page of the memory's kernel address, so the word was
// translated as a stored pointer; ours holds the scalar as it is.
TEST(KernelCompare, AStoredScalarNearAKernelObjectIsComparedUntranslated) {
  constexpr uint64_t kMemBase = 0xffffc90000a41000;
  constexpr uint64_t kScalar = kMemBase + 0x100;  // inside the memory's window
  kernel::KernelResponse r;
  r.verdict = KernelVerdict::Accepted;
  r.regs = {0, 0, 0, 33, 0, 0, 0, 0, 0, 0};
  r.memory.assign(24, 0);
  std::memcpy(r.memory.data() + 8, &kScalar, sizeof kScalar);
  r.memory_base = kMemBase;
  r.frame_base = 0xffffc90000c27e00;
  const Outcome kernel = outcome_from_response("kernel-host", r, vm::ExecLimits{});
  ASSERT_NE(kernel.memory, r.memory) << "the word is near enough to the memory to be translated";
  Outcome ours = ours_ran(0, r.memory);
  EXPECT_EQ(compare_with_kernel(ours, kernel).kind, KernelAgreement::Agree);
  // A real stored pointer still compares translated: ours holds r1 + 0x100.
  const uint64_t our_pointer = vm::region_base(vm::RegionId::Input) + 0x100;
  std::memcpy(ours.memory.data() + 8, &our_pointer, sizeof our_pointer);
  EXPECT_EQ(compare_with_kernel(ours, kernel).kind, KernelAgreement::Agree);
  // Anything else is a mismatch at that word.
  const uint64_t other = kScalar + 8;
  std::memcpy(ours.memory.data() + 8, &other, sizeof other);
  const auto c = compare_with_kernel(ours, kernel);
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch);
  ASSERT_FALSE(c.differences.empty());
  EXPECT_EQ(c.differences[0].field, "memory[8]");
}

TEST(KernelCompare, RegistersTheKernelDidNotExportAreNotCompared) {
  Outcome k = kernel_outcome(KernelVerdict::Accepted, 7);
  k.regs[3] = 0;
  k.kernel->regs_valid = 0x3c1;  // r1..r5 clobbered by a call
  EXPECT_EQ(compare_with_kernel(ours_ran(7), k).kind, KernelAgreement::Agree);
}

TEST(KernelCompare, AFaultOnAnAcceptedProgramIsAVerifierSoundnessFinding) {
  Outcome faulted = ours_ran(0);
  faulted.error = {vm::ErrorKind::MemoryWrite, 3, 0x200000010, 4};
  const auto c = compare_with_kernel(faulted, kernel_outcome(KernelVerdict::Accepted));
  EXPECT_EQ(c.kind, KernelAgreement::VerifierSoundness);
  EXPECT_TRUE(c.finding());
  EXPECT_NE(c.reason.find("pc 3"), std::string::npos) << c.reason;
}

TEST(KernelCompare, OurBudgetRunningOutIsNotComparable) {
  Outcome out_of_budget = ours_ran(0);
  out_of_budget.error.kind = vm::ErrorKind::BudgetExhausted;
  EXPECT_EQ(compare_with_kernel(out_of_budget, kernel_outcome(KernelVerdict::Accepted)).kind,
            KernelAgreement::NotComparable);
}

TEST(KernelCompare, UninitialisedStackReadsExcuseADifferenceButNotAnAgreement) {
  Outcome k = kernel_outcome(KernelVerdict::Accepted, 99);
  k.kernel->uninitialized_stack_read = true;
  EXPECT_EQ(compare_with_kernel(ours_ran(7), k).kind, KernelAgreement::NotComparable);
  k.regs[0] = 7;
  EXPECT_EQ(compare_with_kernel(ours_ran(7), k).kind, KernelAgreement::Agree);
}

TEST(KernelCompare, ExposedPointerBitsExcuseADifference) {
  Outcome k = kernel_outcome(KernelVerdict::Accepted, 99);
  k.kernel->pointer_bits_exposed = true;
  const auto c = compare_with_kernel(ours_ran(7), k);
  EXPECT_EQ(c.kind, KernelAgreement::NotComparable);
  EXPECT_NE(c.reason.find("pointer"), std::string::npos);
}

TEST(KernelCompare, UnsupportedFailedAndWeRejected) {
  EXPECT_EQ(compare_with_kernel(ours_ran(0), kernel_outcome(KernelVerdict::Unsupported)).kind,
            KernelAgreement::NotComparable);
  EXPECT_EQ(compare_with_kernel(ours_ran(0), kernel_outcome(KernelVerdict::Failed)).kind,
            KernelAgreement::NotComparable);
  Outcome rejected;
  rejected.load_error = "pc 0: bad";
  Outcome accepted = kernel_outcome(KernelVerdict::Accepted);
  accepted.kernel->plain.loaded = true;  // the unmodified program loaded: the verdict that counts
  accepted.kernel->plain.verdict = KernelVerdict::Accepted;
  const auto c = compare_with_kernel(rejected, accepted);
  EXPECT_EQ(c.kind, KernelAgreement::WeRejected);
  EXPECT_TRUE(c.finding());
}

TEST(KernelCompare, CompareAppliesTheKernelRulesOnEitherSide) {
  // compare() (what `bpfdiff diff` uses) sees no difference in a rejection...
  EXPECT_TRUE(
      compare(ours_ran(1), kernel_outcome(KernelVerdict::Rejected), CompareRules::everything()).empty());
  // ...and orients a finding's values as its arguments are.
  const auto left_kernel =
      compare(kernel_outcome(KernelVerdict::Accepted, 8), ours_ran(7), CompareRules::everything());
  ASSERT_EQ(left_kernel.size(), 1u);
  EXPECT_EQ(to_string(left_kernel[0]), "r0: 0x8 vs 0x7");
}

TEST(KernelCompare, TwoKernelsCompareVerdictsThenState) {
  EXPECT_EQ(compare_kernels(kernel_outcome(KernelVerdict::Accepted), kernel_outcome(KernelVerdict::Rejected))
                .at(0)
                .field,
            "kernel.verdict");
  EXPECT_TRUE(
      compare_kernels(kernel_outcome(KernelVerdict::Rejected), kernel_outcome(KernelVerdict::Rejected))
          .empty());
  EXPECT_EQ(
      compare_kernels(kernel_outcome(KernelVerdict::Accepted, 1), kernel_outcome(KernelVerdict::Accepted, 2))
          .size(),
      1u);
}

}  // namespace
}  // namespace bpfdiff::oracle

namespace bpfdiff::oracle {
namespace {

// The unmodified run's part of a kernel outcome.
Outcome with_plain(Outcome k, KernelVerdict verdict, uint32_t retval = 0,
                   std::vector<uint8_t> memory = {1, 2}) {
  k.kernel->plain.verdict = verdict;
  k.kernel->plain.loaded = verdict == KernelVerdict::Accepted || verdict == KernelVerdict::Failed;
  k.kernel->plain.retval = retval;
  k.kernel->plain.memory = std::move(memory);
  return k;
}

TEST(KernelComparePlain, AWrapperThatAcceptsWhatTheKernelRejectsIsNoFinding) {
  // The main job's false alarm: our validator rejects (the program falls off
  // its end), the unmodified program is rejected, the full-state one ran.
  Outcome rejected;
  rejected.load_error = "pc 0: opcode: last instruction can fall through past the end of the program";
  const Outcome k = with_plain(kernel_outcome(KernelVerdict::Accepted), KernelVerdict::Rejected);
  const auto c = compare_with_kernel(rejected, k);
  EXPECT_EQ(c.kind, KernelAgreement::BothRejected);
  EXPECT_FALSE(c.finding());
}

TEST(KernelComparePlain, TheKernelLoadingTheUnmodifiedProgramWeRejectIsAFinding) {
  Outcome rejected;
  rejected.load_error = "pc 3: imm: reserved field must be 0";
  const auto c = compare_with_kernel(
      rejected, with_plain(kernel_outcome(KernelVerdict::Rejected), KernelVerdict::Accepted));
  EXPECT_EQ(c.kind, KernelAgreement::WeRejected);
  EXPECT_TRUE(c.finding());
}

TEST(KernelComparePlain, RulesOfOurValidatorAloneAreNotComparable) {
  Outcome rejected;
  Outcome k = with_plain(kernel_outcome(KernelVerdict::Unsupported), KernelVerdict::Accepted);
  k.kernel->rejection_not_comparable = "our validator knows only our helpers";
  const auto c = compare_with_kernel(rejected, k);
  EXPECT_EQ(c.kind, KernelAgreement::NotComparable);
  EXPECT_EQ(c.reason, "our validator knows only our helpers");
}

TEST(KernelComparePlain, TheReturnValuesLowHalfAndTheMemoryAreCompared) {
  const Outcome full_rejected = kernel_outcome(KernelVerdict::Rejected);
  auto c = compare_with_kernel(ours_ran(0x100000007), with_plain(full_rejected, KernelVerdict::Accepted, 7));
  EXPECT_EQ(c.kind, KernelAgreement::Agree) << "only the low 32 bits come back from a test run";
  c = compare_with_kernel(ours_ran(7), with_plain(full_rejected, KernelVerdict::Accepted, 8));
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch);
  EXPECT_EQ(to_string(c.differences.at(0)), "plain.r0.low32: 0x7 vs 0x8");
  c = compare_with_kernel(ours_ran(7), with_plain(full_rejected, KernelVerdict::Accepted, 7, {1, 9}));
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch);
  EXPECT_EQ(to_string(c.differences.at(0)), "plain.memory[1]: 0x2 vs 0x9");
  // Both runs are compared when both ran.
  c = compare_with_kernel(ours_ran(7),
                          with_plain(kernel_outcome(KernelVerdict::Accepted, 7), KernelVerdict::Accepted, 6));
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch);
}

TEST(KernelComparePlain, PointersHaveNoBaseInTheUnmodifiedRun) {
  const Outcome full_rejected = kernel_outcome(KernelVerdict::Rejected);
  EXPECT_EQ(
      compare_with_kernel(ours_ran(0x200000000), with_plain(full_rejected, KernelVerdict::Accepted, 0x1234))
          .kind,
      KernelAgreement::Agree)
      << "r0 holds a pointer in our VM";
  Outcome k = with_plain(full_rejected, KernelVerdict::Accepted, 7, {0xff, 0xff});
  k.kernel->pointer_stored_in_memory = true;
  EXPECT_EQ(compare_with_kernel(ours_ran(7), k).kind, KernelAgreement::Agree);
}

TEST(KernelComparePlain, AFaultOnlyTheUnmodifiedRunCouldHaveShownIsASoundnessFinding) {
  Outcome faulted = ours_ran(0);
  faulted.error = {vm::ErrorKind::MemoryRead, 1, 0x200000010, 4};
  const auto c = compare_with_kernel(
      faulted, with_plain(kernel_outcome(KernelVerdict::Rejected), KernelVerdict::Accepted));
  EXPECT_EQ(c.kind, KernelAgreement::VerifierSoundness);
  // A context read past the memory fails the test run: the kernel refused it.
  const auto refused = compare_with_kernel(
      faulted, with_plain(kernel_outcome(KernelVerdict::Rejected), KernelVerdict::Failed));
  EXPECT_EQ(refused.kind, KernelAgreement::KernelRejected);
}

TEST(KernelCompareTwoKernels, VerdictsOfTwoReleasesMayDifferOneReleasesMayNot) {
  // Host 6.18 accepts what a 6.1 guest rejects: the verifier grew, no bug.
  Outcome host = kernel_outcome(KernelVerdict::Accepted);
  Outcome guest = kernel_outcome(KernelVerdict::Rejected);
  host.kernel->release = "6.18.0";
  guest.kernel->release = "6.1.0-50-cloud-amd64";
  EXPECT_TRUE(compare_kernels(host, guest).empty());
  EXPECT_TRUE(
      compare_kernels(with_plain(host, KernelVerdict::Accepted), with_plain(guest, KernelVerdict::Rejected))
          .empty());
  // One release's JIT and interpreter must judge alike.
  host.kernel->release = guest.kernel->release;
  EXPECT_EQ(compare_kernels(host, guest).at(0).field, "kernel.verdict");
  EXPECT_EQ(
      compare_kernels(with_plain(host, KernelVerdict::Accepted), with_plain(guest, KernelVerdict::Rejected))
          .at(0)
          .field,
      "kernel.plain.verdict");
}

TEST(KernelCompareTwoKernels, AnInterpreterRefusingWhatOnlyAJitMayRunIsNoFinding) {
  // The main job's false alarm on a 6.1 guest: a kernel-friendly program with
  // a tail call and a bpf-to-bpf call, accepted by the guest's JIT, refused by
  // its interpreter by design.
  Outcome jit = with_plain(kernel_outcome(KernelVerdict::Accepted), KernelVerdict::Accepted);
  Outcome interp = with_plain(kernel_outcome(KernelVerdict::Rejected), KernelVerdict::Rejected);
  jit.kernel->release = interp.kernel->release = "6.1.0-50-cloud-amd64";
  interp.kernel->plain.log = interp.kernel->log =
      "processed 19 insns\ntail_calls are not allowed in non-JITed programs with bpf-to-bpf calls\n";
  EXPECT_TRUE(compare_kernels(jit, interp).empty());
  EXPECT_TRUE(compare_kernels(interp, jit).empty());
  // Any other refusal by the same release's interpreter is still a finding.
  interp.kernel->plain.log = interp.kernel->log = "R1 invalid mem access 'scalar'\n";
  EXPECT_EQ(compare_kernels(jit, interp).at(0).field, "kernel.plain.verdict");
  interp.kernel->plain = jit.kernel->plain;
  EXPECT_EQ(compare_kernels(jit, interp).at(0).field, "kernel.verdict");
}

TEST(KernelCompareTwoKernels, HashValueAddressesOfAFiveLevelPagingKernelAreNotCompared) {
  // A 6.1 guest under TCG with LA57: its JIT and its interpreter left r9 at
  // a hash value each placed itself (a campaign's false finding), as did the
  // 4-level host. A scalar there is still compared.
  Outcome host = kernel_outcome(KernelVerdict::Accepted);
  Outcome jit = kernel_outcome(KernelVerdict::Accepted);
  Outcome interp = kernel_outcome(KernelVerdict::Accepted);
  host.regs[9] = 0xffff888118c3b0b8;
  jit.regs[9] = 0xff32324a42d2cfb8;
  interp.regs[9] = 0xff32324a42d2cf78;
  EXPECT_TRUE(compare_kernels(jit, interp).empty());
  EXPECT_TRUE(compare_kernels(host, jit).empty());
  interp.regs[9] = 0x00ff32324a42d2cf;
  EXPECT_EQ(compare_kernels(jit, interp).at(0).field, "r9");
}

TEST(KernelCompareTwoKernels, AnUnmodifiedRunReturningAPointerIsNotComparedButAScalarIs) {
  // r0 = r10 - 64 at exit: each kernel (and its JIT and interpreter) has its
  // own stack address; the full-state run translated it to our stack region.
  const uint64_t stack_pointer = vm::region_base(vm::RegionId::Stack) + 0xfc0;
  const Outcome jit =
      with_plain(kernel_outcome(KernelVerdict::Accepted, stack_pointer), KernelVerdict::Accepted, 0xc0013988);
  const Outcome interp =
      with_plain(kernel_outcome(KernelVerdict::Accepted, stack_pointer), KernelVerdict::Accepted, 0xc0013a38);
  EXPECT_TRUE(compare_kernels(jit, interp).empty());
  const Outcome scalar_a = with_plain(kernel_outcome(KernelVerdict::Accepted, 7), KernelVerdict::Accepted, 7);
  const Outcome scalar_b = with_plain(kernel_outcome(KernelVerdict::Accepted, 7), KernelVerdict::Accepted, 8);
  EXPECT_EQ(to_string(compare_kernels(scalar_a, scalar_b).at(0)), "plain.r0.low32: 0x7 vs 0x8");
}

}  // namespace
}  // namespace bpfdiff::oracle
