#include "oracle/run/hex.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "vm/text/data_file.hpp"

namespace bpfdiff::cli {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}
bool is_hex_digit(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

}  // namespace

std::string hex_u64(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string hex_compact(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

std::string hex_spaced(std::span<const uint8_t> bytes, std::string_view separator) {
  std::string out;
  out.reserve(bytes.size() * (2 + separator.size()));
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
    out += separator;
  }
  return out;
}

Result<std::vector<uint8_t>> parse_hex_arg(std::string_view text) {
  const bool separated = std::any_of(text.begin(), text.end(), is_space);
  if (separated || text.size() <= 2) return text::parse_hex_bytes(text);
  if (text.size() % 2 != 0 || !std::all_of(text.begin(), text.end(), is_hex_digit)) {
    return make_error("bad hex bytes '" + std::string(text) +
                      "': expected digit pairs (aabb0c) or bytes separated by spaces (aa bb 0c)");
  }
  std::vector<uint8_t> out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(digit_value(text[i]) * 16 + digit_value(text[i + 1])));
  }
  return out;
}

}  // namespace bpfdiff::cli
