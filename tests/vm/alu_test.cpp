// ALU, ALU32, movsx, neg and byte-order semantics, one table row per case.
// Each binary row runs twice where the operand can be written both ways: with
// the source in a register and as an immediate (64-bit forms only when the
// value is a sign-extended 32-bit immediate, since that is what imm means).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/vm/program_builder.hpp"

namespace bpfdiff::test {
namespace {

struct BinaryRow {
  Form imm_form;
  Form reg_form;
  uint64_t dst;
  uint64_t src;
  uint64_t expected;
};

// clang-format off
const BinaryRow kAlu64Rows[] = {
    {Form::add_imm, Form::add_reg, 1, 2, 3},
    {Form::add_imm, Form::add_reg, 5, neg(7), neg(2)},
    {Form::add_imm, Form::add_reg, 0xffffffff, 1, 0x100000000},  // no 32-bit wrap
    {Form::add_imm, Form::add_reg, kAll, 1, 0},
    {Form::add_imm, Form::add_reg, kMax64, 1, kMin64},
    {Form::sub_imm, Form::sub_reg, 3, 5, neg(2)},
    {Form::sub_imm, Form::sub_reg, 0, kAll, 1},
    {Form::sub_imm, Form::sub_reg, 0x100000000, 1, 0xffffffff},
    {Form::mul_imm, Form::mul_reg, 3, neg(2), neg(6)},
    {Form::mul_imm, Form::mul_reg, 0x100000000, 0x10, 0x1000000000},
    {Form::mul_imm, Form::mul_reg, 0x100000000, 0x100000000, 0},
    {Form::mul_imm, Form::mul_reg, 0xffffffff, 0xffffffff, 0xfffffffe00000001},
    {Form::div_imm, Form::div_reg, 100, 7, 14},
    {Form::div_imm, Form::div_reg, 5, kAll, 0},  // unsigned: imm -1 is 2^64-1
    {Form::div_imm, Form::div_reg, kAll, kAll, 1},
    {Form::div_imm, Form::div_reg, kAll, 2, kMax64},
    {Form::div_imm, Form::div_reg, kMin64, kAll, 0},
    {Form::div_imm, Form::div_reg, 42, 0, 0},  // division by zero gives 0
    {Form::div_imm, Form::div_reg, kAll, 0, 0},
    {Form::sdiv_imm, Form::sdiv_reg, neg(7), 2, neg(3)},  // truncates toward zero
    {Form::sdiv_imm, Form::sdiv_reg, 7, neg(2), neg(3)},
    {Form::sdiv_imm, Form::sdiv_reg, neg(7), neg(2), 3},
    {Form::sdiv_imm, Form::sdiv_reg, neg(100), 7, neg(14)},
    {Form::sdiv_imm, Form::sdiv_reg, kMin64, kAll, kMin64},  // INT64_MIN / -1
    {Form::sdiv_imm, Form::sdiv_reg, kMin64, 1, kMin64},
    {Form::sdiv_imm, Form::sdiv_reg, 42, 0, 0},
    {Form::sdiv_imm, Form::sdiv_reg, kAll, 0, 0},
    {Form::sdiv_imm, Form::sdiv_reg, kAll, kMin64, 0},
    {Form::mod_imm, Form::mod_reg, 100, 7, 2},
    {Form::mod_imm, Form::mod_reg, 5, kAll, 5},
    {Form::mod_imm, Form::mod_reg, kAll, 10, 5},
    {Form::mod_imm, Form::mod_reg, 0xdeadbeefcafebabe, 0, 0xdeadbeefcafebabe},  // modulo by zero keeps dst
    {Form::smod_imm, Form::smod_reg, neg(7), 2, neg(1)},  // sign follows the dividend
    {Form::smod_imm, Form::smod_reg, 7, neg(2), 1},
    {Form::smod_imm, Form::smod_reg, neg(7), neg(2), neg(1)},
    {Form::smod_imm, Form::smod_reg, neg(100), 7, neg(2)},
    {Form::smod_imm, Form::smod_reg, kMin64, kAll, 0},  // INT64_MIN % -1
    {Form::smod_imm, Form::smod_reg, kMin64, 3, neg(2)},
    {Form::smod_imm, Form::smod_reg, neg(5), 0, neg(5)},
    {Form::smod_imm, Form::smod_reg, 0xdeadbeefcafebabe, 0, 0xdeadbeefcafebabe},
    {Form::or_imm, Form::or_reg, 0xf0, 0x0f, 0xff},
    {Form::or_imm, Form::or_reg, 0, kAll, kAll},
    {Form::or_imm, Form::or_reg, 0, 0xffffffff80000000, 0xffffffff80000000},
    {Form::or_imm, Form::or_reg, 0xff00000000000000, 0xff, 0xff000000000000ff},
    {Form::and_imm, Form::and_reg, 0xff00ff00ff00ff00, neg(256), 0xff00ff00ff00ff00},
    {Form::and_imm, Form::and_reg, 0x123456789abcdef0, 0x7fffffff, 0x1abcdef0},
    {Form::and_imm, Form::and_reg, 0x123456789abcdef0, 0xffffffff80000000, 0x1234567880000000},
    {Form::and_imm, Form::and_reg, 0xf0f0, 0xff00, 0xf000},
    {Form::xor_imm, Form::xor_reg, 0xff, kAll, 0xffffffffffffff00},
    {Form::xor_imm, Form::xor_reg, 0x1234, 0x1234, 0},
    {Form::xor_imm, Form::xor_reg, 0xaaaaaaaaaaaaaaaa, kAll, 0x5555555555555555},
    {Form::mov_imm, Form::mov_reg, 0xdead, kAll, kAll},
    {Form::mov_imm, Form::mov_reg, kAll, 0x7fffffff, 0x7fffffff},
    {Form::mov_imm, Form::mov_reg, 0, 0x123456789abcdef0, 0x123456789abcdef0},
    // Shift counts are masked to 6 bits.
    {Form::lsh_imm, Form::lsh_reg, 1, 0, 1},
    {Form::lsh_imm, Form::lsh_reg, 1, 31, 0x80000000},
    {Form::lsh_imm, Form::lsh_reg, 1, 32, 0x100000000},
    {Form::lsh_imm, Form::lsh_reg, 1, 63, kMin64},
    {Form::lsh_imm, Form::lsh_reg, 1, 64, 1},
    {Form::lsh_imm, Form::lsh_reg, 1, 65, 2},
    {Form::lsh_imm, Form::lsh_reg, 1, 0x100000001, 2},
    {Form::lsh_imm, Form::lsh_reg, 0xff, 60, 0xf000000000000000},
    {Form::rsh_imm, Form::rsh_reg, kMin64, 0, kMin64},
    {Form::rsh_imm, Form::rsh_reg, kMin64, 31, 0x100000000},
    {Form::rsh_imm, Form::rsh_reg, kMin64, 32, 0x80000000},
    {Form::rsh_imm, Form::rsh_reg, kMin64, 63, 1},
    {Form::rsh_imm, Form::rsh_reg, kMin64, 64, kMin64},
    {Form::rsh_imm, Form::rsh_reg, kMin64, 65, 0x4000000000000000},
    {Form::rsh_imm, Form::rsh_reg, kAll, 4, 0x0fffffffffffffff},  // logical: no sign fill
    {Form::arsh_imm, Form::arsh_reg, kMin64, 0, kMin64},
    {Form::arsh_imm, Form::arsh_reg, kMin64, 31, 0xffffffff00000000},
    {Form::arsh_imm, Form::arsh_reg, kMin64, 32, 0xffffffff80000000},
    {Form::arsh_imm, Form::arsh_reg, kMin64, 63, kAll},
    {Form::arsh_imm, Form::arsh_reg, kMin64, 64, kMin64},
    {Form::arsh_imm, Form::arsh_reg, kMin64, 65, 0xc000000000000000},
    {Form::arsh_imm, Form::arsh_reg, neg(16), 2, neg(4)},
    {Form::arsh_imm, Form::arsh_reg, 0x4000000000000000, 62, 1},  // positive: zero fill
};

// ALU32: only the low halves take part; the result is zero-extended. Most
// rows put garbage in the high half of dst or src to prove it is ignored.
const BinaryRow kAlu32Rows[] = {
    {Form::add32_imm, Form::add32_reg, 0xffffffff, 1, 0},
    {Form::add32_imm, Form::add32_reg, 0x100000005, 0xff00000003, 8},
    {Form::add32_imm, Form::add32_reg, 0x7fffffff, 1, 0x80000000},
    {Form::add32_imm, Form::add32_reg, kAll, 1, 0},
    {Form::sub32_imm, Form::sub32_reg, 0, 1, 0xffffffff},
    {Form::sub32_imm, Form::sub32_reg, 0xffffffff00000005, 3, 2},
    {Form::mul32_imm, Form::mul32_reg, 0x10000, 0x10000, 0},
    {Form::mul32_imm, Form::mul32_reg, kAll, kAll, 1},
    {Form::mul32_imm, Form::mul32_reg, 3, neg(2), 0xfffffffa},
    {Form::div32_imm, Form::div32_reg, 0xffffffff, 2, 0x7fffffff},
    {Form::div32_imm, Form::div32_reg, 0x100000064, 7, 14},
    {Form::div32_imm, Form::div32_reg, 0xffffffff, 0xffffffff, 1},
    {Form::div32_imm, Form::div32_reg, 42, 0, 0},
    {Form::div32_imm, Form::div32_reg, kAll, 0x100000000, 0},  // low half of src is 0
    {Form::sdiv32_imm, Form::sdiv32_reg, 0xfffffff9, 2, 0xfffffffd},
    {Form::sdiv32_imm, Form::sdiv32_reg, 0x1fffffff9, 2, 0xfffffffd},
    {Form::sdiv32_imm, Form::sdiv32_reg, 7, 0xfffffffe, 0xfffffffd},
    {Form::sdiv32_imm, Form::sdiv32_reg, 0xfffffff9, 0xfffffffe, 3},
    {Form::sdiv32_imm, Form::sdiv32_reg, 0x80000000, 0xffffffff, 0x80000000},  // INT32_MIN / -1
    {Form::sdiv32_imm, Form::sdiv32_reg, 0xffffffff80000000, kAll, 0x80000000},
    {Form::sdiv32_imm, Form::sdiv32_reg, 42, 0, 0},
    {Form::sdiv32_imm, Form::sdiv32_reg, kAll, 0xff00000000, 0},
    {Form::mod32_imm, Form::mod32_reg, 100, 7, 2},
    {Form::mod32_imm, Form::mod32_reg, 0xffffffff, 0x10, 0xf},
    {Form::mod32_imm, Form::mod32_reg, 5, 0xffffffff, 5},
    {Form::mod32_imm, Form::mod32_reg, 0xdeadbeef12345678, 0, 0x12345678},  // keeps dst, zero-extended
    {Form::mod32_imm, Form::mod32_reg, kAll, 0x100000000, 0xffffffff},
    {Form::smod32_imm, Form::smod32_reg, 0xfffffff9, 2, 0xffffffff},
    {Form::smod32_imm, Form::smod32_reg, 7, 0xfffffffe, 1},
    {Form::smod32_imm, Form::smod32_reg, 0xfffffff9, 0xfffffffe, 0xffffffff},
    {Form::smod32_imm, Form::smod32_reg, 0x100000064, 7, 2},
    {Form::smod32_imm, Form::smod32_reg, 0x80000000, 0xffffffff, 0},  // INT32_MIN % -1
    {Form::smod32_imm, Form::smod32_reg, 0xdeadbeeffffffffb, 0, 0xfffffffb},
    {Form::or32_imm, Form::or32_reg, 0xffffffff00000000, 0xf, 0xf},
    {Form::or32_imm, Form::or32_reg, 0, kAll, 0xffffffff},
    {Form::and32_imm, Form::and32_reg, kAll, 0xff00ff00ff00ff00, 0xff00ff00},
    {Form::and32_imm, Form::and32_reg, kAll, kAll, 0xffffffff},
    {Form::xor32_imm, Form::xor32_reg, kAll, 0xf, 0xfffffff0},
    {Form::xor32_imm, Form::xor32_reg, 0x1234, 0x1234, 0},
    {Form::mov32_imm, Form::mov32_reg, kAll, kAll, 0xffffffff},  // mov32 -1 zero-extends
    {Form::mov32_imm, Form::mov32_reg, kAll, 0x123456789abcdef0, 0x9abcdef0},
    {Form::mov32_imm, Form::mov32_reg, kAll, 0, 0},
    // Shift counts are masked to 5 bits.
    {Form::lsh32_imm, Form::lsh32_reg, 1, 0, 1},
    {Form::lsh32_imm, Form::lsh32_reg, 1, 31, 0x80000000},
    {Form::lsh32_imm, Form::lsh32_reg, 1, 32, 1},
    {Form::lsh32_imm, Form::lsh32_reg, 1, 63, 0x80000000},
    {Form::lsh32_imm, Form::lsh32_reg, 1, 64, 1},
    {Form::lsh32_imm, Form::lsh32_reg, 1, 65, 2},
    {Form::lsh32_imm, Form::lsh32_reg, kAll, 4, 0xfffffff0},
    {Form::lsh32_imm, Form::lsh32_reg, 0x80000000, 1, 0},
    {Form::rsh32_imm, Form::rsh32_reg, 0x80000000, 0, 0x80000000},
    {Form::rsh32_imm, Form::rsh32_reg, 0x80000000, 31, 1},
    {Form::rsh32_imm, Form::rsh32_reg, 0x80000000, 32, 0x80000000},
    {Form::rsh32_imm, Form::rsh32_reg, 0x80000000, 33, 0x40000000},
    {Form::rsh32_imm, Form::rsh32_reg, 0x80000000, 63, 1},
    {Form::rsh32_imm, Form::rsh32_reg, 0xffffffff80000000, 4, 0x08000000},
    {Form::arsh32_imm, Form::arsh32_reg, 0x80000000, 0, 0x80000000},
    {Form::arsh32_imm, Form::arsh32_reg, 0x80000000, 4, 0xf8000000},
    {Form::arsh32_imm, Form::arsh32_reg, 0x80000000, 31, 0xffffffff},
    {Form::arsh32_imm, Form::arsh32_reg, 0x80000000, 32, 0x80000000},
    {Form::arsh32_imm, Form::arsh32_reg, 0x80000000, 33, 0xc0000000},
    {Form::arsh32_imm, Form::arsh32_reg, 0x80000000, 63, 0xffffffff},
    {Form::arsh32_imm, Form::arsh32_reg, 0xfffffff0, 2, 0xfffffffc},
    {Form::arsh32_imm, Form::arsh32_reg, 0x17ffffff0, 4, 0x07ffffff},  // sign is bit 31, not 63
    {Form::arsh32_imm, Form::arsh32_reg, kAll, 0, 0xffffffff},
};
// clang-format on

struct AluCase {
  Form form;
  bool imm;
  uint64_t dst;
  uint64_t src;
  uint64_t expected;
  std::string name;
};

std::vector<AluCase> expand(const std::vector<BinaryRow>& rows) {
  std::vector<AluCase> out;
  for (const BinaryRow& r : rows) {
    const std::string suffix = "_" + std::to_string(out.size());
    out.push_back({r.reg_form, false, r.dst, r.src, r.expected, form_name(r.reg_form) + suffix});
    const bool w32 = isa::info(r.imm_form).sem.width == isa::Width::W32;
    const auto imm = static_cast<int32_t>(static_cast<uint32_t>(r.src));
    // A 64-bit imm stands for its sign extension; a 32-bit op only sees the low half.
    if (w32 || static_cast<uint64_t>(static_cast<int64_t>(imm)) == r.src) {
      out.push_back({r.imm_form, true, r.dst, r.src, r.expected, form_name(r.imm_form) + suffix});
    }
  }
  return out;
}

std::vector<AluCase> all_binary_cases() {
  std::vector<BinaryRow> rows(std::begin(kAlu64Rows), std::end(kAlu64Rows));
  rows.insert(rows.end(), std::begin(kAlu32Rows), std::end(kAlu32Rows));
  return expand(rows);
}

class AluBinary : public ::testing::TestWithParam<AluCase> {};

TEST_P(AluBinary, ComputesRfcResult) {
  const AluCase& c = GetParam();
  ProgramBuilder b;
  b.lddw(0, c.dst);
  if (c.imm) {
    b.op(c.form, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(c.src)));
  } else {
    b.lddw(1, c.src).op(c.form, 0, 1);
  }
  b.exit();
  EXPECT_EQ(run_r0(b), c.expected) << std::hex << "dst 0x" << c.dst << " src 0x" << c.src;
}

INSTANTIATE_TEST_SUITE_P(Rows, AluBinary, ::testing::ValuesIn(all_binary_cases()),
                         [](const auto& p) { return p.param.name; });

TEST(AluCoverage, EveryBinaryAluFormHasRows) {
  std::vector<bool> seen(isa::kNumForms, false);
  for (const AluCase& c : all_binary_cases())
    seen[static_cast<std::size_t>(c.form)] = true;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    const isa::Semantics& s = fi.sem;
    if (s.family != isa::Family::Alu || s.alu == isa::AluOp::Neg) continue;
    if (s.alu == isa::AluOp::Movsx8 || s.alu == isa::AluOp::Movsx16 || s.alu == isa::AluOp::Movsx32) continue;
    EXPECT_TRUE(seen[static_cast<std::size_t>(fi.form)]) << fi.name << " has no test row";
  }
}

