// Conditional jumps (JMP and JMP32, register and immediate), ja and gotol.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/vm/program_builder.hpp"

namespace bpfdiff::test {
namespace {

struct JumpRow {
  Form imm_form;
  Form reg_form;
  uint64_t a;
  uint64_t b;
  bool taken;
};

// clang-format off
const JumpRow kRows[] = {
    {Form::jeq_imm, Form::jeq_reg, 5, 5, true},
    {Form::jeq_imm, Form::jeq_reg, 5, 6, false},
    {Form::jeq_imm, Form::jeq_reg, kAll, kAll, true},          // imm -1 sign-extends
    {Form::jeq_imm, Form::jeq_reg, 0xffffffff, kAll, false},   // ... so it is not 0xffffffff
    {Form::jeq_imm, Form::jeq_reg, 0x100000005, 5, false},
    {Form::jne_imm, Form::jne_reg, 5, 5, false},
    {Form::jne_imm, Form::jne_reg, 5, 6, true},
    {Form::jne_imm, Form::jne_reg, 0x100000005, 5, true},
    {Form::jgt_imm, Form::jgt_reg, 6, 5, true},
    {Form::jgt_imm, Form::jgt_reg, 5, 5, false},
    {Form::jgt_imm, Form::jgt_reg, 4, 5, false},
    {Form::jgt_imm, Form::jgt_reg, kAll, 1, true},             // unsigned
    {Form::jgt_imm, Form::jgt_reg, 1, kAll, false},
    {Form::jgt_imm, Form::jgt_reg, kMin64, kMax64, true},
    {Form::jge_imm, Form::jge_reg, 5, 5, true},
    {Form::jge_imm, Form::jge_reg, 4, 5, false},
    {Form::jge_imm, Form::jge_reg, 6, 5, true},
    {Form::jge_imm, Form::jge_reg, 0xffffffff80000000, 0xffffffff80000000, true},
    {Form::jge_imm, Form::jge_reg, 0x80000000, 0xffffffff80000000, false},
    {Form::jlt_imm, Form::jlt_reg, 4, 5, true},
    {Form::jlt_imm, Form::jlt_reg, 5, 5, false},
    {Form::jlt_imm, Form::jlt_reg, 1, kAll, true},
    {Form::jlt_imm, Form::jlt_reg, kAll, 1, false},
    {Form::jlt_imm, Form::jlt_reg, kMax64, kMin64, true},
    {Form::jle_imm, Form::jle_reg, 5, 5, true},
    {Form::jle_imm, Form::jle_reg, 6, 5, false},
    {Form::jle_imm, Form::jle_reg, 4, 5, true},
    {Form::jle_imm, Form::jle_reg, 0, 0, true},
    {Form::jsgt_imm, Form::jsgt_reg, 1, kAll, true},           // signed: 1 > -1
    {Form::jsgt_imm, Form::jsgt_reg, kAll, 1, false},
    {Form::jsgt_imm, Form::jsgt_reg, 5, 5, false},
    {Form::jsgt_imm, Form::jsgt_reg, kMax64, kMin64, true},
    {Form::jsgt_imm, Form::jsgt_reg, kMin64, kMax64, false},
    {Form::jsgt_imm, Form::jsgt_reg, 0xffffffff, kAll, true},
    {Form::jsge_imm, Form::jsge_reg, 5, 5, true},
    {Form::jsge_imm, Form::jsge_reg, neg(2), neg(1), false},
    {Form::jsge_imm, Form::jsge_reg, neg(1), neg(2), true},
    {Form::jsge_imm, Form::jsge_reg, kMin64, kMin64, true},
    {Form::jslt_imm, Form::jslt_reg, kAll, 1, true},
    {Form::jslt_imm, Form::jslt_reg, 1, kAll, false},
    {Form::jslt_imm, Form::jslt_reg, kMin64, kMax64, true},
    {Form::jslt_imm, Form::jslt_reg, 5, 5, false},
    {Form::jslt_imm, Form::jslt_reg, neg(2), neg(1), true},
    {Form::jsle_imm, Form::jsle_reg, kAll, kAll, true},
    {Form::jsle_imm, Form::jsle_reg, 0, kAll, false},
    {Form::jsle_imm, Form::jsle_reg, kMin64, 0, true},
    {Form::jsle_imm, Form::jsle_reg, 6, 5, false},
    {Form::jset_imm, Form::jset_reg, 0b1010, 0b0010, true},
    {Form::jset_imm, Form::jset_reg, 0b1010, 0b0101, false},
    {Form::jset_imm, Form::jset_reg, kMin64, kMin64, true},
    {Form::jset_imm, Form::jset_reg, 0x100000000, 0xffffffff, false},
    {Form::jset_imm, Form::jset_reg, 0x100000000, kAll, true},
    // JMP32 compares the low halves only.
    {Form::jeq32_imm, Form::jeq32_reg, 0x100000005, 5, true},
    {Form::jeq32_imm, Form::jeq32_reg, 5, 0x100000005, true},
    {Form::jeq32_imm, Form::jeq32_reg, 0xffffffff, kAll, true},
    {Form::jeq32_imm, Form::jeq32_reg, 5, 6, false},
    {Form::jne32_imm, Form::jne32_reg, 0x100000005, 5, false},
    {Form::jne32_imm, Form::jne32_reg, 5, 6, true},
    {Form::jgt32_imm, Form::jgt32_reg, 0x100000000, 1, false},
    {Form::jgt32_imm, Form::jgt32_reg, 0xffffffff, 1, true},
    {Form::jgt32_imm, Form::jgt32_reg, 6, 5, true},
    {Form::jgt32_imm, Form::jgt32_reg, 5, 5, false},
    {Form::jge32_imm, Form::jge32_reg, 5, 5, true},
    {Form::jge32_imm, Form::jge32_reg, 0x100000004, 5, false},
    {Form::jge32_imm, Form::jge32_reg, 0xffffffff, 0, true},
    {Form::jlt32_imm, Form::jlt32_reg, 1, 0xffffffff, true},
    {Form::jlt32_imm, Form::jlt32_reg, 0xffffffff00000001, 2, true},
    {Form::jlt32_imm, Form::jlt32_reg, 5, 5, false},
    {Form::jle32_imm, Form::jle32_reg, 5, 5, true},
    {Form::jle32_imm, Form::jle32_reg, 0x500000006, 5, false},
    {Form::jle32_imm, Form::jle32_reg, 0, 0, true},
    {Form::jsgt32_imm, Form::jsgt32_reg, 1, 0xffffffff, true},
    {Form::jsgt32_imm, Form::jsgt32_reg, 0xffffffff, 1, false},
    {Form::jsgt32_imm, Form::jsgt32_reg, 0x7fffffff, 0x80000000, true},
    {Form::jsgt32_imm, Form::jsgt32_reg, 0x80000000, 0, false},  // positive as 64-bit, negative as 32
    {Form::jsge32_imm, Form::jsge32_reg, 0x80000000, 0x80000000, true},
    {Form::jsge32_imm, Form::jsge32_reg, 0xfffffffe, 0xffffffff, false},
    {Form::jsge32_imm, Form::jsge32_reg, 5, 5, true},
    {Form::jslt32_imm, Form::jslt32_reg, 0x80000000, 0, true},
    {Form::jslt32_imm, Form::jslt32_reg, 0, 0x80000000, false},
    {Form::jslt32_imm, Form::jslt32_reg, 5, 5, false},
    {Form::jsle32_imm, Form::jsle32_reg, 0xffffffff, 0xffffffff, true},
    {Form::jsle32_imm, Form::jsle32_reg, 0, 0xffffffff, false},
    {Form::jsle32_imm, Form::jsle32_reg, 0x1ffffffff, 0, true},
    {Form::jset32_imm, Form::jset32_reg, 0xff00000000, 0xff00000000, false},
    {Form::jset32_imm, Form::jset32_reg, 0x100000001, 1, true},
    {Form::jset32_imm, Form::jset32_reg, 0b1010, 0b0101, false},
};
// clang-format on

struct JumpCase {
  Form form;
  bool imm;
  uint64_t a;
  uint64_t b;
  bool taken;
  std::string name;
};

std::vector<JumpCase> all_cases() {
  std::vector<JumpCase> out;
  for (const JumpRow& r : kRows) {
    const std::string suffix = "_" + std::to_string(out.size());
    out.push_back({r.reg_form, false, r.a, r.b, r.taken, form_name(r.reg_form) + suffix});
    const bool w32 = isa::info(r.imm_form).sem.width == isa::Width::W32;
    const auto imm = static_cast<int32_t>(static_cast<uint32_t>(r.b));
    if (w32 || static_cast<uint64_t>(static_cast<int64_t>(imm)) == r.b) {
      out.push_back({r.imm_form, true, r.a, r.b, r.taken, form_name(r.imm_form) + suffix});
    }
  }
  return out;
}

class Jump : public ::testing::TestWithParam<JumpCase> {};

TEST_P(Jump, TakenExactlyWhenTheConditionHolds) {
  const JumpCase& c = GetParam();
  // r0 = 1; if (cond) goto out; r0 = 0; out: exit
  ProgramBuilder b;
  b.lddw(1, c.a).lddw(2, c.b).mov(0, 1);
  const uint32_t out = b.pc() + 2;
  if (c.imm) {
    b.jump(c.form, 1, 0, static_cast<int32_t>(static_cast<uint32_t>(c.b)), out);
  } else {
    b.jump(c.form, 1, 2, 0, out);
  }
  b.mov(0, 0).exit();
  EXPECT_EQ(run_r0(b), c.taken ? 1u : 0u) << std::hex << "a 0x" << c.a << " b 0x" << c.b;
}

INSTANTIATE_TEST_SUITE_P(Rows, Jump, ::testing::ValuesIn(all_cases()),
                         [](const auto& p) { return p.param.name; });

TEST(JumpCoverage, EveryConditionalFormHasTakenAndNotTakenRows) {
  std::vector<int> taken(isa::kNumForms, 0), not_taken(isa::kNumForms, 0);
  for (const JumpCase& c : all_cases())
    (c.taken ? taken : not_taken)[static_cast<std::size_t>(c.form)]++;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    if (fi.sem.family != isa::Family::Jump || fi.sem.cond == isa::JmpCond::Always) continue;
    EXPECT_GT(taken[static_cast<std::size_t>(fi.form)], 0) << fi.name;
    EXPECT_GT(not_taken[static_cast<std::size_t>(fi.form)], 0) << fi.name;
  }
}

TEST(Jump, JaSkipsForward) {
  ProgramBuilder b;
  b.mov(0, 1).op(Form::ja, 0, 0, 1).mov(0, 2).exit();
  EXPECT_EQ(run_r0(b), 1u);
}

// r0 = 0; loop: r0 += 1; if r0 == 3 goto end; goto loop; end: exit
ProgramBuilder count_to_three(Form back) {
  ProgramBuilder b;
  b.mov(0, 0).op(Form::add_imm, 0, 0, 0, 1).jump(Form::jeq_imm, 0, 0, 3, 4);
  if (back == Form::ja) {
    b.op(Form::ja, 0, 0, -3);
  } else {
    b.op(Form::gotol, 0, 0, 0, -3);
  }
  return b.exit();
}

TEST(Jump, JaLoopsBackward) {
  const vm::RunResult r = run(count_to_three(Form::ja));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.r0(), 3u);
  EXPECT_EQ(r.instructions, 1u + 3 * 2 + 2 + 1);  // mov, 2x(add, jeq, ja), add, jeq, exit
}

