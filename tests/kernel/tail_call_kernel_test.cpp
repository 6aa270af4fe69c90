// Tail calls in kernel runs: the full-state wrapper's tail-call stubs (the
// context spilled by the prologue and passed in r1), programs cut into
// pieces at the other slots their program arrays name, and, where bpf()
// works, interp against kernel-host on programs that tail-call themselves
// or another piece through a program array -- including that the kernel
// really takes the tail calls (a program array our VM leaves empty is a
// reported difference).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fuzz/differential.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel/full_state_rewrite.hpp"
#include "oracle/kernel/kernel_executor.hpp"
#include "oracle/kernel/kernel_release.hpp"
#include "oracle/kernel/program_pieces.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_host_engine.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle {
namespace {

using isa::RawInsn;

std::vector<RawInsn> slots(const std::string& text) {
  auto p = text::assemble(text);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? p->slots : std::vector<RawInsn>{};
}

// memory[0..8) += 1, then bpf_tail_call(ctx, map 0, 0); r0 = the count.
constexpr const char* kCounter =
    "ldxdw r6, [r1+0]\nadd r6, 1\nstxdw [r1+0], r6\n"
    "lddw r2, map_fd(0)\nmov r3, 0\ncall 12\n"
    "mov r0, r6\nexit";

TEST(TailCallRewrite, EachTailCallJumpsToAStubThatPassesTheSpilledContext) {
  const std::vector<RawInsn> p = slots(kCounter);
  const std::vector<kernel::RewriteInput::Map> maps{{50, false, 2}};
  for (uint32_t seed = 0; seed < kernel::kInstrumentationVariants; ++seed) {
    kernel::RewriteInput in;
    in.program = p;
    in.regs_map_fd = 7;
    in.memory_map_fd = 8;
    in.memory_size = 8;
    in.allow_helper_calls = true;
    in.instrumentation = kernel::instrumentation_for_seed(seed);
    in.maps = maps;
    in.tail_calls = true;
    auto r = kernel::rewrite_full_state(in);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->instrumentation.prologue, kernel::PrologueKind::Minimal)
        << "a restart must not reset registers";
    EXPECT_EQ(r->tail_call_stubs, 1u);
    // The prologue spills the context first.
    EXPECT_EQ(r->insns[0], (RawInsn{0x7b, 10, 1, r->context_slot, 0}));
    // The call (original pc 6) is now a jump to the stub, and the stub returns after it.
    const uint32_t site = r->new_pc(6);
    const RawInsn& ja = r->insns[site];
    ASSERT_EQ(ja.opcode, 0x05) << describe(r->instrumentation);
    const uint32_t stub = site + 1 + static_cast<uint32_t>(static_cast<int32_t>(ja.off));
    EXPECT_EQ(r->insns[stub], (RawInsn{0x79, 1, 10, r->context_slot, 0}));
    EXPECT_EQ(r->insns[stub + 1], (RawInsn{0x85, 0, 0, 0, 12}));
    EXPECT_EQ(r->insns[stub + 2].opcode, 0x05);
    EXPECT_EQ(stub + 3 + static_cast<uint32_t>(static_cast<int32_t>(r->insns[stub + 2].off)), site + 1);
    EXPECT_TRUE(r->regs_valid & (1u << 6)) << "r6 is written on every path";
    EXPECT_FALSE(r->regs_valid & (1u << 7)) << "r7 is never written";
  }
  // Without a program array in the request, a tail call is refused.
  kernel::RewriteInput plain;
  plain.program = p;
  plain.regs_map_fd = 7;
  plain.allow_helper_calls = true;
  plain.maps = maps;
  EXPECT_FALSE(kernel::rewrite_full_state(plain).ok());
}

// A full-state request with helper calls and one program array (map 0).
kernel::RewriteInput tail_call_request() {
  static const std::vector<kernel::RewriteInput::Map> maps{{50, false, 2}};
  kernel::RewriteInput in;
  in.regs_map_fd = 7;
  in.allow_helper_calls = true;
  in.maps = maps;
  in.tail_calls = true;
  return in;
}

