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
  auto r = run_process({kBpfdiff, "run", file, "--mode", "mbuff", "--packet", "aa bb", "--mbuff-data-offset", "8",
                        "--mbuff-data-end-offset", "0", "--state"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("r0  = 0xbd\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("metadata: 02000001000000000000000100000000\n"), std::string::npos) << r.out;
  r = run_process({kBpfdiff, "run", file, "--mode", "mbuff", "--packet", "aa", "--mbuff-size", "12"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("metadata buffer of 12 bytes has no room for the 8-byte data_end address at offset 8"),
            std::string::npos)
      << r.err;
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