TEST(Jump, GotolLoopsBackward) {
  EXPECT_EQ(run_r0(count_to_three(Form::gotol)), 3u);
}

TEST(Jump, GotolSkipsForward) {
  ProgramBuilder b;
  b.mov(0, 1).op(Form::gotol, 0, 0, 0, 1).mov(0, 2).exit();
  EXPECT_EQ(run_r0(b), 1u);
}

// gotol carries its offset in the 32-bit imm: it reaches past what ja's
// 16-bit off can express.
TEST(Jump, GotolReachesBeyondTheInt16Range) {
  constexpr int32_t kGap = 40000;
  ProgramBuilder b;
  b.mov(0, 7).op(Form::gotol, 0, 0, 0, kGap);
  for (int32_t i = 0; i < kGap; ++i)
    b.mov(0, 0);
  b.exit();
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 7u);
  EXPECT_EQ(r.instructions, 3u);
}

TEST(Jump, GotolBackwardBeyondTheInt16Range) {
  constexpr int32_t kGap = 40000;
  // 0: gotol to the last slot; 1: mov r0, 9; 2: exit; filler; last: gotol back to 1
  ProgramBuilder b;
  b.op(Form::gotol, 0, 0, 0, kGap + 2).mov(0, 9).exit();
  for (int32_t i = 0; i < kGap; ++i)
    b.mov(0, 0);
  b.op(Form::gotol, 0, 0, 0, b.rel(1));
  const vm::RunResult r = run(b);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 9u);
  EXPECT_EQ(r.instructions, 4u);  // gotol, gotol, mov, exit
}

TEST(Jump, JumpToSelfWithFalseConditionFallsThrough) {
  ProgramBuilder b;
  b.mov(0, 4).op(Form::jeq_imm, 0, 0, -1, 5).exit();
  EXPECT_EQ(run_r0(b), 4u);
}

}  // namespace
}  // namespace bpfdiff::test
