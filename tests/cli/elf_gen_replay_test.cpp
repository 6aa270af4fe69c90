// elf_gen inputs replay as the target ran them: `bpfdiff repro/diff/minimize
// --target elf_gen` regenerate the object from the decisions, load it and
// read the run the target stops at (the first on which the engines disagree,
// else the first: program 1 in its own mode); `repro --write-object` writes
// the object, and the `bpfdiff run` command it prints runs that program to
// the same result.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/byte_source.hpp"
#include "fuzz/elf_gen_case.hpp"
#include "fuzz/findings/finding.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/findings/target_input.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/hex.hpp"
#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

namespace fs = std::filesystem;
const std::string kBpfdiff = BPFDIFF_BIN;

// The decisions of the first seed whose object holds several programs and
// maps and whose first program runs in a mode other than memory.
std::vector<uint8_t> elf_gen_decisions() {
  for (uint64_t seed = 0;; ++seed) {
    fuzz::ByteSource src(seed);
    auto c = fuzz::generate_elf_gen_case(src);
    if (!c || c->cases.size() < 2 || c->object.expected.maps.empty()) continue;
    if (c->cases.front().input.mode == vm::RunMode::Memory) continue;
    fuzz::ByteSource again(seed);
    std::vector<uint8_t> decisions(src.consumed());
    for (uint8_t& b : decisions)
      b = again.byte();
    return decisions;
  }
}

std::string write_input(const TempDir& dir) {
  const std::vector<uint8_t> bytes = elf_gen_decisions();
  return dir.write("crash-elf-gen", std::string(bytes.begin(), bytes.end()));
}

// The line of `out` that starts with `prefix` (leading spaces ignored).
std::string line_starting(const std::string& out, const std::string& prefix) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const std::size_t start = line.find_first_not_of(' ');
    if (start != std::string::npos && line.compare(start, prefix.size(), prefix) == 0)
      return line.substr(start);
  }
  return "";
}

TEST(ElfGenReplay, TheTargetHasTheElfGenLayoutAndEveryOptionSet) {
  EXPECT_EQ(input_layout_of_target("elf_gen").value(), FindingLayout::ElfGen);
  EXPECT_EQ(layout_of_target("elf_gen"), FindingLayout::ElfGen) << "its divergences are triaged in process";
  EXPECT_EQ(engines_of_target("elf_gen"), oracle::engine_names());
  EXPECT_EQ(finding_layout_named("elf-gen"), FindingLayout::ElfGen);
}

TEST(ElfGenReplay, AnInputIsReadAsItsFirstProgramInItsOwnModeWhenTheEnginesAgree) {
  TempDir dir;
  const std::string file = write_input(dir);
  auto c = read_finding(file, FindingLayout::ElfGen);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->elf_program, "prog_0");
  EXPECT_EQ(c->part.rfind("program 1 of ", 0), 0u) << c->part;
  EXPECT_NE(c->part.find("(prog_0) in "), std::string::npos) << c->part;
  EXPECT_NE(c->part.find(", its own"), std::string::npos) << c->part;
  EXPECT_NE(c->setup.mode.mode, vm::RunMode::Memory);
  EXPECT_FALSE(c->elf_object.empty());
  EXPECT_FALSE(c->program.maps.empty());

  // Bytes that make no object are an error naming the file, not a crash.
  const std::string empty = dir.write("empty", "");
  auto none = read_finding(empty, FindingLayout::ElfGen);
  if (!none) {
    EXPECT_NE(none.error().message.find(empty), std::string::npos) << none.error().message;
  }
}

TEST(ElfGenReplay, ReproAndDiffRunTheInputOnEveryEngine) {
  TempDir dir;
  const std::string file = write_input(dir);
  const ProcessResult repro = run_process({kBpfdiff, "repro", file, "--target", "elf_gen"});
  EXPECT_EQ(repro.exit_code, 0) << repro.out << repro.err;
  EXPECT_NE(repro.out.find("elf-gen input, program 1 of "), std::string::npos) << repro.out;
  EXPECT_NE(repro.out.find("engines agree"), std::string::npos) << repro.out;
  for (const std::string& engine : oracle::engine_names())
    EXPECT_NE(repro.out.find(engine), std::string::npos) << engine << "\n" << repro.out;

  const ProcessResult diff = run_process({kBpfdiff, "diff", file, "--target", "elf_gen", "--json"});
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  const auto j = nlohmann::json::parse(diff.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << diff.out;
  EXPECT_EQ(j["kind"].get<std::string>().rfind("elf-gen input, program 1 of ", 0), 0u) << diff.out;

  const ProcessResult minimize =
      run_process({kBpfdiff, "minimize", file, "--target", "elf_gen", "--out", dir.path() + "/regressions"});
  EXPECT_EQ(minimize.exit_code, 1) << "nothing to minimize when the engines agree\n"
                                   << minimize.out << minimize.err;
  EXPECT_NE(minimize.out.find("the engines agree (read as elf-gen)"), std::string::npos) << minimize.out;
}

TEST(ElfGenReplay, ReproWritesTheObjectAndTheRunCommandReproducesTheRun) {
  TempDir dir;
  const std::string file = write_input(dir);
  const std::string object = dir.path() + "/generated.o";
  const ProcessResult repro =
      run_process({kBpfdiff, "repro", file, "--target", "elf_gen", "--write-object", object});
  ASSERT_EQ(repro.exit_code, 0) << repro.out << repro.err;
  ASSERT_TRUE(fs::is_regular_file(object)) << repro.out;
  auto c = read_finding(file, FindingLayout::ElfGen);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(fs::file_size(object), c->elf_object.size());

  // The printed command, run on the interpreter, gives the interpreter's
  // outcome of the run repro showed. (This program's printk output is not
  // UTF-8, which `bpfdiff run --json` once aborted on.)
  std::string command = line_starting(repro.out, "bpfdiff run ");
  ASSERT_FALSE(command.empty()) << repro.out;
  const std::size_t optional = command.find(" [--engine ENGINE]");
  ASSERT_NE(optional, std::string::npos) << command;
  command.erase(optional);
  std::vector<std::string> argv;
  std::istringstream words(command);
  for (std::string w; words >> w;)
    argv.push_back(w);
  argv.front() = kBpfdiff;
  for (const char* flag : {"--engine", "interp", "--json"})
    argv.push_back(flag);
  const ProcessResult run = run_process(argv);
  const auto j = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << command << "\n" << run.out << run.err;

  auto interp = oracle::make_engine("interp");
  ASSERT_TRUE(interp.ok());
  const oracle::Outcome expected = (*interp)->run(c->program, engine_input(c->memory, c->budget, c->setup));
  ASSERT_TRUE(expected.loaded) << expected.load_error;
  EXPECT_EQ(j["instructions"].get<uint64_t>(), expected.instructions) << command << "\n" << run.out;
  if (expected.ok()) {
    EXPECT_EQ(j["r0"].get<std::string>(), hex_u64(expected.regs[0])) << command << "\n" << run.out;
  }
}

TEST(ElfGenReplay, WriteObjectRefusesAnInputOfAnotherTarget) {
  TempDir dir;
  const std::string file = dir.write("prog.asm", "mov r0, 1\nexit\n");
  const ProcessResult r = run_process({kBpfdiff, "repro", file, "--write-object", dir.path() + "/x.o"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("no elf_gen input"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bpfdiff::cli::testing
