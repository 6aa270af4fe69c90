// `bpfdiff run`: output formats, exit statuses and repeat semantics.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kBpfdiff = BPFDIFF_BIN;

class BpfdiffRun : public ::testing::Test {
 protected:
  TempDir dir;
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST_F(BpfdiffRun, PrintsR0InHex) {
  const auto file = dir.write("answer.asm", "mov r0, 42\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x2a\n");
}

TEST_F(BpfdiffRun, DetectsAssemblyByContentWithoutExtension) {
  const auto file = dir.write("answer", "mov r0, 42\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x2a\n");
}

TEST_F(BpfdiffRun, RunsRawBytecode) {
  const std::string code("\xb7\x00\x00\x00\x2a\x00\x00\x00\x95\x00\x00\x00\x00\x00\x00\x00", 16);
  const auto file = dir.write("answer.bin", code);
  const auto r = run_process({kBpfdiff, "run", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x2a\n");
}

TEST_F(BpfdiffRun, ReadsMemoryFromHexArgumentAndFile) {
  const auto file = dir.write("load.asm", "ldxh r0, [r1+1]\nexit\n");
  auto r = run_process({kBpfdiff, "run", file, "--mem", "11 22 33"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x3322\n");
  r = run_process({kBpfdiff, "run", file, "--mem", "112233"});
  EXPECT_EQ(r.out, "0x3322\n") << r.err;
  const auto mem = dir.write("mem.bin", std::string("\x11\x44\x55", 3));
  r = run_process({kBpfdiff, "run", file, "--mem-file", mem});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x5544\n");
}

TEST_F(BpfdiffRun, JsonReportHasResultsAndTimings) {
  const auto file = dir.write("answer.asm", "mov r0, 42\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--json", "--mem", "01 02"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("r0"), "0x2a");
  EXPECT_EQ(j.at("regs").size(), 11u);
  EXPECT_EQ(j.at("regs")[2], "0x2");
  EXPECT_EQ(j.at("instructions"), 2);
  EXPECT_TRUE(j.at("error").is_null());
  EXPECT_EQ(j.at("memory"), "0102");
  EXPECT_TRUE(j.at("ns_per_run").is_number_unsigned());
  EXPECT_TRUE(j.at("load_ns").is_number_unsigned());
  EXPECT_EQ(j.at("compile_ns"), 0);
  EXPECT_EQ(j.at("engine"), "interp");
  EXPECT_EQ(j.at("runs"), 1);
}

TEST_F(BpfdiffRun, RepeatRunsEachTimeOnAFreshCopyOfTheMemory) {
  const auto file = dir.write("inc.asm", "ldxb r0, [r1+0]\nadd r0, 1\nstxb [r1+0], r0\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--json", "--mem", "05", "--repeat", "100"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("r0"), "0x6");
  EXPECT_EQ(j.at("memory"), "06");
  EXPECT_EQ(j.at("runs"), 100);
}

TEST_F(BpfdiffRun, TracePrintsOneLinePerInstructionWithChangedRegisters) {
  const auto file = dir.write("trace.asm", "mov r0, 42\nmov r3, 7\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--trace"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_NE(lines[0].find("0:"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("mov"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("r0=0x2a"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("r3=0x7"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[1].find("r0="), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("exit"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3], "0x2a");
}

TEST_F(BpfdiffRun, TraceInJsonIsAnArrayOfSteps) {
  const auto file = dir.write("trace.asm", "mov r0, 42\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--trace", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("trace").size(), 2u);
  EXPECT_EQ(j.at("trace")[0].at("pc"), 0);
  EXPECT_EQ(j.at("trace")[0].at("changed").at("r0"), "0x2a");
}

TEST_F(BpfdiffRun, StatePrintsAllRegistersCountAndMemory) {
  const auto file = dir.write("state.asm", "mov r0, 42\nstb [r1+1], 9\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--state", "--mem", "aa bb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("r0  = 0x2a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("r2  = 0x2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("r10 = 0x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("instructions: 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory: aa09"), std::string::npos) << r.out;
}

TEST_F(BpfdiffRun, RunTimeFaultExitsOneAndNamesThePc) {
  const auto file = dir.write("fault.asm", "mov r0, 0\nldxw r0, [r1+0]\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--mode", "none"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pc 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("out-of-bounds read"), std::string::npos) << r.err;
}

TEST_F(BpfdiffRun, RunTimeFaultInJsonHasStructuredError) {
  const auto file = dir.write("fault.asm", "mov r0, 0\nldxw r0, [r1+0]\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("error").at("kind"), "memory_read");
  EXPECT_EQ(j.at("error").at("pc"), 1);
  EXPECT_EQ(j.at("error").at("address"), "0x0");
  EXPECT_EQ(j.at("error").at("size"), 4);
}

TEST_F(BpfdiffRun, BudgetStopsAnInfiniteLoop) {
  const auto file = dir.write("loop.asm", "ja -1\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--budget", "1000"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("budget"), std::string::npos) << r.err;
}

TEST_F(BpfdiffRun, ValidationErrorExitsTwo) {
  const auto file = dir.write("bad.bin", std::string("\xff\x00\x00\x00\x00\x00\x00\x00"
                                                     "\x95\x00\x00\x00\x00\x00\x00\x00",
                                                     16));
  const auto r = run_process({kBpfdiff, "run", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("pc 0"), std::string::npos) << r.err;
}

TEST_F(BpfdiffRun, AssemblyErrorExitsTwo) {
  const auto file = dir.write("bad.asm", "mov r0, 42\nfrobnicate r1\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
}

TEST_F(BpfdiffRun, UnknownEngineExitsTwo) {
  const auto file = dir.write("answer.asm", "mov r0, 42\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--engine", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown engine 'x' (available: interp, jit, jit-bmi2, jit+blind, "
                       "jit+blind-bmi2, smt, kernel-host"),
            std::string::npos)
      << r.err;
}

TEST_F(BpfdiffRun, DataTestUsesItsMemoryAndReportsAMatch) {
  const auto file = dir.write("t.data", "-- asm\nldxb r0, [r1+1]\nexit\n-- mem\n01 02 03\n-- result\n0x2\n");
  const auto r = run_process({kBpfdiff, "run", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0x2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("match"), std::string::npos) << r.out;
}

TEST_F(BpfdiffRun, DataTestMismatchExitsThree) {
  const auto file = dir.write("t.data", "-- asm\nmov r0, 1\nexit\n-- result\n0x2\n");
  const auto r = run_process({kBpfdiff, "run", file, "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("expected").at("match"), false);
}

TEST_F(BpfdiffRun, MissingFileExitsTwo) {
  const auto r = run_process({kBpfdiff, "run", dir.path() + "/nope.asm"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope.asm"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bpfdiff::cli::testing
