#include "oracle/kernel/full_state_rewrite.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

using isa::RawInsn;

constexpr int kRegsFd = 7;
constexpr int kMemFd = 9;

std::vector<RawInsn> assemble(const std::string& text) {
  auto p = text::assemble(text);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? p->slots : std::vector<RawInsn>{};
}

constexpr Instrumentation kAfter{EpiloguePlacement::AfterEntry, PrologueKind::Full};
constexpr Instrumentation kFirst{EpiloguePlacement::First, PrologueKind::Full};
constexpr Instrumentation kMinimal{EpiloguePlacement::First, PrologueKind::Minimal};

Result<RewrittenProgram> rewrite(const std::vector<RawInsn>& program, uint32_t memory_size = 16,
                                 Instrumentation instrumentation = kAfter) {
  RewriteInput in;
  in.program = program;
  in.regs_map_fd = kRegsFd;
  in.memory_map_fd = memory_size > 0 ? kMemFd : -1;
  in.memory_size = memory_size;
  in.instrumentation = instrumentation;
  return rewrite_full_state(in);
}

// The absolute target of the branch, call or lddw func at `pc`.
int64_t target(const std::vector<RawInsn>& insns, uint32_t pc) {
  const RawInsn& i = insns[pc];
  const bool imm = i.opcode == 0x06 || i.opcode == 0x85 || i.opcode == 0x18;
  return int64_t{pc} + (imm ? i.imm : i.off) + 1;
}

RawInsn mov(uint8_t dst, int32_t imm) {
  return {0xb7, dst, 0, 0, imm};
}

