// Tail calls in kernel runs: the full-state wrapper's tail-call stubs (the
// context spilled by the prologue and passed in r1), and, where bpf() works,
// interp against kernel-host on programs that tail-call themselves through
// a program array -- including that the kernel really takes the tail calls
// (a program array our VM leaves empty is a reported difference).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "oracle/engine.hpp"
#include "oracle/kernel/full_state_rewrite.hpp"
#include "oracle/kernel/kernel_executor.hpp"
#include "oracle/kernel/kernel_release.hpp"
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

TEST_F(TailCallKernelTest, ATailCallOfAnotherEntryIsNotRunYet) {
  const vm::Program p = program("mov r0, 1\nexit\nmov r0, 2\nexit", {{0, 2}});
  Outcome ours, kernel;
  const KernelComparison c = both(p, p, ours, kernel);
  ASSERT_TRUE(kernel.kernel.has_value());
  EXPECT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Unsupported);
  EXPECT_NE(kernel.kernel->log.find("only tail calls of the program itself"), std::string::npos)
      << kernel.kernel->log;
  EXPECT_NE(c.kind, KernelAgreement::Mismatch);
}

}  // namespace
}  // namespace bpfdiff::oracle
