#include "vm/text/data_file.hpp"

#include <charconv>
#include <cstdio>

#include "vm/text/data_setup.hpp"
#include "vm/text/lexer.hpp"

namespace bpfdiff::text {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// Whitespace-separated words of `text`.
template <class Fn>
bool for_each_word(std::string_view text, Fn&& fn) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i]))
      ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i]))
      ++i;
    if (i > start && !fn(text.substr(start, i - start))) return false;
  }
  return true;
}

std::string_view strip_hex_prefix(std::string_view word, bool& had_prefix) {
  had_prefix = word.size() >= 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X');
  if (had_prefix) word.remove_prefix(2);
  return word;
}

std::optional<uint64_t> parse_hex(std::string_view digits) {
  uint64_t v = 0;
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, v, 16);
  if (digits.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

// "-- raw" holds bytes ("b7 00 ...") or, as in uBPF's test files, one 64-bit
// little-endian slot per word ("0x00000000000000b7").
Result<std::vector<uint8_t>> parse_raw_words(std::string_view text) {
  std::vector<uint8_t> out;
  std::string bad;
  for_each_word(text, [&](std::string_view word) {
    bool prefixed = false;
    const std::string_view digits = strip_hex_prefix(word, prefixed);
    const auto v = digits.size() <= 16 ? parse_hex(digits) : std::nullopt;
    if (!v || (digits.size() > 2 && !prefixed)) {
      bad = std::string(word);
      return false;
    }
    const int n = digits.size() > 2 ? 8 : 1;
    for (int i = 0; i < n; ++i)
      out.push_back(static_cast<uint8_t>(*v >> (8 * i)));
    return true;
  });
  if (!bad.empty())
    return make_error("invalid raw word '" + bad + "': expected a hex byte or a 0x 64-bit slot");
  return out;
}

Result<uint64_t> parse_result(std::string_view text) {
  const std::string_view s = trim(text);
  if (s.empty()) return make_error("empty result");
  detail::Literal lit;
  std::string_view digits = s;
  if (digits[0] == '-' || digits[0] == '+') {
    lit.negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  const auto magnitude = detail::parse_magnitude(digits);
  if (!magnitude) return make_error("invalid result '" + std::string(s) + "': expected a number");
  lit.magnitude = *magnitude;
  const auto v = detail::to_imm64(lit);
  if (!v) return make_error("result '" + std::string(s) + "' is out of the 64-bit range");
  return *v;
}

// "# KEY N" (N a positive number) gives N; other comments, "# budget of
// the loop" among them, give nullopt.
std::optional<uint64_t> number_comment(std::string_view comment, std::string_view key) {
  comment = trim(comment.substr(1));
  const std::string kKey = std::string(key) + " ";
  if (comment.substr(0, kKey.size()) != kKey) return std::nullopt;
  const auto value = detail::parse_magnitude(trim(comment.substr(kKey.size())));
  if (!value || *value == 0) return std::nullopt;
  return value;
}

enum class Section : uint8_t { None, Asm, Raw, Mem, Result, Error, Mode, MapDef, Ignored, Count };

// "map-def NAME" (or "map-def" alone) starts a map; everything else by name.
Section section_named(std::string_view name) {
  if (name == "map-def" || name.substr(0, 8) == "map-def ") return Section::MapDef;
  if (name == "mode") return Section::Mode;
  if (name == "asm") return Section::Asm;
  if (name == "raw") return Section::Raw;
  if (name == "mem") return Section::Mem;
  if (name == "result") return Section::Result;
  if (name == "error") return Section::Error;
  return Section::Ignored;  // "-- map", "-- no register offset", "-- c", ...
}

void append_hex_lines(std::string& out, const std::vector<uint8_t>& bytes, std::size_t per_line) {
  char buf[4];
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%02x", bytes[i]);
    out += buf;
    out += (i + 1) % per_line == 0 || i + 1 == bytes.size() ? '\n' : ' ';
  }
}

}  // namespace

Result<std::vector<uint8_t>> parse_hex_bytes(std::string_view text) {
  std::vector<uint8_t> out;
  std::string bad;
  std::size_t index = 0;
  for_each_word(text, [&](std::string_view word) {
    ++index;
    bool prefixed = false;
    const std::string_view digits = strip_hex_prefix(word, prefixed);
    const auto v = digits.size() <= 2 ? parse_hex(digits) : std::nullopt;
    if (!v) {
      bad = std::string(word);
      return false;
    }
    out.push_back(static_cast<uint8_t>(*v));
    return true;
  });
  if (!bad.empty()) {
    return make_error("invalid hex byte '" + bad + "' (word " + std::to_string(index) +
                      "): expected one or two hex digits, optionally prefixed by 0x");
  }
  return out;
}