TEST(TailCallRewrite, RefusesTailCallsFromSubprogramsAndRegistersReadBeforeWritten) {
  kernel::RewriteInput in = tail_call_request();
  // A local call of the subprogram at pc 3, which tail-calls.
  std::vector<RawInsn> local =
      slots("call 1\nmov r0, 0\nexit\nlddw r2, map_fd(0)\nmov r3, 0\ncall 12\nmov r0, 0\nexit");
  local[0] = {0x85, 0, 1, 0, 2};
  in.program = local;
  auto r = kernel::rewrite_full_state(in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("a tail call from a subprogram"), std::string::npos) << r.error().message;
  const std::vector<RawInsn> reads_r6 = slots("mov r0, r6\nlddw r2, map_fd(0)\nmov r3, 0\ncall 12\nexit");
  in.program = reads_r6;
  r = kernel::rewrite_full_state(in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("reads a register other than r1 before writing it"), std::string::npos)
      << r.error().message;
}

// The context's slot lies just below the frame the entry function uses --
// through r10 or a copy of it, with the copy's offset -- and not below a
// plain scalar's negative add, which once pushed an entry frame and a
// callee's past the kernel's combined 512 bytes.
TEST(TailCallRewrite, TheContextSlotLiesBelowTheFrameTheEntryUsesAndNoLower) {
  kernel::RewriteInput in = tail_call_request();
  const auto slot_of = [&](const std::string& body) {
    const std::vector<RawInsn> p = slots(body + "\nlddw r2, map_fd(0)\nmov r3, 0\ncall 12\nmov r0, 0\nexit");
    in.program = p;
    auto r = kernel::rewrite_full_state(in);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->context_slot : int16_t{0};
  };
  EXPECT_EQ(slot_of("stdw [r10-16], 1"), -24);
  EXPECT_EQ(slot_of("mov r3, 5\nadd r3, -300\nstdw [r10-16], 1"), -24)
      << "a scalar's add is no frame address";
  EXPECT_EQ(slot_of("mov r4, r10\nadd r4, -40\nstdw [r4+0], 1"), -48);
  EXPECT_EQ(slot_of("mov r4, r10\nmov r5, r4\nsub r5, 32\nstdw [r5-8], 1"), -48) << "copies of copies";
  EXPECT_EQ(slot_of("mov r4, r10\nmov r4, 7\nadd r4, -200\nstdw [r10-8], 1"), -16)
      << "r4 is no copy any more";
}

class TailCallKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto probe = kernel_host_available(); !probe) GTEST_SKIP() << probe.error().message;
    kernel_ = std::move(make_engine(kKernelHostEngine)).value();
    interp_ = std::move(make_engine("interp")).value();
  }
  static vm::Program program(const std::string& text, std::vector<std::pair<uint32_t, uint32_t>> entries) {
    auto p = text::assemble(text);
    EXPECT_TRUE(p.ok()) << p.error().message;
    vm::Program out = p.ok() ? *p : vm::Program{};
    vm::MapDef progs;
    progs.name = "progs";
    progs.type = vm::MapType::ProgArray;
    progs.value_size = 4;
    progs.max_entries = 2;
    progs.prog_entries = std::move(entries);
    out.maps = {progs};
    return out;
  }
  KernelComparison both(const vm::Program& ours_program, const vm::Program& kernel_program, Outcome& ours,
                        Outcome& kernel) {
    EngineInput input;
    input.memory.assign(8, 0);
    ours = interp_->run(ours_program, input);
    kernel = kernel_->run(kernel_program, input);
    return compare_with_kernel(ours, kernel);
  }
  std::unique_ptr<Engine> kernel_;
  std::unique_ptr<Engine> interp_;
};

TEST_F(TailCallKernelTest, AProgramThatTailCallsItselfAgreesWithTheKernelAfter33TailCalls) {
  const vm::Program p = program(kCounter, {{0, 0}});
  Outcome ours, kernel;
  const KernelComparison c = both(p, p, ours, kernel);
  ASSERT_TRUE(kernel.kernel.has_value());
  ASSERT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Accepted) << kernel.kernel->log;
  EXPECT_EQ(kernel.kernel->plain.verdict, kernel::KernelVerdict::Unsupported) << "full-state run only";
  EXPECT_EQ(c.kind, KernelAgreement::Agree) << c.reason;
  EXPECT_EQ(ours.regs[0], 34u) << "the first run and 33 tail calls";
  EXPECT_EQ(kernel.regs[0], 34u);
  EXPECT_EQ(kernel.memory[0], 34);
}

