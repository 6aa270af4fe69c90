// The ELF front end from the command line: `bpfdiff run/disasm` on compiled
// objects and `bpfdiff-plugin --elf` as bpf_conformance's ELF runner uses it.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kBpfdiff = BPFDIFF_BIN;
const std::string kPlugin = BPFDIFF_PLUGIN_BIN;
const std::string kObjects = BPFDIFF_ELF_TEST_OBJECTS_DIR;

std::string object(const char* name) {
  return kObjects + "/" + name + ".o";
}

std::string hex_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
    out += "  ";
  }
  return out + "\n";
}

TEST(ElfCli, PluginRunsMainOfText) {
  const auto r = run_process({kPlugin, "--elf"}, hex_of_file(object("conformance_main")));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "0x2a\n");
}

TEST(ElfCli, PluginRunsMainOnTheJitToo) {
  const auto r = run_process({kPlugin, "", "--elf --engine jit"}, hex_of_file(object("conformance_main")));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "0x2a\n");
}

TEST(ElfCli, PluginRejectsATruncatedObject) {
  const auto r = run_process({kPlugin, "--elf"}, "7f 45 4c 46\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("too short for an ELF header"), std::string::npos) << r.out;
}

TEST(ElfCli, PluginNeedsAMainFunction) {
  const auto r = run_process({kPlugin, "--elf"}, hex_of_file(object("legacy_maps")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("no program or .text function named 'main'"), std::string::npos) << r.out;
}

TEST(ElfCli, RunChoosesByProgramName) {
  const auto r = run_process({kBpfdiff, "run", object("multi"), "--program", "first", "--mode", "none"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x2a\n");  // twice(20) = (20 + 1) * 2 through two bpf-to-bpf calls
}

TEST(ElfCli, RunChoosesBySection) {
  // third: greeting[1] from .rodata ('i' = 105) + add_one(0).
  const auto r = run_process({kBpfdiff, "run", object("multi"), "--section", "tc", "--mode", "none"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0x6a\n");
}

TEST(ElfCli, RunWithSeveralProgramsAsksWhichOne) {
  const auto r = run_process({kBpfdiff, "run", object("multi")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("holds 4 programs; choose one with --section or --program: first (section xdp)"),
            std::string::npos)
      << r.err;
}

TEST(ElfCli, RunRejectsAnAmbiguousSection) {
  const auto r = run_process({kBpfdiff, "run", object("multi"), "--section", "xdp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("section 'xdp' holds several programs (first, second)"), std::string::npos) << r.err;
}

TEST(ElfCli, SectionOptionOnANonElfFileIsAnError) {
  TempDir dir;
  const auto asm_file = dir.write("p.asm", "mov r0, 1\nexit\n");
  const auto r = run_process({kBpfdiff, "run", asm_file, "--section", "xdp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("choose a program of an ELF object (this file is assembly)"), std::string::npos)
      << r.err;
}

// diff and repro choose an ELF object's program as run does: by name or
// section, and the engines agree on it (first: 0x2a, third in tc: 0x6a).
TEST(ElfCli, DiffAndReproChooseTheProgramOfAnObject) {
  const auto by_name = run_process(
      {kBpfdiff, "diff", object("multi"), "--program", "first", "--mode", "none", "--engines", "interp,jit"});
  EXPECT_EQ(by_name.exit_code, 0) << by_name.out << by_name.err;
  EXPECT_NE(by_name.out.find("0x2a"), std::string::npos) << by_name.out;
  const auto by_section = run_process(
      {kBpfdiff, "diff", object("multi"), "--section", "tc", "--mode", "none", "--engines", "interp,jit"});
  EXPECT_EQ(by_section.exit_code, 0) << by_section.out << by_section.err;
  EXPECT_NE(by_section.out.find("0x6a"), std::string::npos) << by_section.out;
  const auto repro =
      run_process({kBpfdiff, "repro", object("multi"), "--program", "first", "--mode", "none"});
  EXPECT_EQ(repro.exit_code, 0) << repro.out << repro.err;
  EXPECT_NE(repro.out.find("0x2a"), std::string::npos) << repro.out;
}

TEST(ElfCli, DiffOfAnObjectWithSeveralProgramsAsksWhichOne) {
  const auto r = run_process({kBpfdiff, "diff", object("multi"), "--engines", "interp,jit"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("holds 4 programs; choose one with --section or --program"), std::string::npos)
      << r.err;
  TempDir dir;
  const auto asm_file = dir.write("p.asm", "mov r0, 1\nexit\n");
  const auto not_elf =
      run_process({kBpfdiff, "diff", asm_file, "--section", "xdp", "--engines", "interp,jit"});
  EXPECT_EQ(not_elf.exit_code, 2) << not_elf.out << not_elf.err;
  EXPECT_NE(not_elf.err.find("choose a program of an ELF object"), std::string::npos) << not_elf.err;
}

TEST(ElfCli, DisasmListsMapsProgramsAndResolvedRelocations) {
  const auto r = run_process({kBpfdiff, "disasm", object("multi")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* expected :
       {"; 4 programs, 3 maps", "license \"Dual BSD/GPL\"",
        "; map 0 '.rodata': array, key 4 B, value 3 B, 1 entry, read-only, initially 68 69 00",
        "; program second: section xdp, slot 11", "section xdp (slots 9..20):", "\nfirst:\n", "; call twice",
        "; call add_one", "; address of callback", "; '.data' + 0 (symbol .data)",
        "; '.bss' + 0 (symbol zeroed)", "section .text"}) {
    EXPECT_NE(r.out.find(expected), std::string::npos) << "missing: " << expected << "\n" << r.out;
  }
}

TEST(ElfCli, DisasmOfAMalformedObjectSaysWhy) {
  TempDir dir;
  const auto obj = dir.write("prog.o", std::string("\x7f"
                                                   "ELF\x01\x01\x01\x00",
                                                   8));
  const auto r = run_process({kBpfdiff, "disasm", obj});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("prog.o: ELF"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bpfdiff::cli::testing
