// The model against values computed by hand from RFC 9669, at the boundaries
// where Z3's conventions and BPF's differ (division and modulo by zero, shift
// counts at and past the width, INT_MIN / -1, sign bits, 32-bit truncation and
// zero-extension) and at the equality and off-by-one edges of every
// comparison. Every covered form has at least one row here.
#include "oracle/smt/bpf_model.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "oracle/smt/model_eval.hpp"

namespace bpfdiff::oracle::smt {
namespace {

using isa::Form;

constexpr uint64_t kOnes = ~uint64_t{0};
constexpr uint64_t kMin64 = uint64_t{1} << 63;
constexpr uint64_t kMax64 = kMin64 - 1;

// An immediate as the forms read it: sign-extended to 64 bits.
constexpr uint64_t imm(int32_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(v));
}
constexpr uint64_t neg(uint64_t v) {
  return uint64_t{0} - v;
}

struct AluCase {
  Form form;
  uint64_t dst;
  uint64_t src;
  uint64_t expected;
};

const std::vector<AluCase>& alu_cases() {
  static const std::vector<AluCase> cases = {
      // ALU64 arithmetic wraps modulo 2^64.
      {Form::add_reg, kOnes, 1, 0},
      {Form::add_imm, 5, imm(-1), 4},
      {Form::sub_reg, 0, 1, kOnes},
      {Form::sub_imm, kMin64, imm(1), kMax64},
      {Form::mul_reg, uint64_t{1} << 32, uint64_t{1} << 32, 0},
      {Form::mul_imm, 3, imm(-2), neg(6)},
      // Unsigned division: by zero gives 0 (Z3's bvudiv would give all ones);
      // a negative imm is sign-extended, then read unsigned.
      {Form::div_reg, 7, 0, 0},
      {Form::div_reg, 7, 2, 3},
      {Form::div_imm, kOnes, imm(-1), 1},
      {Form::div_imm, kOnes, imm(0), 0},
      // Signed division truncates toward zero; INT64_MIN / -1 is INT64_MIN.
      {Form::sdiv_reg, kMin64, kOnes, kMin64},
      {Form::sdiv_reg, neg(7), 2, neg(3)},
      {Form::sdiv_reg, 7, neg(2), neg(3)},
      {Form::sdiv_imm, neg(7), imm(0), 0},
      {Form::sdiv_imm, kMin64, imm(-1), kMin64},
      // Modulo by zero leaves dst.
      {Form::mod_reg, 7, 0, 7},
      {Form::mod_reg, 7, 3, 1},
      {Form::mod_imm, kOnes, imm(-2), 1},  // 2^64-1 mod 2^64-2
      // Signed modulo has the dividend's sign (bvsrem, not bvsmod).
      {Form::smod_reg, neg(7), 2, neg(1)},
      {Form::smod_reg, 7, neg(2), 1},
      {Form::smod_reg, kMin64, kOnes, 0},
      {Form::smod_imm, neg(7), imm(0), neg(7)},
      {Form::smod_imm, kMin64, imm(-1), 0},
      {Form::or_reg, 0xf0, 0x0f, 0xff},
      {Form::or_imm, 0, imm(-1), kOnes},
      {Form::and_reg, 0xff00ff, 0x0ff0f0, 0x0f00f0},
      {Form::and_imm, kOnes, imm(0x7fffffff), 0x7fffffff},
      {Form::xor_reg, kOnes, 1, kOnes - 1},
      {Form::xor_imm, 0, imm(INT32_MIN), 0xffffffff80000000},
      // Shift counts are masked to 6 bits (Z3 would give 0 at 64 and above).
      {Form::lsh_reg, 1, 63, kMin64},
      {Form::lsh_reg, 1, 64, 1},
      {Form::lsh_reg, 1, 65, 2},
      {Form::lsh_imm, 3, imm(-1), kMin64},  // count -1 & 63 = 63
      {Form::rsh_reg, kMin64, 63, 1},
      {Form::rsh_reg, kMin64, 64, kMin64},
      {Form::rsh_imm, kOnes, imm(32), 0xffffffff},
      {Form::arsh_reg, kMin64, 63, kOnes},
      {Form::arsh_reg, kMin64, 64, kMin64},
      {Form::arsh_reg, uint64_t{1} << 62, 1, uint64_t{1} << 61},
      {Form::arsh_imm, neg(8), imm(2), neg(2)},
      {Form::neg, 1, 0, kOnes},
      {Form::neg, kMin64, 0, kMin64},
      {Form::neg, 0, 12345, 0},
      {Form::mov_reg, 1, 0x1122334455667788, 0x1122334455667788},
      {Form::mov_imm, 1, imm(-1), kOnes},
      {Form::movsx8, 0, 0x80, 0xffffffffffffff80},
      {Form::movsx8, 0, 0x12347f, 0x7f},
      {Form::movsx16, 0, 0x8000, 0xffffffffffff8000},
      {Form::movsx16, 0, 0xffff7fff, 0x7fff},
      {Form::movsx32, 0, 0x80000000, 0xffffffff80000000},
      {Form::movsx32, 0, 0x17fffffff, 0x7fffffff},
      // ALU32: low halves only, result zero-extended.
      {Form::add32_reg, 0xffffffff, 1, 0},
      {Form::add32_reg, 0x1234567800000005, 0xff00000000000003, 8},
      {Form::add32_imm, kOnes, imm(1), 0},
      {Form::sub32_reg, 0, 1, 0xffffffff},
      {Form::sub32_imm, 0xffffffff00000005, imm(3), 2},
      {Form::mul32_reg, 0x10000, 0x10000, 0},
      {Form::mul32_imm, 3, imm(-2), 0xfffffffa},
      {Form::div32_reg, 0x100000007, 0x100000000, 0},  // low half of the divisor is 0
      {Form::div32_reg, kOnes, 2, 0x7fffffff},
      {Form::div32_imm, 0xffffffff, imm(-1), 1},
      {Form::sdiv32_reg, 0x80000000, 0xffffffff, 0x80000000},  // INT32_MIN / -1
      {Form::sdiv32_reg, 0xfffffff9, 2, 0xfffffffd},           // -7 / 2 = -3
      {Form::sdiv32_imm, 0x80000000, imm(-1), 0x80000000},
      {Form::sdiv32_imm, 5, imm(0), 0},
      // Modulo by zero keeps the low half and clears the high half.
      {Form::mod32_reg, 0xffffffff00000005, 0, 5},
      {Form::mod32_reg, 7, 0x100000003, 1},
      {Form::mod32_imm, 0xffffffff00000005, imm(0), 5},
      {Form::smod32_reg, 0x80000000, 0xffffffff, 0},  // INT32_MIN % -1
      {Form::smod32_reg, 0xfffffff9, 2, 0xffffffff},  // -7 % 2 = -1
      {Form::smod32_reg, 0xabcdef01fffffff9, 0, 0xfffffff9},
      {Form::smod32_imm, 7, imm(-2), 1},
      {Form::or32_reg, 0xff00000000, 1, 1},
      {Form::or32_imm, 0, imm(-1), 0xffffffff},
      {Form::and32_reg, kOnes, kOnes, 0xffffffff},
      {Form::and32_imm, 0xf0f0f0f0f0, imm(0xff), 0xf0},
      {Form::xor32_reg, kOnes, 0, 0xffffffff},
      {Form::xor32_imm, 0, imm(INT32_MIN), 0x80000000},
      // 32-bit shift counts are masked to 5 bits.
      {Form::lsh32_reg, 1, 31, 0x80000000},
      {Form::lsh32_reg, 1, 32, 1},
      {Form::lsh32_reg, 1, 33, 2},
      {Form::lsh32_imm, 0x80000001, imm(1), 2},
      {Form::rsh32_reg, 0xffffffff80000000, 31, 1},
      {Form::rsh32_reg, 0x80000000, 32, 0x80000000},
      {Form::rsh32_imm, kOnes, imm(4), 0x0fffffff},
      {Form::arsh32_reg, 0x80000000, 31, 0xffffffff},
      {Form::arsh32_reg, 0x80000000, 32, 0x80000000},
      {Form::arsh32_imm, 0x00000000fffffff8, imm(1), 0xfffffffc},
      {Form::arsh32_imm, 0xffffffff7fffffff, imm(31), 0},
      {Form::neg32, 1, 0, 0xffffffff},
      {Form::neg32, 0x100000000, 0, 0},
      {Form::neg32, 0x80000000, 0, 0x80000000},
      {Form::mov32_reg, 0, kOnes, 0xffffffff},
      {Form::mov32_imm, 7, imm(-1), 0xffffffff},
      {Form::movsx832, 0, 0x80, 0xffffff80},
      {Form::movsx832, 0, 0xffffff7f, 0x7f},
      {Form::movsx1632, 0, 0x8000, 0xffff8000},
      {Form::movsx1632, 0, 0x12347fff, 0x7fff},
      // Byte order on a little-endian host: le truncates, be and bswap swap.
      {Form::le16, 0x1122334455667788, 0, 0x7788},
      {Form::le32, 0x1122334455667788, 0, 0x55667788},
      {Form::le64, 0x1122334455667788, 0, 0x1122334455667788},
      {Form::be16, 0x1122334455667788, 0, 0x8877},
      {Form::be32, 0x1122334455667788, 0, 0x88776655},
      {Form::be64, 0x1122334455667788, 0, 0x8877665544332211},
      {Form::bswap16, 0x1122334455667788, 0, 0x8877},
      {Form::bswap32, 0x1122334455667788, 0, 0x88776655},
      {Form::bswap64, 0x1122334455667788, 0, 0x8877665544332211},
      {Form::bswap16, 0xff01, 0, 0x01ff},
  };
  return cases;
}

struct JumpCase {
  Form form;
  uint64_t dst;
  uint64_t src;
  bool taken;
};

const std::vector<JumpCase>& jump_cases() {
  static const std::vector<JumpCase> cases = {
      {Form::ja, 0, 0, true},
      {Form::gotol, 1, 2, true},
      {Form::jeq_reg, 5, 5, true},
      {Form::jeq_reg, 0x100000005, 5, false},  // 64-bit compares the high half too
      {Form::jeq_imm, kOnes, imm(-1), true},
      {Form::jne_reg, 5, 5, false},
      {Form::jne_imm, 0x100000000, imm(0), true},
      // Unsigned order: all ones is the largest value. Equality is the edge
      // between > and >=.
      {Form::jgt_reg, kOnes, 1, true},
      {Form::jgt_reg, 7, 7, false},
      {Form::jgt_imm, 0, imm(-1), false},
      {Form::jge_reg, 7, 7, true},
      {Form::jge_reg, 6, 7, false},
      {Form::jge_imm, kOnes, imm(-1), true},
      {Form::jlt_reg, 0, kOnes, true},
      {Form::jlt_reg, 7, 7, false},
      {Form::jlt_imm, 0xfffffffe, imm(-1), true},  // imm -1 is 2^64-1 unsigned
      {Form::jle_reg, 7, 7, true},
      {Form::jle_reg, 8, 7, false},
      {Form::jle_imm, kOnes, imm(-2), false},
      {Form::jset_reg, 0x10, 0x11, true},
      {Form::jset_reg, 0x10, 0x01, false},
      {Form::jset_imm, kMin64, imm(INT32_MIN), true},  // sign-extended imm reaches bit 63
      // Signed order: INT64_MIN is the smallest value.
      {Form::jsgt_reg, 0, kOnes, true},
      {Form::jsgt_reg, kMax64, kMin64, true},
      {Form::jsgt_reg, 3, 3, false},
      {Form::jsgt_imm, kOnes, imm(0), false},
      {Form::jsge_reg, kMin64, kMax64, false},
      {Form::jsge_reg, kOnes, kOnes, true},
      {Form::jsge_imm, 0, imm(-1), true},
      {Form::jslt_reg, 0, kOnes, false},
      {Form::jslt_reg, kMin64, 0, true},
      {Form::jslt_imm, 5, imm(5), false},
      {Form::jsle_reg, kOnes, 0, true},
      {Form::jsle_reg, 1, 0, false},
      {Form::jsle_imm, kMin64, imm(INT32_MIN), true},
      // JMP32 compares the low halves only.
      {Form::jeq32_reg, 0x100000005, 5, true},
      {Form::jeq32_imm, 0xffffffff, imm(-1), true},
      {Form::jne32_reg, 0xff00000000, 0, false},
      {Form::jne32_imm, 1, imm(0), true},
      {Form::jgt32_reg, 0x100000000, 0xffffffff, false},
      {Form::jgt32_reg, 0xffffffff, 0xfffffffe, true},
      {Form::jgt32_imm, 0x80000000, imm(0x7fffffff), true},
      {Form::jge32_reg, 0x200000003, 3, true},
      {Form::jge32_imm, 2, imm(3), false},
      {Form::jlt32_reg, 0xffffffff00000000, 1, true},
      {Form::jlt32_imm, 0xffffffff, imm(-1), false},
      {Form::jle32_reg, 0xffffffff, 0xffffffff, true},
      {Form::jle32_imm, 0x100000000, imm(0), true},
      {Form::jset32_reg, 0x100000000, 0x100000000, false},
      {Form::jset32_imm, 0x80000000, imm(INT32_MIN), true},
      {Form::jsgt32_reg, 0x7fffffff, 0x80000000, true},
      {Form::jsgt32_imm, 0xffffffff, imm(0), false},
      {Form::jsge32_reg, 0x80000000, 0x80000000, true},
      {Form::jsge32_imm, 0xfffffffe, imm(-1), false},
      {Form::jslt32_reg, 0x80000000, 0, true},
      {Form::jslt32_imm, 0x1ffffffff, imm(0), true},  // low half is -1
      {Form::jsle32_reg, 0, 0xffffffff, false},
      {Form::jsle32_imm, 0x7fffffff, imm(0x7fffffff), true},
  };
  return cases;
}

TEST(BpfModel, AluAndByteOrderFormsGiveHandComputedValues) {
  ConcreteModel model;
  for (const AluCase& c : alu_cases()) {
    const auto got = model.dst_result(c.form, c.dst, c.src);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, c.expected) << isa::info(c.form).name << " dst=0x" << std::hex << c.dst << " src=0x"
                                << c.src;
  }
}

