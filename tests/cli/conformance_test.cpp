// Every corpus/conformance/*.data file run through bpfdiff-plugin the way the
// bpf_conformance runner does it: assemble (or take `-- raw`), pass memory as
// one "aa  bb  " argument and the program as hex on stdin, then compare r0
// with `-- result`, or expect a non-zero exit and the `-- error` text.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <set>

#include "tests/cli/process.hpp"
#include "vm/isa/raw.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::cli::testing {
namespace {

namespace fs = std::filesystem;

const std::string kPlugin = BPFDIFF_PLUGIN_BIN;

// BPFDIFF_CONFORMANCE_DIR in the environment points the runner at another
// corpus, e.g. the tests directory of an upstream bpf_conformance checkout.
fs::path corpus_dir() {
  const char* env = std::getenv("BPFDIFF_CONFORMANCE_DIR");
  return env != nullptr && *env != '\0' ? fs::path(env) : fs::path(BPFDIFF_CONFORMANCE_DIR);
}

struct CorpusCase {
  fs::path path;
  std::string name;  // the file's stem as a test name, unique in the corpus
};

std::ostream& operator<<(std::ostream& os, const CorpusCase& c) {
  return os << c.path.string();
}

std::vector<CorpusCase> corpus_cases() {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(corpus_dir(), ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".data") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<CorpusCase> cases;
  std::set<std::string> taken;
  for (const fs::path& file : files) {
    std::string name = file.stem().string();
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    std::string unique = name;
    for (int n = 2; !taken.insert(unique).second; ++n)
      unique = name + "_" + std::to_string(n);
    cases.push_back(CorpusCase{file, unique});
  }
  return cases;
}

// As bpf_conformance encodes bytes: two digits and two spaces each.
std::string base16(const std::vector<uint8_t>& bytes) {
  std::string out;
  char buf[8];
  for (uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x  ", b);
    out += buf;
  }
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
    ++i;
  return s.substr(i);
}

TEST(ConformanceCorpus, IsNotEmpty) {
  EXPECT_FALSE(corpus_cases().empty()) << "no .data files in " << corpus_dir();
}

class Conformance : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(Conformance, PluginMatchesExpectation) {
  std::ifstream in(GetParam().path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto test = text::parse_data_test(text);
  ASSERT_TRUE(test.ok()) << test.error().message;

  std::vector<uint8_t> code;
  if (test->raw) {
    code = *test->raw;
  } else {
    auto program = text::assemble(test->asm_source);
    ASSERT_TRUE(program.ok()) << "assembly failed: " << program.error().message;
    code = isa::encode_slots(program->slots);
  }
  if (code.empty()) GTEST_SKIP() << "no instructions (bpf_conformance skips these too)";

  std::vector<std::string> argv = {kPlugin};
  if (!test->memory.empty()) argv.push_back(base16(test->memory));
  const ProcessResult r = run_process(argv, base16(code) + "\n");

  if (test->error) {
    EXPECT_NE(r.exit_code, 0) << "expected error '" << *test->error << "', got output " << r.out;
    EXPECT_NE(r.out.find(trimmed(*test->error)), std::string::npos)
        << "expected error '" << trimmed(*test->error) << "', got output '" << r.out << "'";
    return;
  }
  const uint64_t expected = test->result.value_or(0);
  ASSERT_EQ(r.exit_code, 0) << "plugin failed: " << r.out << r.err;
  const std::string out = trimmed(r.out);
  ASSERT_EQ(out.rfind("0x", 0), 0u) << "not a hex value: '" << out << "'";
  std::size_t used = 0;
  const uint64_t got = std::stoull(out, &used, 16);
  EXPECT_EQ(used, out.size()) << "trailing output: '" << out << "'";
  EXPECT_EQ(got, expected) << "got " << out << ", expected 0x" << std::hex << expected;
}

std::string test_name(const ::testing::TestParamInfo<CorpusCase>& info) {
  return info.param.name;
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);
INSTANTIATE_TEST_SUITE_P(Corpus, Conformance, ::testing::ValuesIn(corpus_cases()), test_name);

}  // namespace
}  // namespace bpfdiff::cli::testing
