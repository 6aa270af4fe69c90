// The raw targets' dictionaries (fuzz/dict/*.dict) stay in step with the
// instruction table: every form has a whole instruction there, and every
// entry parses as libFuzzer and AFL++ read them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vm/isa/raw.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// name="..." with \xNN and \\ / \" escapes, as libFuzzer's ParseDictionaryFile.
std::optional<std::vector<uint8_t>> parse_entry(const std::string& line) {
  const std::size_t open = line.find('"');
  if (open == std::string::npos || line.back() != '"' || open + 1 >= line.size()) return std::nullopt;
  std::vector<uint8_t> out;
  for (std::size_t i = open + 1; i + 1 < line.size(); ++i) {
    if (line[i] != '\\') {
      out.push_back(static_cast<uint8_t>(line[i]));
      continue;
    }
    if (i + 1 >= line.size() - 1) return std::nullopt;
    if (line[i + 1] == 'x') {
      if (i + 3 >= line.size()) return std::nullopt;
      const int hi = hex_digit(line[i + 2]);
      const int lo = hex_digit(line[i + 3]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<uint8_t>(hi * 16 + lo));
      i += 3;
    } else {
      out.push_back(static_cast<uint8_t>(line[i + 1]));
      ++i;
    }
  }
  return out;
}

TEST(Dictionary, EveryRawTargetDictionaryHasEveryFormAndParses) {
  std::size_t dictionaries = 0;
  for (const auto& e : std::filesystem::directory_iterator(BPFDIFF_DICT_DIR)) {
    if (e.path().extension() != ".dict") continue;
    ++dictionaries;
    std::ifstream in(e.path());
    std::set<isa::Form> forms;
    std::size_t entries = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      const auto bytes = parse_entry(line);
      ASSERT_TRUE(bytes) << e.path() << ": " << line;
      ++entries;
      if (line.rfind("insn_", 0) != 0) continue;
      ASSERT_GE(bytes->size(), isa::kSlotBytes) << line;
      const isa::RawInsn insn =
          isa::decode_slot(std::span<const uint8_t, isa::kSlotBytes>(bytes->data(), isa::kSlotBytes));
      const auto form = isa::find_form(insn);
      ASSERT_TRUE(form) << line;
      EXPECT_EQ("insn_" + std::string(isa::info(*form).name), line.substr(0, line.find('='))) << line;
      forms.insert(*form);
    }
    EXPECT_EQ(forms.size(), isa::kNumForms) << e.path();
    EXPECT_GT(entries, isa::kNumForms);
  }
  EXPECT_EQ(dictionaries, 3u);  // interp_raw, interp_vs_jit_raw, jit_decode
}

}  // namespace
}  // namespace bpfdiff::fuzz