Result<DataTest> parse_data_test(std::string_view text) {
  DataTest test;
  Section section = Section::None;
  bool seen[static_cast<std::size_t>(Section::Count)] = {};
  detail::ModeSection mode;
  std::string raw_text;
  int line_no = 0;
  const auto at = [&](const std::string& message) {
    return make_error("line " + std::to_string(line_no) + ": " + message);
  };

  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    if (line.substr(0, 2) == "--") {
      const std::string_view name = trim(line.substr(2));
      section = section_named(name);
      const auto index = static_cast<std::size_t>(section);
      if (section != Section::Ignored && section != Section::MapDef && seen[index])
        return at("duplicate section '" + std::string(line) + "'");
      seen[index] = true;
      if (section == Section::Error) test.error.emplace();
      if (section == Section::MapDef) test.maps.emplace_back().name = std::string(trim(name.substr(7)));
      continue;
    }
    if (section == Section::Asm) {
      test.asm_source.append(line);
      test.asm_source += '\n';
      continue;
    }
    if (section == Section::None && trim(line).substr(0, 1) == "#") {
      if (const auto budget = number_comment(trim(line), "budget")) test.budget = budget;
      const auto depth = number_comment(trim(line), "max-call-depth");
      if (depth && *depth <= UINT32_MAX) test.max_call_depth = static_cast<uint32_t>(*depth);
      continue;
    }
    if (trim(line).empty() || trim(line).front() == '#') continue;
    switch (section) {
      case Section::Raw:
        raw_text.append(line);
        raw_text += '\n';
        break;
      case Section::Mem: {
        auto bytes = parse_hex_bytes(line);
        if (!bytes) return at(bytes.error().message);
        test.memory.insert(test.memory.end(), bytes->begin(), bytes->end());
        break;
      }
      case Section::Result: {
        if (test.result) return at("more than one result");
        auto value = parse_result(line);
        if (!value) return at(value.error().message);
        test.result = *value;
        break;
      }
      case Section::Error:
        if (!test.error->empty()) *test.error += '\n';
        test.error->append(trim(line));
        break;
      case Section::Mode:
        if (auto r = detail::parse_mode_line(trim(line), mode); !r)
          return at("-- mode: " + r.error().message);
        break;
      case Section::MapDef:
        if (auto r = detail::parse_map_line(trim(line), test.maps.back()); !r) {
          return at("-- map-def " + test.maps.back().name + ": " + r.error().message);
        }
        break;
      case Section::None:
      case Section::Asm:
      case Section::Ignored:
      case Section::Count:
        break;
    }
  }
  if (seen[static_cast<std::size_t>(Section::Mode)]) {
    if (!mode.named) return make_error("-- mode is empty: expected memory, none, packet or mbuff");
    test.run_mode = mode.mode;
  }
  if (auto r = vm::check_maps(test.maps); !r) return make_error("-- map-def: " + r.error().message);
  if (seen[static_cast<std::size_t>(Section::Raw)]) {
    auto bytes = parse_raw_words(raw_text);
    if (!bytes) return make_error("-- raw: " + bytes.error().message);
    test.raw = std::move(*bytes);
  }
  if (seen[static_cast<std::size_t>(Section::Result)] && !test.result)
    return make_error("-- result is empty");
  return test;
}

const char* run_mode_name(vm::RunMode mode) {
  switch (mode) {
    case vm::RunMode::NoData:
      return "none";
    case vm::RunMode::Memory:
      return "memory";
    case vm::RunMode::Packet:
      return "packet";
    case vm::RunMode::MetaBuffer:
      return "mbuff";
  }
  return "?";
}

std::optional<vm::RunMode> run_mode_named(std::string_view name) {
  for (const vm::RunMode m :
       {vm::RunMode::NoData, vm::RunMode::Memory, vm::RunMode::Packet, vm::RunMode::MetaBuffer}) {
    if (name == run_mode_name(m)) return m;
  }
  return std::nullopt;
}

std::string format_data_test(const DataTest& test) {
  std::string out;
  if (test.run_mode) detail::append_mode_section(out, *test.run_mode);
  for (const vm::MapDef& map : test.maps)
    detail::append_map_section(out, map);
  if (!test.asm_source.empty()) {
    out += "-- asm\n";
    out += test.asm_source;
    if (out.back() != '\n') out += '\n';
  }
  if (test.raw) {
    out += "-- raw\n";
    append_hex_lines(out, *test.raw, 8);
  }
  if (!test.memory.empty()) {
    out += "-- mem\n";
    append_hex_lines(out, test.memory, 16);
  }
  if (test.result) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx\n", static_cast<unsigned long long>(*test.result));
    out += "-- result\n";
    out += buf;
  }
  if (test.error) {
    out += "-- error\n";
    if (!test.error->empty()) out += *test.error + "\n";
  }
  return out;
}

}  // namespace bpfdiff::text
