// `bpfdiff asm`, `bpfdiff disasm` and the top-level help.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kBpfdiff = BPFDIFF_BIN;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(BpfdiffAsm, WritesRawBytecode) {
  TempDir dir;
  const auto src = dir.write("a.asm", "mov r0, 42\nexit\n");
  const auto r = run_process({kBpfdiff, "asm", src, "-o", dir.path() + "/a.bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_all(dir.path() + "/a.bin"),
            std::string("\xb7\x00\x00\x00\x2a\x00\x00\x00\x95\x00\x00\x00\x00\x00\x00\x00", 16));
}

TEST(BpfdiffAsm, PrintsHexDumpOneSlotPerLine) {
  TempDir dir;
  const auto src = dir.write("a.asm", "mov r0, 42\nexit\n");
  const auto r = run_process({kBpfdiff, "asm", src});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "b7 00 00 00 2a 00 00 00\n95 00 00 00 00 00 00 00\n");
}

TEST(BpfdiffAsm, ErrorExitsTwo) {
  TempDir dir;
  const auto src = dir.write("a.asm", "mov r0, 42\nfrobnicate\n");
  const auto r = run_process({kBpfdiff, "asm", src});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
}

TEST(BpfdiffAsm, DisassemblyAssemblesBackToTheSameBytes) {
  TempDir dir;
  const auto src = dir.write("a.asm",
                             "mov r0, 1\n"
                             "lddw r1, 0x1122334455667788\n"
                             "jeq r0, 1, +1\n"
                             "add32 r0, r1\n"
                             "stxdw [r10-8], r1\n"
                             "ldxw r2, [r10-8]\n"
                             "exit\n");
  auto r = run_process({kBpfdiff, "asm", src, "-o", dir.path() + "/a.bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_process({kBpfdiff, "disasm", dir.path() + "/a.bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("lddw"), std::string::npos) << r.out;
  const auto again = dir.write("b.asm", r.out);
  r = run_process({kBpfdiff, "asm", again, "-o", dir.path() + "/b.bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_all(dir.path() + "/a.bin"), read_all(dir.path() + "/b.bin"));
}

TEST(BpfdiffDisasm, PcOptionPrefixesSlotIndexes) {
  TempDir dir;
  const auto bin = dir.write("a.bin", std::string("\xb7\x00\x00\x00\x2a\x00\x00\x00"
                                                  "\x95\x00\x00\x00\x00\x00\x00\x00",
                                                  16));
  const auto plain = run_process({kBpfdiff, "disasm", bin});
  const auto with_pc = run_process({kBpfdiff, "disasm", bin, "--pc", "--bytes"});
  ASSERT_EQ(with_pc.exit_code, 0) << with_pc.err;
  EXPECT_NE(with_pc.out.find("1:"), std::string::npos) << with_pc.out;
  EXPECT_NE(with_pc.out, plain.out);
}

TEST(BpfdiffDisasm, RejectsATruncatedElfWithAClearMessage) {
  TempDir dir;
  const auto obj = dir.write("prog.o", std::string("\x7f"
                                                   "ELF\x02\x01\x01\x00",
                                                   8));
  const auto r = run_process({kBpfdiff, "disasm", obj});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("prog.o: ELF: file is 8 bytes, too short for an ELF header"), std::string::npos)
      << r.err;
}

TEST(BpfdiffDisasm, RejectsPartialSlots) {
  TempDir dir;
  const auto bin = dir.write("a.bin", std::string("\xb7\x00\x00", 3));
  const auto r = run_process({kBpfdiff, "disasm", bin});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(BpfdiffHelp, TopLevelListsSubcommands) {
  const auto r = run_process({kBpfdiff, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* sub : {"asm", "disasm", "run"})
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
}

TEST(BpfdiffHelp, EachSubcommandDescribesItsOptions) {
  const auto run = run_process({kBpfdiff, "run", "--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* opt : {"--engine", "--mem", "--mem-file", "--mode", "--budget", "--max-call-depth",
                          "--trace", "--json", "--repeat", "--state"}) {
    EXPECT_NE(run.out.find(opt), std::string::npos) << opt;
  }
  EXPECT_NE(run_process({kBpfdiff, "disasm", "--help"}).out.find("--pc"), std::string::npos);
  EXPECT_NE(run_process({kBpfdiff, "asm", "--help"}).out.find("-o"), std::string::npos);
}

TEST(BpfdiffHelp, MissingSubcommandIsAUsageError) {
  const auto r = run_process({kBpfdiff});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace bpfdiff::cli::testing