TEST_F(TailCallKernelTest, TheKernelTakesTheTailCallsOurProgramArrayDescribes) {
  // Our program array empty, the kernel's holding the program: the tail
  // calls are what makes the difference, and it is reported.
  const vm::Program with = program(kCounter, {{0, 0}});
  const vm::Program without = program(kCounter, {});
  Outcome ours, kernel;
  const KernelComparison c = both(without, with, ours, kernel);
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch) << c.reason;
  EXPECT_EQ(ours.regs[0], 1u);
  EXPECT_EQ(kernel.regs[0], 34u);
  // An index past the array falls through on both sides.
  const vm::Program past = program(
      "ldxdw r6, [r1+0]\nadd r6, 1\nstxdw [r1+0], r6\nlddw r2, map_fd(0)\nmov r3, 5\ncall 12\n"
      "mov r0, r6\nexit",
      {{0, 0}});
  const KernelComparison e = both(past, past, ours, kernel);
  EXPECT_EQ(e.kind, KernelAgreement::Agree) << e.reason;
  EXPECT_EQ(ours.regs[0], 1u);
  EXPECT_EQ(kernel.regs[0], 1u);
  // An empty slot tried inside the array before each restart: neither our
  // VM nor the host's x86-64 JIT (6.12 on) counts that attempt towards the
  // limit of 33, so the chain is as long as without it and is compared.
  const vm::Program empty_slot = program(
      "mov r8, r1\nldxdw r6, [r1+0]\nadd r6, 1\nstxdw [r1+0], r6\nlddw r2, map_fd(0)\nmov r3, 1\ncall 12\n"
      "mov r1, r8\nlddw r2, map_fd(0)\nmov r3, 0\ncall 12\nmov r0, r6\nexit",
      {{0, 0}});
  const KernelComparison n = both(empty_slot, empty_slot, ours, kernel);
  if (!kernel::kernel_release_at_least(kernel.kernel->release, 6, 12))
    GTEST_SKIP() << kernel.kernel->release << ": a JIT before 6.12 may count the attempts (known bug)";
  EXPECT_EQ(n.kind, KernelAgreement::Agree) << n.reason;
  EXPECT_EQ(ours.regs[0], 34u);
  EXPECT_EQ(kernel.regs[0], 34u);
  EXPECT_EQ(kernel.memory[0], 34);
}

TEST_F(TailCallKernelTest, RegistersOnlyTheFirstRunWroteAreNotComparedAndAnotherContextIsNotComparable) {
  // r7 is written only before the first tail call (memory[0] == 0):
  // our VM carries it into the target, the kernel's verifier calls it
  // undefined there; it is not exported.
  const vm::Program carried = program(
      "ldxdw r6, [r1+0]\njne r6, 0, +1\nmov r7, 77\nadd r6, 1\nstxdw [r1+0], r6\n"
      "lddw r2, map_fd(0)\nmov r3, 0\ncall 12\nmov r0, r6\nexit",
      {{0, 0}});
  Outcome ours, kernel;
  const KernelComparison c = both(carried, carried, ours, kernel);
  EXPECT_EQ(c.kind, KernelAgreement::Agree) << c.reason;
  ASSERT_TRUE(kernel.kernel.has_value());
  EXPECT_FALSE(kernel.kernel->regs_valid & (1u << 7));
  EXPECT_EQ(ours.regs[7], 77u);
  // A tail call with r1 moved: the kernel's wrapper passes its context,
  // our VM the moved r1 -- not comparable, never a mismatch.
  const vm::Program moved = program(
      "ldxdw r6, [r1+0]\nadd r6, 1\nstxdw [r1+0], r6\nmov r9, r1\nadd r9, 8\nmov r1, r9\n"
      "lddw r2, map_fd(0)\nmov r3, 0\ncall 12\nmov r0, r6\nexit",
      {{0, 0}});
  const KernelComparison m = both(moved, moved, ours, kernel);
  EXPECT_EQ(m.kind, KernelAgreement::NotComparable) << m.reason;
  EXPECT_NE(m.reason.find("a tail call passed r1 other than"), std::string::npos) << m.reason;
}

