// `bpfdiff run` with the packet and metadata-buffer run modes, trace_printk
// output and the map dump.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kBpfdiff = BPFDIFF_BIN;

class RunModesCli : public ::testing::Test {
 protected:
  TempDir dir;
};

TEST_F(RunModesCli, PacketModeGivesAnXdpContext) {
  const auto file = dir.write("len.asm", "ldxw r2, [r1]\nldxw r3, [r1+4]\nmov r0, r3\nsub r0, r2\nexit\n");
  auto r = run_process({kBpfdiff, "run", file, "--mode", "packet", "--packet", "01 02 03"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x3\n");
  const auto packet = dir.write("frame.bin", std::string(60, 'x'));
  r = run_process({kBpfdiff, "run", file, "--mode", "packet", "--packet-file", packet, "--engine", "jit"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x3c\n");
}

TEST_F(RunModesCli, PacketAccessPastDataEndIsARunTimeError) {
  const auto file = dir.write("oob.asm", "ldxw r2, [r1]\nldxb r0, [r2+3]\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--mode", "packet", "--packet", "01 02 03"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pc 1: out-of-bounds read of 1 bytes at 0x1000003"), std::string::npos) << r.err;
}

TEST_F(RunModesCli, MbuffModeWritesThePacketBoundsIntoTheBuffer) {
  const auto file = dir.write("second.asm", "ldxdw r3, [r1+8]\nldxb r0, [r3+1]\nadd r0, r2\nexit\n");
  auto r = run_process({kBpfdiff, "run", file, "--mode", "mbuff", "--packet", "aa bb", "--mbuff-data-offset",
                        "8", "--mbuff-data-end-offset", "0", "--state"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("r0  = 0xbd\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("metadata: 02000001000000000000000100000000\n"), std::string::npos) << r.out;
  r = run_process({kBpfdiff, "run", file, "--mode", "mbuff", "--packet", "aa", "--mbuff-size", "12"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("metadata buffer of 12 bytes has no room for the 8-byte data_end address at offset 8"),
            std::string::npos)
      << r.err;
}

// A .data test carries its run mode, maps and budget; the command line overrides them.
TEST_F(RunModesCli, DataTestSetsModeMapsAndBudget) {
  const auto file = dir.write("t.data",
                              "# budget 3\n"
                              "-- mode\n"
                              "mbuff size 24 data_offset 16\n"
                              "-- map-def g\n"
                              "type array\n"
                              "value_size 4\n"
                              "max_entries 1\n"
                              "values 05 00 00 00\n"
                              "-- mem\n"
                              "aa bb cc\n"
                              "-- asm\n"
                              "ldxdw r3, [r1+16]\n"
                              "ldxb r0, [r3+2]\n"
                              "lddw r4, map_value(0, 0)\n"
                              "ldxw r4, [r4+0]\n"
                              "add r0, r4\n"
                              "exit\n"
                              "-- result\n"
                              "0xd1\n");
  auto r = run_process({kBpfdiff, "run", file, "--budget", "10"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0xd1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": match"), std::string::npos) << r.out;
  // Its own budget of 3 stops it; memory mode makes r1 the memory, not a buffer.
  r = run_process({kBpfdiff, "run", file});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("budget"), std::string::npos) << r.err;
  r = run_process({kBpfdiff, "run", file, "--budget", "10", "--mode", "memory"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  r = run_process({kBpfdiff, "run", file, "--budget", "10", "--mbuff-data-offset", "0", "--engine", "jit"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // offset 16 now holds 0: a null packet pointer
}

// "%d\n" on the stack, then bpf_trace_printk(fmt, 4, 42).
const char* kPrintk =
    "stw [r10-4], 0xa6425\nmov r1, r10\nadd r1, -4\nmov r2, 4\nmov r3, 42\ncall bpf_trace_printk\nexit\n";

TEST_F(RunModesCli, TracePrintkOutputIsShown) {
  const auto file = dir.write("hello.asm", kPrintk);
  auto r = run_process({kBpfdiff, "run", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "trace_printk: 42\n0x3\n");
  r = run_process({kBpfdiff, "run", file, "--json", "--engine", "jit"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["printk"], nlohmann::json::array({"42\n"}));
  EXPECT_EQ(j["r0"], "0x3");
}

TEST_F(RunModesCli, MapsFlagWithoutMapsPrintsNothingMore) {
  const auto file = dir.write("answer.asm", "mov r0, 42\nexit\n");
  auto r = run_process({kBpfdiff, "run", file, "--maps"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x2a\n");
  r = run_process({kBpfdiff, "run", file, "--maps", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["maps"], nlohmann::json::array());
}

TEST_F(RunModesCli, SeedFixesKtimeAndPrandom) {
  const auto file = dir.write("t.asm", "call bpf_ktime_get_ns\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--seed", "5"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x3b9acded\n");  // 1 s + 5 ns + 1 us
}

}  // namespace
}  // namespace bpfdiff::cli::testing
