// The JIT engines from the command line: `run --engine jit*`, the plugin's
// `--engine jit`, and `disasm --x86`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kBpfdiff = BPFDIFF_BIN;
const std::string kPlugin = BPFDIFF_PLUGIN_BIN;

class JitCli : public ::testing::Test {
 protected:
  TempDir dir;
};

TEST_F(JitCli, EveryJitEngineRunsAndReportsCompileTime) {
  const auto file =
      dir.write("sum.asm",
                "mov r0, 0\nmov r2, 0\nloop:\nldxb r3, [r1+0]\nadd r0, r3\nadd r1, 1\nadd r2, 1\n"
                "jlt r2, 3, loop\nexit\n");
  for (const char* engine : {"jit", "jit+blind", "jit-bmi2", "jit+blind-bmi2"}) {
    const auto r = run_process({kBpfdiff, "run", file, "--engine", engine, "--mem", "01 02 03", "--json"});
    ASSERT_EQ(r.exit_code, 0) << engine << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["r0"], "0x6") << engine;
    EXPECT_EQ(j["engine"], engine);
    EXPECT_GT(j["compile_ns"].get<uint64_t>(), 0u) << engine;
  }
}

TEST_F(JitCli, JitFaultHasTheInterpretersMessageAndExitCode) {
  const auto file = dir.write("oob.asm", "ldxw r0, [r1+2]\nexit\n");
  for (const char* engine : {"interp", "jit"}) {
    const auto r = run_process({kBpfdiff, "run", file, "--engine", engine, "--mem", "01 02 03"});
    EXPECT_EQ(r.exit_code, 1) << engine;
    EXPECT_NE(r.err.find("pc 0: out-of-bounds read of 4 bytes at 0x200000002"), std::string::npos) << r.err;
  }
}

TEST_F(JitCli, TraceNeedsTheInterpreter) {
  const auto file = dir.write("a.asm", "mov r0, 1\nexit\n");
  const auto r = run_process({kBpfdiff, "run", file, "--engine", "jit", "--trace"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot trace"), std::string::npos) << r.err;
}

TEST_F(JitCli, PluginRunsOnTheJit) {
  // ldxb r0, [r1+1]; exit
  const auto r = run_process({kPlugin, "aa  bb  cc  ", "--engine", "jit"},
                             "71 10 01 00 00 00 00 00 95 00 00 00 00 00 00 00");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "0xbb\n");
}

TEST_F(JitCli, DisasmX86ShowsEachInstructionAndItsMachineCode) {
  const auto file = dir.write("div.asm", "mov r0, 7\ndiv r0, r1\nexit\n");
  const auto r = run_process({kBpfdiff, "disasm", "--x86", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("; prologue"), std::string::npos);
  EXPECT_NE(r.out.find("pc 1: div r0, r1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("div r11"), std::string::npos) << "the guarded x86 division\n" << r.out;
  EXPECT_NE(r.out.find("; trap, out-of-line checks and epilogue"), std::string::npos);
  const auto plain = run_process({kBpfdiff, "disasm", "--x86", "--engine", "interp", file});
  EXPECT_EQ(plain.exit_code, 2);
}

}  // namespace
}  // namespace bpfdiff::cli::testing