// Unary forms: neg, movsx (the source is a register but the value is all
// that matters) and the byte-order forms.
struct UnaryRow {
  Form form;
  uint64_t in;
  uint64_t expected;
};

// clang-format off
const UnaryRow kUnaryRows[] = {
    {Form::neg, 5, neg(5)},
    {Form::neg, 0, 0},
    {Form::neg, kMin64, kMin64},
    {Form::neg, kAll, 1},
    {Form::neg32, 1, 0xffffffff},
    {Form::neg32, 0x100000000, 0},
    {Form::neg32, kAll, 1},
    {Form::neg32, 0x80000000, 0x80000000},
    {Form::movsx8, 0x80, 0xffffffffffffff80},
    {Form::movsx8, 0x7f, 0x7f},
    {Form::movsx8, 0x123456789abcdef0, 0xfffffffffffffff0},
    {Form::movsx8, 0xff01, 1},
    {Form::movsx16, 0x8000, 0xffffffffffff8000},
    {Form::movsx16, 0x123456789abc7ef0, 0x7ef0},
    {Form::movsx16, 0x123456789abcdef0, 0xffffffffffffdef0},
    {Form::movsx32, 0x80000000, 0xffffffff80000000},
    {Form::movsx32, 0x123456789abcdef0, 0xffffffff9abcdef0},
    {Form::movsx32, 0xffffffff7fffffff, 0x7fffffff},
    {Form::movsx832, 0x80, 0xffffff80},  // sign-extends to 32 bits, then zero-extends
    {Form::movsx832, 0x123456789abcdef0, 0xfffffff0},
    {Form::movsx832, 0x7f, 0x7f},
    {Form::movsx1632, 0x8000, 0xffff8000},
    {Form::movsx1632, 0x7fff, 0x7fff},
    {Form::movsx1632, 0x123456789abc8001, 0xffff8001},
    {Form::le16, 0x1122334455667788, 0x7788},
    {Form::le32, 0x1122334455667788, 0x55667788},
    {Form::le64, 0x1122334455667788, 0x1122334455667788},
    {Form::be16, 0x1122334455667788, 0x8877},
    {Form::be32, 0x1122334455667788, 0x88776655},
    {Form::be64, 0x1122334455667788, 0x8877665544332211},
    {Form::bswap16, 0x1122334455667788, 0x8877},
    {Form::bswap32, 0x1122334455667788, 0x88776655},
    {Form::bswap64, 0x1122334455667788, 0x8877665544332211},
    {Form::be16, 0xff00, 0x00ff},
    {Form::bswap64, 0x00000000000000ff, 0xff00000000000000},
};
// clang-format on

