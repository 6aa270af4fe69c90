#include "fuzz/single_insn.hpp"

#include <gtest/gtest.h>

#include <set>

#include "oracle/engine.hpp"
#include "tests/fuzz/form_count.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::fuzz {
namespace {

using testing::count_forms;
using testing::FormCounts;

TEST(SingleInsn, EnumerationCoversEveryFormOfTheTable) {
  const auto cases = enumerate_single_insn_cases(2);
  ASSERT_EQ(cases.size(), isa::kNumForms * 2);
  std::set<isa::Form> named;
  FormCounts counts{};
  for (const SingleInsnCase& c : cases) {
    named.insert(c.form);
    count_forms(c.c.program, counts);
  }
  EXPECT_EQ(named.size(), isa::kNumForms);
  for (const isa::FormInfo& fi : isa::all_forms())
    EXPECT_GT(counts[static_cast<std::size_t>(fi.form)], 0u) << fi.name;
}

// A case is valid exactly when its form is one a valid program can hold;
// the others are there to be rejected by every engine alike.
TEST(SingleInsn, ValidExactlyForGeneratableForms) {
  for (const SingleInsnCase& c : enumerate_single_insn_cases(16)) {
    const auto v = vm::validate(c.c.program, oracle::default_helpers());
    FormCounts counts{};
    count_forms(c.c.program, counts);
    ASSERT_GT(counts[static_cast<std::size_t>(c.form)], 0u) << isa::info(c.form).name;
    if (generatable(c.form)) {
      ASSERT_TRUE(v.ok()) << isa::info(c.form).name << ": " << v.error().message;
    } else {
      ASSERT_FALSE(v.ok()) << isa::info(c.form).name;
    }
  }
}

TEST(SingleInsn, EnumerationIsDeterministic) {
  const auto a = enumerate_single_insn_cases(3);
  const auto b = enumerate_single_insn_cases(3);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].form, b[i].form);
    EXPECT_EQ(a[i].c.program.slots, b[i].c.program.slots);
    EXPECT_EQ(a[i].c.memory, b[i].c.memory);
  }
}

TEST(SingleInsn, ProgramsAreShort) {
  for (const SingleInsnCase& c : enumerate_single_insn_cases(8))
    EXPECT_LE(c.c.program.slots.size(), 12u) << isa::info(c.form).name;
}

TEST(SingleInsn, FuzzerBytesPickTheFormFromTheFirstByte) {
  for (std::size_t f = 0; f < isa::kNumForms; ++f) {
    const std::array<uint8_t, 4> bytes = {static_cast<uint8_t>(f), 1, 2, 3};
    ByteSource src(bytes);
    FormCounts counts{};
    count_forms(single_insn_case(src).program, counts);
    EXPECT_GT(counts[f], 0u) << isa::all_forms()[f].name;
  }
}

}  // namespace
}  // namespace bpfdiff::fuzz