// A program with a program array that never reads r1: its r1 at the exit
// is still the memory both sides gave it (the wrapper's prologue sets it
// although the program does not read it), not the kernel's context.
TEST_F(TailCallKernelTest, AProgramThatNeverReadsR1ExportsTheMemoryInR1) {
  const vm::Program p = program("lddw r0, 0\nexit", {{0, 0}});
  Outcome ours, kernel;
  const KernelComparison c = both(p, p, ours, kernel);
  ASSERT_TRUE(kernel.kernel.has_value());
  ASSERT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Accepted) << kernel.kernel->log;
  EXPECT_TRUE(kernel.kernel->regs_valid & (1u << 1));
  EXPECT_EQ(c.kind, KernelAgreement::Agree) << c.reason;
  EXPECT_EQ(kernel.regs[1], ours.regs[1]);
}

// The entry adds 1 to memory[0] and tail-calls index 1: a target of its
// own at slot 10 that adds 100. Index 0 would restart the entry.
constexpr const char* kEntryThenTarget =
    "ldxdw r6, [r1+0]\nadd r6, 1\nstxdw [r1+0], r6\nlddw r2, map_fd(0)\nmov r3, 1\ncall 12\n"
    "mov r0, 99\nexit\n"
    "ldxdw r7, [r1+0]\nadd r7, 100\nstxdw [r1+0], r7\nmov r0, r7\nexit";
constexpr uint32_t kTargetSlot = 9;

TEST(ProgramPieces, AProgramIsCutAtTheSlotsItsProgramArraysName) {
  const std::vector<RawInsn> p = slots(kEntryThenTarget);
  ASSERT_EQ(p.size(), 14u);
  kernel::KernelMap progs;
  progs.type = kernel::kMapTypeProgArray;
  progs.value_size = 4;
  progs.max_entries = 3;
  progs.initial_values = {1, 0, 0, 0, kTargetSlot + 1, 0, 0, 0, kTargetSlot + 1, 0, 0, 0};
  const std::vector<uint32_t> targets = kernel::tail_call_target_slots(std::vector<kernel::KernelMap>{progs});
  EXPECT_EQ(targets, std::vector<uint32_t>{kTargetSlot}) << "slot 0 is the entry; each target once";
  auto pieces = kernel::cut_into_pieces(p, targets);
  ASSERT_TRUE(pieces.ok()) << pieces.error().message;
  ASSERT_EQ(pieces->size(), 2u);
  EXPECT_EQ((*pieces)[0].start, 0u);
  EXPECT_EQ((*pieces)[0].insns.size(), kTargetSlot);
  EXPECT_EQ((*pieces)[1].start, kTargetSlot);
  EXPECT_EQ((*pieces)[1].insns.size(), 5u);
  EXPECT_EQ((*pieces)[1].insns.data(), p.data() + kTargetSlot);
  auto whole = kernel::cut_into_pieces(p, {});
  ASSERT_TRUE(whole.ok());
  ASSERT_EQ(whole->size(), 1u);
  EXPECT_EQ(whole->front().insns.size(), p.size());
}

