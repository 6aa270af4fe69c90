#include "oracle/compare.hpp"

#include <gtest/gtest.h>

namespace bpfdiff::oracle {
namespace {

Outcome ran(uint64_t r0) {
  Outcome o;
  o.loaded = true;
  o.regs[0] = r0;
  o.memory = {1, 2, 3, 4};
  o.stack.assign(16, 0);
  o.instructions = 10;
  return o;
}

std::vector<std::string> fields(const std::vector<Difference>& diffs) {
  std::vector<std::string> out;
  for (const auto& d : diffs)
    out.push_back(d.field);
  return out;
}

TEST(Compare, IdenticalOutcomesAgree) {
  EXPECT_TRUE(compare(ran(7), ran(7), {}).empty());
}

TEST(Compare, BothRejectedAgreeWhateverTheMessage) {
  Outcome a, b;
  a.load_error = "pc 1: opcode: unknown opcode 0xff";
  b.load_error = "something else";
  EXPECT_TRUE(compare(a, b, {}).empty());
}

TEST(Compare, OneRejectedIsALoadDifferenceAndNothingElse) {
  Outcome rejected;
  rejected.load_error = "bad";
  const auto d = compare(ran(1), rejected, {});
  ASSERT_EQ(fields(d), std::vector<std::string>{"load"});
  EXPECT_EQ(d[0].left, "accepted");
  EXPECT_EQ(d[0].right, "rejected: bad");
}

TEST(Compare, EveryRegisterIsCompared) {
  Outcome a = ran(1), b = ran(1);
  b.regs[9] = 5;
  const auto d = compare(a, b, {});
  ASSERT_EQ(fields(d), std::vector<std::string>{"r9"});
  EXPECT_EQ(d[0].left, "0x0");
  EXPECT_EQ(d[0].right, "0x5");
}

TEST(Compare, RegistersRuleOffComparesOnlyR0) {
  Outcome a = ran(1), b = ran(1);
  b.regs[3] = 5;
  CompareRules rules;
  rules.registers = false;
  EXPECT_TRUE(compare(a, b, rules).empty());
  b.regs[0] = 2;
  EXPECT_EQ(fields(compare(a, b, rules)), std::vector<std::string>{"r0"});
}

TEST(Compare, MemoryReportsTheFirstDifferingByteOnly) {
  Outcome a = ran(1), b = ran(1);
  b.memory[1] = 9;
  b.memory[3] = 9;
  const auto d = compare(a, b, {});
  ASSERT_EQ(fields(d), std::vector<std::string>{"memory[1]"});
  EXPECT_EQ(d[0].left, "0x2");
  EXPECT_EQ(d[0].right, "0x9");
}

TEST(Compare, StackAndInstructionCountAreComparedUnlessRuledOut) {
  Outcome a = ran(1), b = ran(1);
  b.stack[15] = 1;
  b.instructions = 11;
  EXPECT_EQ(fields(compare(a, b, {})), (std::vector<std::string>{"instructions", "stack[15]"}));
  CompareRules rules;
  rules.stack = false;
  rules.instructions = false;
  EXPECT_TRUE(compare(a, b, rules).empty());
}

TEST(Compare, ErrorKindThenDetails) {
  Outcome a = ran(0), b = ran(0);
  a.error = {vm::ErrorKind::MemoryRead, 3, 0x200000010, 4};
  b.error = {vm::ErrorKind::MemoryWrite, 3, 0x200000010, 4};
  EXPECT_EQ(fields(compare(a, b, {})), std::vector<std::string>{"error.kind"});
  b.error = {vm::ErrorKind::MemoryRead, 4, 0x200000011, 8};
  EXPECT_EQ(fields(compare(a, b, {})), (std::vector<std::string>{"error.pc", "error.address", "error.size"}));
  CompareRules rules;
  rules.error_details = false;
  EXPECT_TRUE(compare(a, b, rules).empty());
}

TEST(Compare, HelperCallsComparedInOrder) {
  Outcome a = ran(0), b = ran(0);
  a.helper_calls = {{2, 1, {1, 2, 3, 4, 5}, 9}};
  b.helper_calls = {{2, 1, {1, 2, 3, 4, 6}, 9}};
  EXPECT_EQ(fields(compare(a, b, {})), std::vector<std::string>{"helper_calls[0]"});
  b.helper_calls.clear();
  EXPECT_EQ(fields(compare(a, b, {})), std::vector<std::string>{"helper_calls.size"});
}

}  // namespace
}  // namespace bpfdiff::oracle
