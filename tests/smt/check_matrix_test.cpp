// run_matrix on several threads: the same cells, in the same form-major
// order, reported to on_cell in that order, as on one thread.
#include <gtest/gtest.h>

#include <vector>

#include "oracle/smt/check_matrix.hpp"
#include "oracle/smt/interp_check.hpp"

namespace bpfdiff::oracle::smt {
namespace {

TEST(CheckMatrix, ParallelCellsComeOutInFormMajorOrderWithTheSameVerdicts) {
  CheckRegistry registry;
  add_interp_checks(registry);
  auto forms = select_forms("^(add|sub|xor)32_(imm|reg)$");
  ASSERT_TRUE(forms.ok());
  auto checks = select_checks(registry, "");
  ASSERT_TRUE(checks.ok());
  const MatrixReport serial = run_matrix(registry, *forms, *checks, {}, 1);
  std::vector<isa::Form> seen;
  const MatrixReport parallel = run_matrix(
      registry, *forms, *checks, [&](const MatrixCell& c) { seen.push_back(c.form); }, 3);
  EXPECT_EQ(parallel.jobs, 3u);
  ASSERT_EQ(parallel.cells.size(), serial.cells.size());
  ASSERT_EQ(seen.size(), serial.cells.size());
  for (std::size_t i = 0; i < serial.cells.size(); ++i) {
    EXPECT_EQ(parallel.cells[i].form, serial.cells[i].form);
    EXPECT_EQ(seen[i], serial.cells[i].form);
    EXPECT_EQ(parallel.cells[i].check, serial.cells[i].check);
    EXPECT_EQ(parallel.cells[i].outcome.verdict, serial.cells[i].outcome.verdict);
  }
  EXPECT_TRUE(parallel.all_proved());
  EXPECT_GT(parallel.wall_ns, 0u);
  EXPECT_EQ(parallel.slowest(2).size(), 2u);
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