TEST(ProgramPieces, APieceThatIsNotAProgramOnItsOwnIsRefusedWithTheReason) {
  const auto refusal = [](const std::string& text, uint32_t target) {
    const std::vector<RawInsn> p = slots(text);
    const std::vector<uint32_t> targets{target};
    auto r = kernel::cut_into_pieces(p, targets);
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  EXPECT_EQ(refusal("mov r0, 1\nexit\nmov r0, 2\nexit", 2), "accepted");
  EXPECT_NE(
      refusal("mov r0, 1\nmov r0, 2\nexit", 1).find("the instruction before it (pc 0) may run on into it"),
      std::string::npos);
  EXPECT_NE(refusal("mov r0, 1\njeq r0, 1, +1\nmov r0, 2\nexit", 2).find("may run on into it"),
            std::string::npos)
      << "a conditional jump falls through when not taken";
  EXPECT_NE(refusal("mov r0, 1\nja +2\nexit\nmov r0, 2\nexit", 3)
                .find("pc 1 leads to slot 4, outside the entry's code [0, 3)"),
            std::string::npos);
  EXPECT_NE(refusal("mov r0, 1\nexit\nmov r0, 2\nja -4\nexit", 2)
                .find("pc 3 leads to slot 0, outside the tail-call target at slot 2's code"),
            std::string::npos);
  EXPECT_NE(refusal("lddw r0, 1\nexit", 1).find("is the second slot of the lddw at pc 0"), std::string::npos);
  EXPECT_NE(refusal("mov r0, 1\nexit", 7).find("past the program's end"), std::string::npos);
}

TEST_F(TailCallKernelTest, ATailCallIntoAnotherSlotRunsThatPieceAsAKernelProgram) {
  const vm::Program p = program(kEntryThenTarget, {{0, 0}, {1, kTargetSlot}});
  Outcome ours, kernel;
  const KernelComparison c = both(p, p, ours, kernel);
  ASSERT_TRUE(kernel.kernel.has_value());
  ASSERT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Accepted) << kernel.kernel->log;
  EXPECT_EQ(c.kind, KernelAgreement::Agree) << c.reason;
  EXPECT_EQ(ours.regs[0], 101u) << "the entry's 1, then the target's 100";
  EXPECT_EQ(kernel.regs[0], 101u);
  EXPECT_EQ(kernel.memory[0], 101);
  EXPECT_TRUE(kernel.kernel->regs_valid & (1u << 7)) << "the target exited, and it writes r7";
  EXPECT_FALSE(kernel.kernel->regs_valid & (1u << 6))
      << "r6 is the entry's: the target's program never wrote it";
  EXPECT_EQ(ours.regs[6], 1u) << "our VM carries r6 into the target";
  // The kernel really runs the target: our VM's array without it is a
  // difference (the entry falls through to r0 = 99).
  const vm::Program without = program(kEntryThenTarget, {{0, 0}});
  const KernelComparison d = both(without, p, ours, kernel);
  EXPECT_EQ(d.kind, KernelAgreement::Mismatch) << d.reason;
  EXPECT_EQ(ours.regs[0], 99u);
  EXPECT_EQ(kernel.regs[0], 101u);
}

TEST_F(TailCallKernelTest, ATargetThatCannotBeAProgramOfItsOwnIsNotRunAndNeverADifference) {
  // The target jumps back into the entry's code.
  const vm::Program p = program("mov r0, 1\nexit\nmov r0, 2\nja -4\nexit", {{0, 2}});
  Outcome ours, kernel;
  const KernelComparison c = both(p, p, ours, kernel);
  ASSERT_TRUE(kernel.kernel.has_value());
  EXPECT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Unsupported);
  EXPECT_NE(kernel.kernel->log.find("the kernel runs each tail-call target as a program of its own"),
            std::string::npos)
      << kernel.kernel->log;
  EXPECT_NE(c.kind, KernelAgreement::Mismatch);
}

// The kernel-friendly generator's tail-call targets (index 1 of its
// program arrays) on the running kernel: every such program is accepted,
// cut and run as two kernel programs, and agrees with our interpreter.
TEST_F(TailCallKernelTest, GeneratedProgramsWithATailCallTargetAreAcceptedAndAgree) {
  std::size_t with_target = 0, taken = 0;
  for (uint64_t seed = 0; seed < 800 && with_target < 40; ++seed) {
    fuzz::ByteSource src(seed);
    const fuzz::GeneratedCase c = fuzz::generate_kernel_friendly(src, {});
    if (c.program.maps.empty() || c.program.maps.back().prog_entries.size() < 2) continue;
    ++with_target;
    const EngineInput input = fuzz::engine_input(c);
    const Outcome ours = interp_->run(c.program, input);
    const Outcome kernel = kernel_->run(c.program, input);
    ASSERT_TRUE(kernel.kernel.has_value()) << "seed " << seed;
    ASSERT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Accepted)
        << "seed " << seed << ": " << kernel.kernel->log;
    const KernelComparison cmp = compare_with_kernel(ours, kernel);
    EXPECT_NE(cmp.kind, KernelAgreement::Mismatch) << "seed " << seed << ": " << cmp.reason;
    vm::Program without = c.program;
    without.maps.back().prog_entries.resize(1);
    const Outcome o = interp_->run(without, input);
    taken += o.regs != ours.regs || o.memory != ours.memory;
  }
  EXPECT_GE(with_target, 20u);
  EXPECT_GT(taken, 0u) << "some programs tail-call their target";
}

}  // namespace
}  // namespace bpfdiff::oracle
