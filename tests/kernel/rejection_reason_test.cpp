#include "oracle/kernel/rejection_reason.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace bpfdiff::oracle::kernel {
namespace {

TEST(RejectionReason, TakesTheLastLineBeforeTheStatistics) {
  const char* log =
      "0: R1=ctx() R10=fp0\n"
      "0: (79) r0 = *(u64 *)(r3 +0)\n"
      "R3 invalid mem access 'scalar'\n"
      "processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
  EXPECT_EQ(last_log_line(log), "R3 invalid mem access 'scalar'");
  EXPECT_EQ(rejection_reason(log, EACCES), "R# invalid mem access 'scalar'");
}

TEST(RejectionReason, NumbersCollapseSoReasonsCountTogether) {
  EXPECT_EQ(rejection_reason("invalid read from stack off -8+0 size 8\n", EACCES),
            "invalid read from stack off # size #");
  EXPECT_EQ(rejection_reason("back-edge from insn 7 to 3\n\n", EINVAL), "back-edge from insn # to #");
  EXPECT_EQ(rejection_reason("invalid access to map value, value_size=8 off=12 size=4\n", EACCES),
            "invalid access to map value, value_size=# off=# size=#");
  EXPECT_EQ(rejection_reason("unknown opcode 0x8d\n", EINVAL), "unknown opcode #");
  EXPECT_EQ(rejection_reason("unknown opcode 8d\n", EINVAL), "unknown opcode #");
  EXPECT_EQ(rejection_reason("R1 type=scalar expected=fp\n", EACCES), "R# type=scalar expected=fp");
  // Digits inside a word are part of the word.
  EXPECT_EQ(rejection_reason("BPF_ALU uses reserved fields\nR0 !read_ok\n", EACCES), "R# !read_ok");
  EXPECT_EQ(rejection_reason("misaligned u32 access\n", EACCES), "misaligned u32 access");
}

TEST(RejectionReason, WithoutALogTheErrnoNamesIt) {
  EXPECT_EQ(rejection_reason("", E2BIG), "E2BIG (no verifier log)");
  EXPECT_EQ(rejection_reason("\nprocessed 3 insns\n", EINVAL), "EINVAL (no verifier log)");
}

TEST(RejectionReason, LongLinesAreCut) {
  const std::string line(500, 'a');
  EXPECT_LE(rejection_reason(line, EACCES).size(), 100u);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