TEST(FullStateRewrite, PrologueSetsTheRegistersOurInterpreterStartsWith) {
  auto r = rewrite(assemble("mov r0, 1\nexit"), 16);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& in = r->insns;
  ASSERT_EQ(r->prologue_slots, 11u);
  EXPECT_EQ(r->body_offset(), 11u) << "what reports use to map verifier-log pcs back";
  // r1 = the memory map value, through a BPF_PSEUDO_MAP_VALUE lddw at offset 0.
  EXPECT_EQ(in[0], (RawInsn{0x18, 1, 2, 0, kMemFd}));
  EXPECT_EQ(in[1], (RawInsn{0, 0, 0, 0, 0}));
  EXPECT_EQ(in[2], mov(2, 16));
  std::vector<uint8_t> zeroed;
  for (uint32_t pc = 3; pc < 11; ++pc) {
    EXPECT_EQ(in[pc].opcode, 0xb7);
    EXPECT_EQ(in[pc].imm, 0);
    zeroed.push_back(in[pc].dst);
  }
  EXPECT_EQ(zeroed, (std::vector<uint8_t>{0, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(FullStateRewrite, EmptyMemoryMeansR1AndR2AreZero) {
  auto r = rewrite(assemble("mov r0, 1\nexit"), 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->prologue_slots, 10u);
  EXPECT_EQ(r->insns[0], mov(1, 0));
  EXPECT_EQ(r->insns[1], mov(2, 0));
  for (const RawInsn& i : r->insns)
    EXPECT_FALSE(i.opcode == 0x18 && i.imm == kMemFd) << "no memory map";
}

TEST(FullStateRewrite, EveryExitOfTheEntryJumpsToTheEpilogue) {
  const auto p = assemble("jeq r1, 0, +2\nmov r0, 1\nexit\nmov r0, 2\nexit");
  auto r = rewrite(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entry_end, 5u);
  for (uint32_t pc : {2u, 4u}) {
    const uint32_t at = r->new_pc(pc);
    EXPECT_EQ(r->insns[at].opcode, 0x05) << "exit at " << pc << " is now ja";
    EXPECT_EQ(target(r->insns, at), r->epilogue_pc());
  }
  // The conditional jump inside the entry keeps its offset.
  EXPECT_EQ(r->insns[r->new_pc(0)], p[0]);
  // The only exit left is the epilogue's last instruction.
  uint32_t exits = 0;
  for (const RawInsn& i : r->insns)
    exits += i.opcode == 0x95;
  EXPECT_EQ(exits, 1u);
  EXPECT_EQ(r->insns.back().opcode, 0x95);
}

TEST(FullStateRewrite, EpilogueStoresEveryRegisterThroughOneSpillSlot) {
  auto r = rewrite(assemble("mov r0, 1\nexit"));
  ASSERT_TRUE(r.ok());
  const auto& in = r->insns;
  const uint32_t e = r->epilogue_pc();
  // r0 is spilled to the reserved slot before r0 is reused as the map pointer.
  EXPECT_EQ(in[e], (RawInsn{0x7b, 10, 0, kSpillOffset, 0}));
  EXPECT_EQ(in[e + 1], (RawInsn{0x18, 0, 2, 0, kRegsFd}));
  std::vector<int16_t> stored_offsets(16, -1);
  for (uint32_t pc = e; pc < in.size(); ++pc) {
    if (in[pc].opcode == 0x7b && in[pc].dst == 0)
      stored_offsets[static_cast<std::size_t>(in[pc].off / 8)] = 1;
  }
  for (uint32_t w = 0; w <= kMemoryBaseWord; ++w)
    EXPECT_EQ(stored_offsets[w], 1) << "word " << w;
  // r10 goes to the frame-base word; r0 comes back from the slot for the retval.
  bool r10_stored = false;
  for (uint32_t pc = e; pc < in.size(); ++pc)
    r10_stored |= in[pc] == RawInsn{0x7b, 0, 10, static_cast<int16_t>(kFrameBaseWord * 8), 0};
  EXPECT_TRUE(r10_stored);
  EXPECT_EQ(in[in.size() - 2], (RawInsn{0x79, 0, 10, kSpillOffset, 0}));
  EXPECT_EQ(r->regs_valid, 0x3ff);
}

TEST(FullStateRewrite, SubprogramExitsStayReturnsAndCallsAreFixed) {
  const auto p = assemble(
      "mov r1, 5\n"
      "call local f\n"
      "exit\n"
      "f:\n"
      "mov r0, r1\n"
      "exit\n");
  auto r = rewrite(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entry_end, 3u);
  const auto& in = r->insns;
  // The epilogue sits between the entry (ending with its exit turned ja) and f.
  EXPECT_EQ(r->new_pc(3), r->epilogue_pc() + r->epilogue_slots);
  EXPECT_EQ(target(in, r->new_pc(1)), r->new_pc(3)) << "call lands on f";
  EXPECT_EQ(in[r->new_pc(4)].opcode, 0x95) << "f's exit is a return";
}

TEST(FullStateRewrite, LddwFunctionAddressesAreFixedToo) {
  const auto p = assemble(
      "lddw r2, code(f)\n"
      "callx r2\n"
      "exit\n"
      "f:\n"
      "mov r0, 1\n"
      "exit\n");
  ASSERT_EQ(p[0].src, 4);
  auto r = rewrite(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entry_end, 4u);
  EXPECT_EQ(target(r->insns, r->new_pc(0)), r->new_pc(4));
}

TEST(FullStateRewrite, JumpsCrossingTheEpilogueAreFixedBothWays) {
  // Not valid for the kernel (jumps leave their function) but the rewrite
  // must keep every target: our VM defines these jumps.
  std::vector<RawInsn> p = {
      {0x15, 1, 0, 3, 0},   // 0: jeq r1, 0, +3 -> 4 (in f)
      {0x85, 0, 1, 1, 0},   // 1: call local +1 -> 3
      {0x95, 0, 0, 0, 0},   // 2: exit
      mov(0, 1),            // 3: f
      {0x05, 0, 0, -5, 0},  // 4: ja -5 -> 0 (back into the entry)
  };
  auto r = rewrite(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(target(r->insns, r->new_pc(0)), r->new_pc(4));
  EXPECT_EQ(target(r->insns, r->new_pc(4)), r->new_pc(0));
}

TEST(FullStateRewrite, AnExitTooFarFromTheEpilogueBecomesGotol) {
  std::vector<RawInsn> p = {{0x15, 1, 0, 1, 0}, {0x95, 0, 0, 0, 0}};  // jeq r1, 0, +1; exit
  p.resize(40'000, mov(0, 0));
  p.push_back({0x95, 0, 0, 0, 0});
  auto r = rewrite(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const uint32_t at = r->new_pc(1);
  EXPECT_EQ(r->insns[at].opcode, 0x06) << "gotol";
  EXPECT_EQ(target(r->insns, at), r->epilogue_pc());
  EXPECT_EQ(r->insns[r->new_pc(40'000)].opcode, 0x05) << "the last exit is near: plain ja";
}

std::vector<RawInsn> crossing_program(uint8_t jump_opcode) {
  std::vector<RawInsn> p = {
      {jump_opcode, 0, 0, 32'760, 0},  // 0: -> 32761, in the subprogram
      {0x85, 0, 1, 0, 98},             // 1: call local -> 100
      {0x95, 0, 0, 0, 0},              // 2: exit
  };
  p.resize(32'800, mov(0, 0));
  p[99] = {0x95, 0, 0, 0, 0};  // the entry ends with an exit, so the epilogue may follow it
  p.push_back({0x95, 0, 0, 0, 0});
  return p;
}

TEST(FullStateRewrite, ALongUnconditionalJumpBecomesGotol) {
  const auto p = crossing_program(0x05);
  auto r = rewrite(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->insns[r->new_pc(0)].opcode, 0x06);
  EXPECT_EQ(target(r->insns, r->new_pc(0)), r->new_pc(32'761));
}

TEST(FullStateRewrite, ALongConditionalJumpIsUnsupported) {
  auto r = rewrite(crossing_program(0x15));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("pc 0: the branch offset no longer fits 16 bits"), std::string::npos)
      << r.error().message;
}

TEST(FullStateRewrite, WhatTheRecipeCannotExpressIsUnsupported) {
  EXPECT_EQ(rewrite({}).error().message, "the program is empty");
  auto helper = rewrite(assemble("call 6\nexit"));  // trace_printk: the map helpers pass
  ASSERT_FALSE(helper.ok());
  EXPECT_NE(helper.error().message.find("pc 0: helper calls"), std::string::npos);
  auto map = rewrite({{0x18, 1, 1, 0, 3}, {0, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}});
  ASSERT_FALSE(map.ok());
  EXPECT_NE(map.error().message.find("names map 3; the request carries 0"), std::string::npos)
      << map.error().message;
  auto outside = rewrite({{0x05, 0, 0, 5, 0}, {0x95, 0, 0, 0, 0}});
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().message, "pc 0: target 6 is outside the program");
}

TEST(FullStateRewrite, HelperCallsPassWhenAllowed) {
  RewriteInput in;
  const auto p = assemble("call 7\nexit");
  in.program = p;
  in.regs_map_fd = kRegsFd;
  in.allow_helper_calls = true;
  auto r = rewrite_full_state(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->regs_valid, 0x3c1) << "r1..r5 are clobbered by the call";
}

TEST(FullStateRewrite, KtimeAndPrandomPassEvenWhenHelpersAreNotAllowed) {
  for (const char* text : {"call 5\nexit", "call 7\nexit"}) {
    RewriteInput in;
    const auto p = assemble(text);
    in.program = p;
    in.regs_map_fd = kRegsFd;
    auto r = rewrite_full_state(in);
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().message;
    EXPECT_EQ(r->regs_valid, 0x3c1) << text;
  }
  for (const char* text : {"call 6\nexit", "call 8\nexit", "call 4\nexit"}) {
    RewriteInput in;
    const auto p = assemble(text);
    in.program = p;
    in.regs_map_fd = kRegsFd;
    EXPECT_FALSE(rewrite_full_state(in).ok()) << text << " may act on the host";
  }
}

TEST(FullStateRewrite, EpilogueFirstKeepsAProgramThatFallsOffItsEndFallingOff) {
  // The false alarm this layout exists for: `mul32 r0, 9216` with no exit is
  // invalid, and an epilogue right after it would make it valid.
  const auto p = assemble("mul32 r0, 9216");
  for (const Instrumentation wanted : {kAfter, kFirst, kMinimal}) {
    auto r = rewrite(p, 16, wanted);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->instrumentation.placement, EpiloguePlacement::First) << describe(wanted);
    EXPECT_EQ(r->insns.back(), p.back()) << "the program's last instruction stays the last one";
    EXPECT_EQ(r->new_pc(0), r->body_offset());
  }
}

TEST(FullStateRewrite, EpilogueFirstJumpsOverTheEpilogueAndExitsJumpBack) {
  const auto p = assemble("jeq r1, 0, +2\nmov r0, 1\nexit\nmov r0, 2\nexit");
  auto r = rewrite(p, 16, kFirst);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->insns[r->prologue_slots].opcode, 0x05);
  EXPECT_EQ(target(r->insns, r->prologue_slots), r->body_offset()) << "the prologue goes on to the body";
  EXPECT_EQ(r->epilogue_pc(), r->prologue_slots + 1);
  EXPECT_EQ(r->body_offset(), r->prologue_slots + 1 + r->epilogue_slots);
  for (uint32_t pc : {2u, 4u})
    EXPECT_EQ(target(r->insns, r->new_pc(pc)), r->epilogue_pc()) << pc;
  EXPECT_EQ(r->insns[r->new_pc(0)], p[0]) << "branches inside the body keep their offsets";
  EXPECT_EQ(r->insns[r->epilogue_pc() + r->epilogue_slots - 1].opcode, 0x95);
}

TEST(FullStateRewrite, MinimalPrologueSetsOnlyWhatIsReadBeforeWritten) {
  auto r = rewrite(assemble("mov r0, 1\nexit"), 16, kMinimal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->prologue_slots, 0u);
  EXPECT_EQ(r->regs_valid, 0x001) << "only r0 is defined at the exit";
  r = rewrite(assemble("ldxw r0, [r1+4]\nadd r0, r2\nexit"), 16, kMinimal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->prologue_regs, 0x006);
  EXPECT_EQ(r->insns[0], (RawInsn{0x18, 1, 2, 0, kMemFd}));
  EXPECT_EQ(r->insns[2], mov(2, 16));
  EXPECT_EQ(r->prologue_slots, 3u);
  EXPECT_EQ(r->regs_valid, 0x007);
}

TEST(FullStateRewrite, EverySeedPicksOneOfTheFourWrappers) {
  std::vector<std::string> seen;
  for (uint32_t seed = 0; seed < 8; ++seed) {
    const std::string d = describe(instrumentation_for_seed(seed));
    if (std::find(seen.begin(), seen.end(), d) == seen.end()) seen.push_back(d);
  }
  EXPECT_EQ(seen.size(), kInstrumentationVariants);
}

TEST(FullStateRewrite, KernelOnlyInstructionsAreNotExpressible) {
  auto may_goto = check_expressible(std::vector<RawInsn>{{0xe5, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}}, true);
  ASSERT_FALSE(may_goto.ok());
  EXPECT_NE(may_goto.error().message.find("may_goto"), std::string::npos);
  auto acquire = check_expressible(std::vector<RawInsn>{{0xdb, 0, 10, -8, 0x100}, {0x95, 0, 0, 0, 0}}, true);
  ASSERT_FALSE(acquire.ok());
  EXPECT_NE(acquire.error().message.find("load-acquire"), std::string::npos);
  EXPECT_TRUE(check_expressible(assemble("mov r0, 1\nexit"), false).ok());
}

TEST(RegistersReadBeforeWritten, ExitsReadR0AndCallsReadTheirArguments) {
  const auto read = [](const std::string& text) {
    const auto p = assemble(text);
    return registers_read_before_written(p, static_cast<uint32_t>(p.size()));
  };
  EXPECT_EQ(read("exit"), 0x001);
  EXPECT_EQ(read("mov r0, 0\nexit"), 0x000);
  EXPECT_EQ(read("mov r0, r6\nexit"), 0x040);
  EXPECT_EQ(read("stxdw [r10-8], r3\nmov r0, 0\nexit"), 0x008);
  EXPECT_EQ(read("mov r1, 1\ncall 7\nexit"), 0x000) << "get_prandom_u32 takes no arguments";
  EXPECT_EQ(read("mov r1, 1\ncall 2\nexit"), 0x01c) << "map_update_elem's r2..r4";
  EXPECT_EQ(read("mov r1, 1\ncall 6\nexit"), 0x03c) << "r2..r5 for a helper the rewrite has no prototype of";
  // Read on one path only, written on the other: still read before written.
  EXPECT_EQ(read("jeq r6, 0, +1\nmov r7, 1\nmov r0, r7\nexit"), 0x0c0);
}

TEST(RegistersDefinedAtExits, CallsClobberR1ToR5UntilWrittenAgain) {
  const char* sub = "f:\nmov r0, 0\nexit\n";
  auto defined = [&](const std::string& entry) {
    const auto p = assemble(entry + sub);
    const uint32_t end = static_cast<uint32_t>(p.size()) - 2;
    return registers_defined_at_exits(p, end);
  };
  EXPECT_EQ(defined("mov r0, 1\nexit\n"), 0x3ff);
  EXPECT_EQ(defined("call local f\nexit\n"), 0x3c1);
  EXPECT_EQ(defined("call local f\nmov r1, 1\nldxb r3, [r10-1]\nexit\n"), 0x3cb);
  // One path with the call, one without: only what both define.
  EXPECT_EQ(defined("jeq r6, 0, +2\ncall local f\nmov r2, 1\nexit\n"), 0x3c5);
  // A loop whose back edge brings the clobbering call around.
  EXPECT_EQ(defined("mov r6, 3\nmov r1, 1\ncall local f\nsub r6, 1\njne r6, 0, -4\nexit\n"), 0x3c1);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
