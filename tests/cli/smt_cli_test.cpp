// `bpfdiff smt check` and `bpfdiff smt eval`, spawned as a user runs them.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kBpfdiff = BPFDIFF_BIN;
const std::string kConformance = BPFDIFF_CONFORMANCE_DIR;

TEST(SmtCli, CheckPrintsATableOfProvedFormsAndExitsZero) {
  const ProcessResult r = run_process({kBpfdiff, "smt", "check", "--forms", "^(add32_imm|jsgt_reg|be16)$"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("form", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("interp"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("add32_imm"), std::string::npos) << r.out;
  // One interpreter column and, by default, the sampled JIT columns: each
  // option set times eight register assignments.
  EXPECT_NE(r.out.find("jit-bmi2 r4,r3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 forms x 33 checks: 99 proofs, 99 proved, 0 counterexamples"), std::string::npos)
      << r.out;
}

TEST(SmtCli, CheckJsonCountsEveryProofWithItsTime) {
  const ProcessResult r =
      run_process({kBpfdiff, "smt", "check", "--forms", "^s(div|mod)", "--checks", "^interp$", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["result"], "proved");
  EXPECT_EQ(j["checks"], nlohmann::json::array({"interp"}));
  EXPECT_EQ(j["forms"], 8);
  EXPECT_EQ(j["proved"], 8);
  EXPECT_EQ(j["counterexamples"], 0);
  ASSERT_EQ(j["results"].size(), 8u);
  for (const auto& cell : j["results"]) {
    EXPECT_EQ(cell["verdict"], "proved") << cell.dump();
    EXPECT_GT(cell["seconds"].get<double>(), 0.0);
  }
  EXPECT_TRUE(j["slowest"].is_object());
}

TEST(SmtCli, BadPatternsAreUsageErrors) {
  ProcessResult r = run_process({kBpfdiff, "smt", "check", "--forms", "("});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad --forms pattern '('"), std::string::npos) << r.err;
  r = run_process({kBpfdiff, "smt", "check", "--forms", "ldxw"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no modelled form matches 'ldxw'"), std::string::npos) << r.err;
  r = run_process({kBpfdiff, "smt", "check", "--checks", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no check matches 'nope'"), std::string::npos) << r.err;
}

TEST(SmtCli, EvalRunsALoopFreeProgramOnTheModel) {
  TempDir dir;
  const std::string path = dir.write("p.asm", "lddw r1, 0x8000000000000000\nsdiv r1, -1\nmov r0, r1\nexit\n");
  const ProcessResult r = run_process({kBpfdiff, "smt", "eval", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("r0 = 0x8000000000000000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("instructions = 4\n"), std::string::npos) << r.out;
}

TEST(SmtCli, EvalChecksADataTestsExpectedResult) {
  ProcessResult r = run_process({kBpfdiff, "smt", "eval", kConformance + "/alu64-arith.data"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  TempDir dir;
  const std::string wrong = dir.write("w.data", "-- asm\nmov r0, 1\nexit\n-- result\n0x2\n");
  r = run_process({kBpfdiff, "smt", "eval", wrong});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("the test expects r0 = 0x2"), std::string::npos) << r.err;
}

TEST(SmtCli, EvalRefusesProgramsOutsideTheModel) {
  const ProcessResult r = run_process({kBpfdiff, "smt", "eval", kConformance + "/ldx-stx.data"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unsupported by smt: pc"), std::string::npos) << r.err;
}

TEST(SmtCli, RunAcceptsTheSmtEngine) {
  TempDir dir;
  const std::string path = dir.write("p.asm", "mov32 r0, -1\nbe16 r0\nexit\n");
  const ProcessResult r = run_process({kBpfdiff, "run", path, "--engine", "smt"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0xffff"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bpfdiff::cli::testing