TEST(BpfModel, JumpConditionsGiveHandComputedDecisions) {
  ConcreteModel model;
  for (const JumpCase& c : jump_cases()) {
    const auto got = model.branch_taken(c.form, c.dst, c.src);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, c.taken) << isa::info(c.form).name << " dst=0x" << std::hex << c.dst << " src=0x"
                             << c.src;
  }
}

TEST(BpfModel, EveryCoveredFormHasHandComputedCases) {
  std::set<Form> tested;
  for (const AluCase& c : alu_cases())
    tested.insert(c.form);
  for (const JumpCase& c : jump_cases())
    tested.insert(c.form);
  for (Form f : covered_forms())
    EXPECT_TRUE(tested.count(f)) << isa::info(f).name << " has no case";
}

TEST(BpfModel, CoversExactlyTheAluEndianAndJumpRowsOfTheTable) {
  std::size_t expected = 0;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    const bool pure = fi.sem.family == isa::Family::Alu || fi.sem.family == isa::Family::Endian ||
                      fi.sem.family == isa::Family::Jump;
    EXPECT_EQ(covers(fi.form), pure) << fi.name;
    expected += pure ? 1 : 0;
  }
  EXPECT_EQ(covered_forms().size(), expected);
  // 32 ALU64 + 31 ALU32 + 9 byte-order + 2 unconditional + 44 conditional jumps.
  EXPECT_EQ(expected, 118u);
}

