#include "oracle/kernel/verifier_log.hpp"
#include "tests/support/read_text.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace bpfdiff::oracle::kernel {
namespace {

using test_support::read_text;

// The kernel's view of tests/kernel/data/state-check-basic.bin: its 11-slot
// prologue (see oracle/verifier_state_check.hpp), then the program.
std::vector<isa::RawInsn> basic_kernel_insns() {
  std::ifstream f(std::string(BPFDIFF_KERNEL_DATA_DIR) + "/state-check-basic.bin", std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  uint32_t len = 0;
  std::memcpy(&len, bytes.data(), 4);
  std::vector<isa::RawInsn> insns;
  insns.push_back({0x18, 1, 2, 0, 3});
  insns.push_back({0, 0, 0, 0, 0});
  insns.push_back({0xb7, 2, 0, 0, 16});
  for (uint8_t r : {0, 3, 4, 5, 6, 7, 8, 9})
    insns.push_back({0xb7, r, 0, 0, 0});
  for (uint32_t i = 0; i < len / 8; ++i) {
    const char* p = bytes.data() + 4 + 8 * i;
    isa::RawInsn r{};
    r.opcode = static_cast<uint8_t>(p[0]);
    r.dst = static_cast<uint8_t>(p[1]) & 0x0f;
    r.src = static_cast<uint8_t>(static_cast<uint8_t>(p[1]) >> 4);
    std::memcpy(&r.off, p + 2, 2);
    std::memcpy(&r.imm, p + 4, 4);
    insns.push_back(r);
  }
  return insns;
}

TEST(VerifierLogValue, ScalarRangesChainedNamesAndKnownBits) {
  const ValueClaim v =
      parse_value("scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))");
  ASSERT_EQ(v.kind, ValueKind::Scalar);
  EXPECT_EQ(v.var.smin, 0);
  EXPECT_EQ(v.var.umax, 10u);
  EXPECT_EQ(v.var.smax32, 10);
  EXPECT_EQ(v.var.unknown_mask, 0xfu);
  EXPECT_TRUE(v.var.contains(10));
  EXPECT_FALSE(v.var.contains(11));
  EXPECT_FALSE(v.var.contains(~uint64_t{0}));
}

TEST(VerifierLogValue, ConstantsHexAndThirtyTwoBitPatterns) {
  EXPECT_EQ(parse_value("P5").var, ScalarClaim::constant(5));
  EXPECT_EQ(parse_value("-3").var, ScalarClaim::constant(~uint64_t{2}));
  EXPECT_EQ(parse_value("0x8000000000000000").var, ScalarClaim::constant(uint64_t{1} << 63));
  // 6.18 prints negative 32-bit bounds beyond the decimal range as u32 hex.
  const ValueClaim v = parse_value("scalar(smin32=0xfffffffe,smax32=-1)");
  EXPECT_EQ(v.var.smin32, -2);
  EXPECT_EQ(v.var.smax32, -1);
  // 6.1 spells the 32-bit bounds s32_min ... u32_max.
  EXPECT_EQ(parse_value("scalar(u32_max=7)").var.umax32, 7u);
}

TEST(VerifierLogValue, PointersIntoFramesContextAndMapValues) {
  const ValueClaim fp = parse_value("fp-8");
  EXPECT_EQ(fp.kind, ValueKind::Stack);
  EXPECT_EQ(fp.off, -8);
  EXPECT_EQ(fp.frame, -1);
  EXPECT_EQ(fp.var, ScalarClaim::constant(0));
  EXPECT_EQ(parse_value("fp[0]-16").frame, 0);
  EXPECT_EQ(parse_value("ctx()").kind, ValueKind::Ctx);
  EXPECT_EQ(parse_value("ctx(off=0,imm=0)").var, ScalarClaim::constant(0));
  const ValueClaim m = parse_value(
      "map_value(map=bpfdiff_vsc,ks=4,vs=16,off=4,smin=smin32=0,smax=umax=smax32=umax32=8,var_off=(0x0; "
      "0xf))");
  EXPECT_EQ(m.kind, ValueKind::MapValue);
  EXPECT_EQ(m.off, 4);
  EXPECT_EQ(m.var.umax, 8u);
  EXPECT_EQ(m.map_key_size, 4u) << "which map: its key and value sizes";
  EXPECT_EQ(m.map_value_size, 16u);
  const ValueClaim old_style = parse_value("map_value(id=0,off=0,ks=8,vs=24,imm=0)");  // 6.1
  EXPECT_EQ(old_style.kind, ValueKind::MapValue);
  EXPECT_EQ(old_style.map_key_size, 8u);
  EXPECT_EQ(old_style.map_value_size, 24u);
  EXPECT_EQ(old_style.var, ScalarClaim::constant(0));
  EXPECT_EQ(parse_value("trusted_ptr_task_struct()").kind, ValueKind::Other);
  EXPECT_EQ(parse_value("scalar(smin=what)").kind, ValueKind::Other);  // not understood: no claim
}

// A level-2 log captured from this repository's host kernel (6.18) for
// tests/kernel/data/state-check-basic.bin behind the 11-slot prologue.
TEST(VerifierLogParse, RealLogFromTheHostKernel) {
  const std::string text = read_text(std::string(BPFDIFF_KERNEL_DATA_DIR) + "/state-check-basic.log");
  ASSERT_FALSE(text.empty());
  const std::vector<isa::RawInsn> insns = basic_kernel_insns();
  ASSERT_EQ(insns.size(), 28u);
  const VerifierLog log = parse_verifier_log(text, insns);
  EXPECT_TRUE(log.complete);
  for (uint32_t pc : {0u, 11u, 12u, 13u, 14u, 17u, 19u, 21u, 23u, 24u, 25u, 26u, 27u}) {
    EXPECT_TRUE(log.visited[pc]) << pc;
  }
  EXPECT_FALSE(log.visited[1]);  // lddw's second slot
  EXPECT_TRUE(log.pruned_at[21]);
  EXPECT_FALSE(log.pruned_at[17]);

  // Before pc 14 (after `if r2 > 10 goto`): r2 in [0, 10], r6 the map value.
  ASSERT_EQ(log.states[14].size(), 1u);
  const LoggedState& at14 = log.states[14][0];
  ASSERT_TRUE(at14.regs[2]);
  EXPECT_EQ(at14.regs[2]->var.umax, 10u);
  ASSERT_TRUE(at14.regs[6]);
  EXPECT_EQ(at14.regs[6]->kind, ValueKind::MapValue);
  // pc 17 is reached twice: through 14..16 and from 13's branch (r2 >= 11).
  ASSERT_EQ(log.states[17].size(), 2u);
  EXPECT_EQ(log.states[17][1].regs[2]->var.umin, 11u);
  // The spill at 16 is in the state before 17 on the first path.
  ASSERT_TRUE(log.states[17][0].slots.count(-8));
  EXPECT_EQ(log.states[17][0].slots.at(-8).spilled->var.umax, 40u);
  // The callee's state: frame 1, r1 pointing into frame 0.
  ASSERT_FALSE(log.states[26].empty());
  EXPECT_EQ(log.states[26][0].frame, 1);
  EXPECT_EQ(log.states[26][0].regs[1]->frame, 0);
  EXPECT_EQ(log.states[26][0].regs[1]->off, -8);
  // After the call returns, r1..r5 make no claim; r0 does.
  ASSERT_FALSE(log.states[24].empty());
  EXPECT_FALSE(log.states[24][0].regs[1]);
  EXPECT_TRUE(log.states[24][0].regs[0]);
}

TEST(VerifierLogParse, AStoreThroughAPointerForgetsEverySlotAndAHelperCallForgetsR0ToR5) {
  // r1 = r10; *(u64 *)(r10 -8) = 5 (logged), *(u64 *)(r1 -8) = 7 (through r1), call helper.
  const std::vector<isa::RawInsn> insns = {{0xbf, 1, 10, 0, 0}, {0x7a, 10, 0, -8, 5}, {0x7a, 1, 0, -8, 7},
                                           {0x85, 0, 0, 0, 5},  {0xb7, 0, 0, 0, 0},   {0x95, 0, 0, 0, 0}};
  const std::string text =
      "0: R1=ctx() R10=fp0\n"
      "0: (bf) r1 = r10                      ; R1=fp0 R10=fp0\n"
      "1: (7a) *(u64 *)(r10 -8) = 5          ; R10=fp0 fp-8=5\n"
      "2: (7a) *(u64 *)(r1 -8) = 7           ; R1=fp0\n"
      "3: (85) call bpf_ktime_get_ns#5       ; R0=scalar()\n"
      "4: (b7) r0 = 0                        ; R0=0\n"
      "5: (95) exit\n"
      "processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
  const VerifierLog log = parse_verifier_log(text, insns);
  ASSERT_EQ(log.states[2].size(), 1u);
  EXPECT_TRUE(log.states[2][0].slots.count(-8));
  ASSERT_EQ(log.states[3].size(), 1u);
  EXPECT_FALSE(log.states[3][0].slots.count(-8));
  ASSERT_EQ(log.states[4].size(), 1u);
  EXPECT_FALSE(log.states[4][0].regs[1]);
  EXPECT_FALSE(log.states[4][0].regs[0] && log.states[4][0].regs[0]->var.unknown_mask == 0);
  EXPECT_TRUE(log.states[4][0].regs[10]);
}

// 6.1's forms: liveness marks on names, 6.1's field names, and a branch's
// refinement printed on a line of its own ("1: R2_w=...") when something
// was logged in between: the state after the branch, not before it.
TEST(VerifierLogParse, SixOneFormsAndARefinementOnItsOwnLineIsNotAClaimBeforeTheBranch) {
  const std::vector<isa::RawInsn> insns = {
      {0x79, 2, 1, 0, 0}, {0x25, 2, 0, 1, 10}, {0xb7, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}};
  const std::string text =
      "0: R1=ctx(off=0,imm=0) R10=fp0\n"
      "0: (79) r2 = *(u64 *)(r1 +0)          ; R1=ctx(off=0,imm=0) R2_w=scalar()\n"
      "1: (25) if r2 > 0xa goto pc+1\n"
      "mark_precise: frame0: last_idx 1 first_idx 0\n"
      "1: R2_w=scalar(umax=10,var_off=(0x0; 0xf),u32_max=-1)\n"
      "2: (b7) r0 = 0                        ; R0_w=0\n"
      "3: (95) exit\n"
      "processed 4 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
  const VerifierLog log = parse_verifier_log(text, insns);
  ASSERT_EQ(log.states[1].size(), 1u);
  ASSERT_TRUE(log.states[1][0].regs[2]);
  EXPECT_TRUE(log.states[1][0].regs[2]->var.knows_nothing());
  ASSERT_EQ(log.states[2].size(), 1u);
  EXPECT_EQ(log.states[2][0].regs[2]->var.umax, 10u);
  EXPECT_EQ(log.states[2][0].regs[2]->var.umax32, UINT32_MAX);
  EXPECT_EQ(log.states[2][0].regs[1]->kind, ValueKind::Ctx);
  EXPECT_TRUE(log.complete);
}

TEST(VerifierLogValue, APointerWithANonZeroImmIsNoClaim) {
  // 6.1 prints imm in hex without 0x: "imm=10" is 16 there, 10 later.
  EXPECT_EQ(parse_value("map_value(off=0,ks=4,vs=16,imm=10)").kind, ValueKind::Other);
  EXPECT_EQ(parse_value("map_value(off=0,ks=4,vs=16,imm=0)").kind, ValueKind::MapValue);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