class AluUnary : public ::testing::TestWithParam<UnaryRow> {};

TEST_P(AluUnary, ComputesRfcResult) {
  const UnaryRow& c = GetParam();
  const isa::Semantics& s = isa::info(c.form).sem;
  ProgramBuilder b;
  if (s.family == isa::Family::Alu && s.alu != isa::AluOp::Neg) {
    // movsx: r0 starts as garbage so the test sees that dst is overwritten.
    b.lddw(0, kAll).lddw(1, c.in).op(c.form, 0, 1);
  } else {
    b.lddw(0, c.in).op(c.form, 0);
  }
  b.exit();
  EXPECT_EQ(run_r0(b), c.expected) << std::hex << "in 0x" << c.in;
}

INSTANTIATE_TEST_SUITE_P(Rows, AluUnary, ::testing::ValuesIn(kUnaryRows), [](const auto& p) {
  return form_name(p.param.form) + "_" + std::to_string(p.index);
});

// Every ALU32 form, derived from the table: with dst all ones, the high half
// of the result is zero whatever the operation.
TEST(Alu32, EveryFormZeroExtendsItsResult) {
  int checked = 0;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    const isa::Semantics& s = fi.sem;
    if (s.family != isa::Family::Alu || s.width != isa::Width::W32) continue;
    ProgramBuilder b;
    b.lddw(0, kAll).lddw(1, 0xffffffff00000003);
    if (s.alu == isa::AluOp::Neg) {
      b.op(fi.form, 0);
    } else if (s.source == isa::Source::Reg) {
      b.op(fi.form, 0, 1);
    } else {
      b.op(fi.form, 0, 0, 0, 3);
    }
    b.exit();
    EXPECT_EQ(run_r0(b) >> 32, 0u) << fi.name;
    ++checked;
  }
  EXPECT_EQ(checked, 31);  // 14 ops x {imm, reg} + neg32 + movsx832 + movsx1632
}