TEST(BpfModel, ImmediateOperandIsSignExtended) {
  z3::context ctx;
  EXPECT_EQ(imm_operand(ctx, -1).simplify().as_uint64(), kOnes);
  EXPECT_EQ(imm_operand(ctx, INT32_MIN).simplify().as_uint64(), 0xffffffff80000000);
  EXPECT_EQ(imm_operand(ctx, INT32_MAX).simplify().as_uint64(), 0x7fffffffu);
}

TEST(BpfModel, FormOfTheWrongFamilyIsAnErrorNamingIt) {
  z3::context ctx;
  const z3::expr x = ctx.bv_const("x", 64);
  auto r = dst_result(ctx, Form::exit, x, x);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "smt model: exit (family exit) is not an alu or endian form");
  auto j = branch_taken(ctx, Form::add_reg, x, x);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.error().message.find("add_reg"), std::string::npos);
  auto a = alu_result(ctx, Form::le16, x, x);
  ASSERT_FALSE(a.ok());
}

TEST(BpfModel, OperandsMustBe64BitVectors) {
  z3::context ctx;
  const z3::expr x32 = ctx.bv_const("x", 32);
  const z3::expr x64 = ctx.bv_const("y", 64);
  auto r = dst_result(ctx, Form::add_reg, x32, x64);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "smt model: operands of add_reg must be 64-bit bit-vectors");
}

// The model is total over its inputs: symbolic operands give a term of the
// right sort for every covered form.
TEST(BpfModel, EveryCoveredFormGivesA64BitOrBoolTermOnSymbolicOperands) {
  z3::context ctx;
  const z3::expr d = ctx.bv_const("d", 64);
  const z3::expr s = ctx.bv_const("s", 64);
  for (Form f : covered_forms()) {
    if (isa::info(f).sem.family == isa::Family::Jump) {
      auto t = branch_taken(ctx, f, d, s);
      ASSERT_TRUE(t.ok()) << t.error().message;
      EXPECT_TRUE(t->is_bool()) << isa::info(f).name;
    } else {
      auto t = dst_result(ctx, f, d, s);
      ASSERT_TRUE(t.ok()) << t.error().message;
      EXPECT_TRUE(t->is_bv() && t->get_sort().bv_size() == 64) << isa::info(f).name;
    }
  }
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
