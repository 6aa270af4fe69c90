#include "vm/text/lexer.hpp"

#include <charconv>
#include <limits>

namespace bpfdiff::text::detail {
namespace {

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '$';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || is_digit(c);
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}
bool is_punct(char c) {
  return c == ',' || c == '[' || c == ']' || c == '+' || c == '-' || c == '(' || c == ')' || c == ':';
}

}  // namespace

std::optional<TextError> tokenize(std::string_view line, std::vector<Token>& out) {
  out.clear();
  std::size_t i = 0;
  const auto col = [](std::size_t pos) { return static_cast<int>(pos) + 1; };
  while (i < line.size()) {
    const char c = line[i];
    if (c == '#' || c == ';') break;
    if (is_space(c)) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    if (is_ident_start(c) || (c == '%' && i + 1 < line.size() && is_ident_start(line[i + 1]))) {
      ++i;
      while (i < line.size() && is_ident_char(line[i]))
        ++i;
      out.push_back({TokenKind::Ident, line.substr(start, i - start), col(start)});
    } else if (is_digit(c)) {
      // Take every alphanumeric character so that "12ab" is reported as one bad number.
      while (i < line.size() && is_ident_char(line[i]) && line[i] != '.')
        ++i;
      out.push_back({TokenKind::Number, line.substr(start, i - start), col(start)});
    } else if (is_punct(c)) {
      ++i;
      out.push_back({TokenKind::Punct, line.substr(start, 1), col(start)});
    } else {
      return TextError{col(start), std::string("unexpected character '") + c + "'"};
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> parse_magnitude(std::string_view digits) {
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  if (digits.empty()) return std::nullopt;
  uint64_t value = 0;
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value, base);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<int64_t> in_range(const Literal& v, int64_t lo, int64_t hi) {
  constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;  // |INT64_MIN|
  int64_t x = 0;
  if (v.negative) {
    if (v.magnitude > kMinMagnitude) return std::nullopt;
    x = v.magnitude == kMinMagnitude ? std::numeric_limits<int64_t>::min()
                                     : -static_cast<int64_t>(v.magnitude);
  } else {
    if (v.magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    x = static_cast<int64_t>(v.magnitude);
  }
  if (x < lo || x > hi) return std::nullopt;
  return x;
}

std::optional<int32_t> to_imm32(const Literal& v) {
  const auto x = in_range(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<uint32_t>::max());
  if (!x) return std::nullopt;
  return static_cast<int32_t>(static_cast<uint32_t>(*x));
}

std::optional<uint64_t> to_imm64(const Literal& v) {
  if (!v.negative) return v.magnitude;
  if (v.magnitude > (uint64_t{1} << 63)) return std::nullopt;
  return uint64_t{0} - v.magnitude;
}

bool looks_like_register(std::string_view word) {
  if (!word.empty() && word[0] == '%') return true;  // '%' only ever introduces a register
  if (word.size() < 2 || word[0] != 'r') return false;
  for (std::size_t i = 1; i < word.size(); ++i) {
    if (!is_digit(word[i])) return false;
  }
  return true;
}

std::optional<unsigned> register_number(std::string_view word) {
  if (!word.empty() && word[0] == '%') word.remove_prefix(1);
  if (word.size() < 2 || word.size() > 3 || word[0] != 'r') return std::nullopt;
  unsigned n = 0;
  const char* end = word.data() + word.size();
  const auto [ptr, ec] = std::from_chars(word.data() + 1, end, n);
  if (ec != std::errc() || ptr != end || n > 15) return std::nullopt;
  return n;
}

}  // namespace bpfdiff::text::detail
