// The data-driven tests: every .data file of corpus/conformance (shared with
// other runtimes), corpus/regressions (minimized findings) and tests/vm/data
// (the bpfdiff extensions: run modes, maps) is assembled, validated and run
// on the engine under test with its run mode, maps, budget and call depth, and its r0 or
// error checked. One test case per file, named after it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/vm/engine_under_test.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/std_helpers.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/data_file.hpp"

#ifndef BPFDIFF_CONFORMANCE_DIR
#error "BPFDIFF_CONFORMANCE_DIR must name the corpus/conformance directory"
#endif
#ifndef BPFDIFF_REGRESSIONS_DIR
#error "BPFDIFF_REGRESSIONS_DIR must name the corpus/regressions directory"
#endif
#ifndef BPFDIFF_VM_DATA_DIR
#error "BPFDIFF_VM_DATA_DIR must name the tests/vm/data directory"
#endif

namespace bpfdiff::test {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> data_files(const char* dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".data") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string test_name(const fs::path& p) {
  std::string s = p.stem().string();
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ConformanceCorpus, IsNotEmpty) {
  EXPECT_FALSE(data_files(BPFDIFF_CONFORMANCE_DIR).empty()) << BPFDIFF_CONFORMANCE_DIR;
  EXPECT_FALSE(data_files(BPFDIFF_REGRESSIONS_DIR).empty()) << BPFDIFF_REGRESSIONS_DIR;
  EXPECT_FALSE(data_files(BPFDIFF_VM_DATA_DIR).empty()) << BPFDIFF_VM_DATA_DIR;
}

// The run input a test's `-- mode` asks for, over `memory` and `metadata`.
vm::RunInput run_input_of(const text::DataTest& test, std::vector<uint8_t>& memory,
                          std::vector<uint8_t>& metadata) {
  const text::DataRunMode mode = test.run_mode.value_or(text::DataRunMode{});
  vm::RunInput input{mode.mode, memory};
  if (mode.mode == vm::RunMode::MetaBuffer) {
    metadata.assign(mode.mbuff_size, 0);
    input.metadata = metadata;
    input.data_offset = mode.data_offset;
    input.data_end_offset = mode.data_end_offset;
  }
  return input;
}

class Conformance : public ::testing::TestWithParam<fs::path> {};

TEST_P(Conformance, MatchesTheExpectedResult) {
  const fs::path& path = GetParam();
  auto test = text::parse_data_test(read_file(path));
  ASSERT_TRUE(test.ok()) << path << ": " << test.error().message;
  ASSERT_TRUE(test->result.has_value() || test->error.has_value()) << path << ": no -- result or -- error";

  // Every failure stage reports through the same string, so `-- error` can
  // pin an assembler, validator or run-time message.
  std::string failure;
  const vm::HelperRegistry& helpers = vm::standard_helpers();
  vm::Program program;
  if (test->raw) {
    auto p = vm::program_from_bytes(*test->raw);
    if (p.ok()) {
      program = std::move(p.value());
    } else {
      failure = p.error().message;
    }
  } else {
    auto p = text::assemble(test->asm_source, text::AssembleOptions{&helpers});
    if (p.ok()) {
      program = std::move(p.value());
    } else {
      failure = p.error().message;
    }
  }

  program.maps = test->maps;

  vm::RunResult result;
  std::vector<uint8_t> memory = test->memory;
  std::vector<uint8_t> metadata;
  const vm::RunInput input = run_input_of(*test, memory, metadata);
  vm::ExecLimits limits;
  limits.instruction_budget = test->budget.value_or(limits.instruction_budget);
  limits.max_call_depth = test->max_call_depth.value_or(limits.max_call_depth);
  if (failure.empty()) failure = vm::check_run_input(input);
  if (failure.empty()) {
    auto loaded = vm::validate(program, helpers);
    if (!loaded.ok()) {
      failure = loaded.error().message;
    } else {
      EngineUnderTest engine(*loaded, helpers, limits);
      result = engine.run(input);
      if (!result.ok()) failure = vm::describe(result.error);
    }
  }

  if (test->error) {
    EXPECT_FALSE(failure.empty()) << path << ": expected error \"" << *test->error << "\", got r0 = 0x"
                                  << std::hex << result.r0();
    EXPECT_TRUE(contains(failure, *test->error))
        << path << ": expected \"" << *test->error << "\" in \"" << failure << "\"";
  } else {
    EXPECT_EQ(failure, "") << path;
  }
  if (test->result && failure.empty()) {
    EXPECT_EQ(result.r0(), *test->result)
        << path << std::hex << ": r0 = 0x" << result.r0() << ", expected 0x" << *test->result;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, Conformance, ::testing::ValuesIn(data_files(BPFDIFF_CONFORMANCE_DIR)),
                         [](const auto& p) { return test_name(p.param); });
INSTANTIATE_TEST_SUITE_P(Regressions, Conformance, ::testing::ValuesIn(data_files(BPFDIFF_REGRESSIONS_DIR)),
                         [](const auto& p) { return test_name(p.param); });
INSTANTIATE_TEST_SUITE_P(Extensions, Conformance, ::testing::ValuesIn(data_files(BPFDIFF_VM_DATA_DIR)),
                         [](const auto& p) { return test_name(p.param); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);

}  // namespace
}  // namespace bpfdiff::test
