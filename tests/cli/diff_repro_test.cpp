// `bpfdiff diff` and `bpfdiff repro`, spawned as a user runs them. Our
// engines agree, so these tests see agreement; the bisection that localises
// a disagreement is unit-tested in tests/oracle/first_divergence_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "oracle/run/outcome_table.hpp"
#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kBpfdiff = BPFDIFF_BIN;

constexpr const char* kSum =
    "mov r0, 0\nmov r2, 0\nloop:\nldxb r3, [r1+0]\nadd r0, r3\nadd r1, 1\nadd r2, 1\n"
    "jlt r2, 3, loop\nexit\n";

// A fuzz input: u32 length 16 | mov r0, 0x2a; exit | 3 bytes of memory.
// 4 + 16 + 3 bytes: not a whole number of slots, so it is detected.
std::string fuzz_input_bytes() {
  const unsigned char bytes[] = {16,   0,    0,   0,                 //
                                 0xb7, 0,    0,   0, 0x2a, 0, 0, 0,  // mov r0, 0x2a
                                 0x95, 0,    0,   0, 0,    0, 0, 0,  // exit
                                 0xaa, 0xbb, 0xcc};
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

class DiffRepro : public ::testing::Test {
 protected:
  TempDir dir;
};

TEST_F(DiffRepro, DiffOnAnAgreeingProgramExitsZero) {
  const auto file = dir.write("sum.asm", kSum);
  const auto r = run_process({kBpfdiff, "diff", file, "--mem", "01 02 03"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("agree (5 engines): r0 0x6 after 18 instructions"), std::string::npos) << r.out;
}

TEST_F(DiffRepro, DiffComparesTheEnginesItIsGiven) {
  const auto file = dir.write("oob.asm", "ldxw r0, [r1+2]\nexit\n");
  const auto r = run_process({kBpfdiff, "diff", file, "--engines", "interp,jit-bmi2", "--mem", "01 02 03"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("agree (2 engines): pc 0: out-of-bounds read"), std::string::npos) << r.out;
}

TEST_F(DiffRepro, DiffOnADirectoryDiffsEveryFileAndSummarises) {
  std::filesystem::create_directories(dir.path() + "/sub");
  dir.write("a.asm", "mov r0, 1\nexit\n");
  dir.write("sub/b.asm", kSum);
  dir.write("sub/c.data", "-- asm\nldxb r0, [r1+1]\nexit\n-- mem\n07 08\n-- result\n0x8\n");
  dir.write("z.bin", fuzz_input_bytes());
  const auto r = run_process({kBpfdiff, "diff", dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto a = r.out.find("a.asm: agree");
  const auto b = r.out.find("b.asm: agree");
  const auto c = r.out.find("c.data: agree (5 engines): r0 0x8");
  const auto z = r.out.find("z.bin: agree (5 engines): r0 0x2a");
  ASSERT_NE(a, std::string::npos) << r.out;
  ASSERT_NE(b, std::string::npos) << r.out;
  ASSERT_NE(c, std::string::npos) << r.out;
  ASSERT_NE(z, std::string::npos) << r.out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, z);
  EXPECT_NE(r.out.find("4 programs, 4 agree, 0 disagree\n"), std::string::npos) << r.out;
}

TEST_F(DiffRepro, DiffReportsFilesThatDoNotLoad) {
  dir.write("good.asm", "mov r0, 1\nexit\n");
  dir.write("bad.asm", "frobnicate r0\n");
  const auto r = run_process({kBpfdiff, "diff", dir.path()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("bad.asm: error:"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("2 programs, 1 agree, 0 disagree, 1 failed to load"), std::string::npos) << r.out;
}

TEST_F(DiffRepro, DiffJsonShape) {
  const auto file = dir.write("sum.asm", kSum);
  const auto r =
      run_process({kBpfdiff, "diff", file, "--mem", "01 02 03", "--json", "--engines", "interp,jit"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["file"], file);
  EXPECT_EQ(j["agree"], true);
  EXPECT_EQ(j["engines"], nlohmann::json::array({"interp", "jit"}));
  EXPECT_EQ(j["budget"], 1000000);
  EXPECT_EQ(j["reference"]["r0"], "0x6");
  EXPECT_EQ(j["reference"]["instructions"], 18);
  EXPECT_TRUE(j["reference"]["error"].is_null());
  EXPECT_TRUE(j["differences"].is_array());
  EXPECT_TRUE(j["differences"].empty());

  std::filesystem::create_directories(dir.path() + "/more");
  dir.write("more/x.asm", "mov r0, 2\nexit\n");
  const auto d = run_process({kBpfdiff, "diff", dir.path() + "/more", "--json"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const auto arr = nlohmann::json::parse(d.out);
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0]["reference"]["r0"], "0x2");
  EXPECT_EQ(arr[0]["engines"].size(), 5u);
}

TEST_F(DiffRepro, DiffUsageErrors) {
  const auto file = dir.write("a.asm", "mov r0, 1\nexit\n");
  EXPECT_EQ(run_process({kBpfdiff, "diff", file, "--engines", "interp,nope"}).exit_code, 2);
  EXPECT_EQ(run_process({kBpfdiff, "diff", file, "--engines", "jit,jit"}).exit_code, 2);
  EXPECT_EQ(run_process({kBpfdiff, "diff", dir.path() + "/missing.asm"}).exit_code, 2);
  const auto help = run_process({kBpfdiff, "diff", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--engines"), std::string::npos);
  EXPECT_NE(help.out.find("N programs, M agree, K disagree"), std::string::npos) << help.out;
}

TEST_F(DiffRepro, ReproOnAnAgreeingProgram) {
  const auto file = dir.write("sum.asm", kSum);
  const auto r = run_process({kBpfdiff, "repro", file, "--mem", "01 02 03"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("engines agree: nothing to reproduce"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("   6: jlt r2, 3, -5"), std::string::npos) << "the listing with pcs\n" << r.out;
  EXPECT_NE(r.out.find("interp"), std::string::npos);
  EXPECT_NE(r.out.find("jit"), std::string::npos);
  EXPECT_EQ(r.out.find("\x1b["), std::string::npos) << "no color when stdout is not a terminal";
  // Agreeing engines: no row is marked.
  EXPECT_EQ(r.out.find("\n* "), std::string::npos) << r.out;
}

TEST_F(DiffRepro, ReproOnAFuzzInputUsesItsLayoutAndTheFuzzBudget) {
  const auto file = dir.write("crash-1234", fuzz_input_bytes());
  const auto r = run_process({kBpfdiff, "repro", file, "--engines", "interp,jit,jit+blind"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("fuzz input, 2 slots, 3 bytes of memory, budget 4096"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("   0: mov r0, 42"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("aabbcc"), std::string::npos) << "the memory row\n" << r.out;
  EXPECT_NE(r.out.find("jit+blind"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("engines agree: nothing to reproduce"), std::string::npos) << r.out;

  // --fuzz-input forces the layout for a file that would pass for bytecode.
  const std::string slots(24, '\0');  // length 0x00000000: no program, 20 bytes of memory
  const auto forced = dir.write("slots.bin", slots);
  const auto f = run_process({kBpfdiff, "repro", forced, "--fuzz-input"});
  EXPECT_EQ(f.exit_code, 0) << f.out << f.err;
  EXPECT_NE(f.out.find("fuzz input, 0 slots, 20 bytes of memory"), std::string::npos) << f.out;
}

TEST_F(DiffRepro, ReproWithASmallBudget) {
  const auto file = dir.write("a.asm", "mov r0, 1\nexit\n");
  const auto r = run_process({kBpfdiff, "repro", file, "--budget", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("budget 1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("instruction budget exhausted"), std::string::npos) << r.out;
}

// The side-by-side table of `repro`, in process: our engines agree, so a
// differing row can only be shown with made-up outcomes.
TEST(OutcomeTable, MarksDifferingRowsAndShowsWhereBytesDiffer) {
  oracle::Outcome a;
  a.engine = "interp";
  a.loaded = true;
  a.regs[0] = 0x2a;
  a.memory = {1, 2, 3, 4};
  a.stack.assign(64, 0);
  oracle::Outcome b = a;
  b.engine = "jit";
  b.regs[0] = 0x2b;
  b.memory[2] = 9;
  b.stack[40] = 7;
  const std::string plain = format_outcome_table({a, b}, false);
  EXPECT_NE(plain.find("* r0 "), std::string::npos) << plain;
  EXPECT_NE(plain.find("0x2a"), std::string::npos);
  EXPECT_NE(plain.find("0x2b"), std::string::npos);
  EXPECT_NE(plain.find("  r1 "), std::string::npos) << "equal rows are not marked\n" << plain;
  EXPECT_NE(plain.find("* memory[2..]"), std::string::npos) << plain;
  EXPECT_NE(plain.find("* stack[40..]"), std::string::npos) << plain;
  EXPECT_NE(plain.find("* stack digest"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("\x1b["), std::string::npos);

  const std::string colored = format_outcome_table({a, b}, true);
  EXPECT_NE(colored.find("\x1b[1;31m* r0 "), std::string::npos) << colored;
  EXPECT_EQ(colored.find("\x1b[1;31m  r1 "), std::string::npos) << colored;

  b.loaded = false;
  b.load_error = "bad program";
  const std::vector<OutcomeRow> rows = outcome_rows({a, b});
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].field, "load");
  EXPECT_EQ(rows[0].values[1], "rejected: bad program");
  EXPECT_TRUE(rows[0].differs());
  EXPECT_EQ(rows[1].values[1], "-");
}

TEST_F(DiffRepro, ReproWithGateRunsRunsTheGatesFourRuns) {
  // A map counter: each run adds one, so the runs differ from each other --
  // on every engine alike (the maps carry over, then are reset).
  const auto file = dir.write("count.data",
                              "-- map-def counter\ntype array\nkey_size 4\nvalue_size 8\nmax_entries 1\n"
                              "-- asm\nstw [r10-4], 0\nlddw r1, map_idx(0)\nmov r2, r10\nadd r2, -4\n"
                              "call 1\njeq r0, 0, +4\nmov r1, 1\nlock add [r0+0], r1\nldxdw r0, [r0+0]\n"
                              "exit\nmov r0, 0\nexit\n-- result\n0x1\n");
  const auto r = run_process({kBpfdiff, "repro", file, "--gate-runs", "--engines", "interp,jit,jit-bmi2"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("the engines agree on all 4 runs of the gate (--gate-runs)"), std::string::npos)
      << r.out;
  const auto kernel =
      run_process({kBpfdiff, "repro", file, "--gate-runs", "--engines", "interp,kernel-host"});
  EXPECT_EQ(kernel.exit_code, 2) << kernel.out << kernel.err;
  EXPECT_NE(kernel.err.find("--gate-runs reruns a prepared program"), std::string::npos) << kernel.err;
}

TEST_F(DiffRepro, DiffWithGateRunsComparesTheGatesFourRuns) {
  // The map counter again: each run sees the count its predecessors left.
  std::filesystem::create_directories(dir.path() + "/runs");
  dir.write("runs/count.data",
            "-- map-def counter\ntype array\nkey_size 4\nvalue_size 8\nmax_entries 1\n"
            "-- asm\nstw [r10-4], 0\nlddw r1, map_idx(0)\nmov r2, r10\nadd r2, -4\n"
            "call 1\njeq r0, 0, +4\nmov r1, 1\nlock add [r0+0], r1\nldxdw r0, [r0+0]\n"
            "exit\nmov r0, 0\nexit\n-- result\n0x1\n");
  dir.write("runs/plain.asm", "mov r0, 7\nexit\n");
  const auto r = run_process(
      {kBpfdiff, "diff", dir.path() + "/runs", "--gate-runs", "--engines", "interp,jit,jit-bmi2"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("count.data: agree (3 engines, 4 runs)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 programs, 2 agree, 0 disagree"), std::string::npos) << r.out;
  const auto json = run_process({kBpfdiff, "diff", dir.path() + "/runs/count.data", "--gate-runs", "--json",
                                 "--engines", "interp,jit"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"runs\":4"), std::string::npos) << json.out;
  const auto kernel =
      run_process({kBpfdiff, "diff", dir.path() + "/runs", "--gate-runs", "--engines", "interp,kernel-host"});
  EXPECT_EQ(kernel.exit_code, 2) << kernel.out << kernel.err;
  EXPECT_NE(kernel.err.find("--gate-runs reruns a prepared program"), std::string::npos) << kernel.err;
}

TEST_F(DiffRepro, ReproUsage) {
  const auto file = dir.write("a.asm", "mov r0, 1\nexit\n");
  EXPECT_EQ(run_process({kBpfdiff, "repro", file, "--engines", "interp"}).exit_code, 2);
  EXPECT_EQ(run_process({kBpfdiff, "repro", dir.path() + "/missing"}).exit_code, 2);
  const auto help = run_process({kBpfdiff, "repro", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("bisection"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace bpfdiff::cli::testing