// le16/le32 and be16/be32 are 32-bit-class ops: the upper bits are cleared.
TEST(Endian, NarrowConversionsClearUpperBits) {
  for (Form f : {Form::le16, Form::be16, Form::bswap16}) {
    ProgramBuilder b;
    b.lddw(0, kAll).op(f, 0).exit();
    EXPECT_EQ(run_r0(b), 0xffffu) << form_name(f);
  }
  for (Form f : {Form::le32, Form::be32, Form::bswap32}) {
    ProgramBuilder b;
    b.lddw(0, kAll).op(f, 0).exit();
    EXPECT_EQ(run_r0(b), 0xffffffffu) << form_name(f);
  }
}

TEST(Alu, OperandsMayBeTheSameRegister) {
  ProgramBuilder b;
  b.mov(0, 21).op(Form::add_reg, 0, 0).exit();
  EXPECT_EQ(run_r0(b), 42u);
  ProgramBuilder s;
  s.lddw(0, 0x123456789).op(Form::sub_reg, 0, 0).exit();
  EXPECT_EQ(run_r0(s), 0u);
}

TEST(Alu, ReadsOfR10AreAllowed) {
  ProgramBuilder b;
  b.movr(0, 10).exit();
  EXPECT_EQ(run_r0(b), kStackTop);
}

}  // namespace
}  // namespace bpfdiff::test
