// The run-mode flags of `bpfdiff run` on `diff`, `repro` and `minimize`
// (--mode, --packet, --mbuff-*, --max-call-depth), and a .data test's own
// `-- mode`, "# budget N" and "# max-call-depth N" as these commands read it.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kBpfdiff = BPFDIFF_BIN;

// r0 = data_end - data in packet mode; in memory mode the two words of the memory.
constexpr const char* kPacketLength = "ldxw r2, [r1]\nldxw r3, [r1+4]\nmov r0, r3\nsub r0, r2\nexit\n";
// Two nested local calls: three frames with the entry's.
constexpr const char* kTwoCalls = "call local f\nexit\ng:\nmov r0, 7\nexit\nf:\ncall local g\nexit\n";

class RunModeFlags : public ::testing::Test {
 protected:
  TempDir dir;
};

TEST_F(RunModeFlags, DiffRunsInTheModeGiven) {
  const auto file = dir.write("len.asm", kPacketLength);
  auto r = run_process(
      {kBpfdiff, "diff", file, "--engines", "interp,jit", "--mode", "packet", "--packet", "01 02 03 04 05"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("agree (2 engines): r0 0x5 "), std::string::npos) << r.out;
  r = run_process({kBpfdiff, "diff", file, "--engines", "interp,jit", "--mode", "mbuff", "--mbuff-size", "24",
                   "--mbuff-data-offset", "16", "--mbuff-data-end-offset", "0", "--mem", "aa bb"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The buffer's first words: the low halves of data_end (0x1000002) and of nothing (0).
  EXPECT_NE(r.out.find("agree (2 engines): r0 0xfffffffffefffffe "), std::string::npos) << r.out;
  r = run_process({kBpfdiff, "diff", file, "--engines", "interp,jit"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("pc 0: out-of-bounds read"), std::string::npos) << "memory mode, no memory\n" << r.out;
}

TEST_F(RunModeFlags, DiffAndReproTakeTheCallDepth) {
  const auto file = dir.write("calls.asm", kTwoCalls);
  auto r = run_process({kBpfdiff, "diff", file, "--engines", "interp,jit", "--max-call-depth", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("r0 0x7"), std::string::npos) << r.out;
  r = run_process({kBpfdiff, "diff", file, "--engines", "interp,jit", "--max-call-depth", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("call depth"), std::string::npos) << r.out;
  r = run_process({kBpfdiff, "repro", file, "--engines", "interp,jit", "--max-call-depth", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("--max-call-depth 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("engines agree"), std::string::npos) << r.out;
}

TEST_F(RunModeFlags, ADataTestsModeBudgetAndDepthHoldUnlessAFlagSaysOtherwise) {
  const auto file = dir.write("t.data", std::string("# budget 4\n# max-call-depth 3\n-- asm\n") + kTwoCalls +
                                            "-- mode\npacket\n-- mem\n01 02\n");
  // Three frames are allowed; the budget of 4 runs out at the fifth instruction.
  auto r = run_process({kBpfdiff, "diff", file, "--engines", "interp,jit", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["budget"], 4) << r.out;
  EXPECT_NE(r.out.find("budget"), std::string::npos) << r.out;
  r = run_process({kBpfdiff, "diff", file, "--engines", "interp,jit", "--budget", "100"});
  EXPECT_NE(r.out.find("r0 0x7"), std::string::npos) << r.out;
  r = run_process(
      {kBpfdiff, "diff", file, "--engines", "interp,jit", "--budget", "100", "--max-call-depth", "1"});
  EXPECT_NE(r.out.find("call depth"), std::string::npos) << r.out;
  const auto len =
      dir.write("len.data", std::string("-- asm\n") + kPacketLength + "-- mode\npacket\n-- mem\n01 02\n");
  r = run_process({kBpfdiff, "repro", len, "--engines", "interp,jit"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("--mode packet"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0x2"), std::string::npos) << r.out;
  r = run_process({kBpfdiff, "repro", len, "--engines", "interp,jit", "--mode", "memory"});
  EXPECT_EQ(r.out.find("--mode packet"), std::string::npos) << r.out;
}

TEST_F(RunModeFlags, BadRunModeFlagsAreUsageErrors) {
  const auto file = dir.write("len.asm", kPacketLength);
  for (const char* command : {"diff", "repro", "minimize"}) {
    for (const std::vector<std::string>& bad :
         std::vector<std::vector<std::string>>{{"--mode", "sideways"},
                                               {"--max-call-depth", "0"},
                                               {"--mbuff-size", "x"},
                                               {"--packet", "zz"},
                                               {"--packet", "01", "--packet-file", file}}) {
      std::vector<std::string> argv = {kBpfdiff, command, file, "--engines", "interp,jit"};
      argv.insert(argv.end(), bad.begin(), bad.end());
      const auto r = run_process(argv);
      EXPECT_EQ(r.exit_code, 2) << command << " " << bad.front() << "\n" << r.out << r.err;
    }
  }
}

TEST_F(RunModeFlags, EveryCommandDocumentsTheFlags) {
  for (const char* command : {"run", "diff", "repro", "minimize"}) {
    const auto r = run_process({kBpfdiff, command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const char* flag : {"--mode", "--packet", "--packet-file", "--mbuff-size", "--mbuff-data-offset",
                             "--mbuff-data-end-offset", "--max-call-depth"})
      EXPECT_NE(r.out.find(flag), std::string::npos) << command << " " << flag;
  }
}

}  // namespace
}  // namespace bpfdiff::cli::testing
