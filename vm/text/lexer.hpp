#pragma once
// Internal to the text library: one line of assembly split into tokens, and
// the integer literal rules shared by operands and directives. Nothing here
// throws; every failure is a TextError naming the 1-based column.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfdiff::text::detail {

struct TextError {
  int column = 0;
  std::string message;
};

enum class TokenKind : uint8_t {
  Ident,   // mnemonic word, register, label, pseudo name (may start with '%' or '.')
  Number,  // starts with a digit; validated when converted
  Punct,   // one of , [ ] + - ( ) :
};

struct Token {
  TokenKind kind = TokenKind::Punct;
  std::string_view text;
  int column = 0;  // 1-based

  bool is(char c) const { return kind == TokenKind::Punct && text.size() == 1 && text[0] == c; }
};

// The tokens of one line; a '#' or ';' starts a comment that runs to the end of the line.
std::optional<TextError> tokenize(std::string_view line, std::vector<Token>& out);

// An integer as written: sign and magnitude, so each use can apply its own range.
struct Literal {
  bool negative = false;
  uint64_t magnitude = 0;
  int column = 0;  // of the sign, or of the digits when unsigned
};

// Decimal or 0x-prefixed hexadecimal digits; nullopt when malformed or above 2^64-1.
std::optional<uint64_t> parse_magnitude(std::string_view digits);

// The literal's value if it lies in [lo, hi].
std::optional<int64_t> in_range(const Literal& v, int64_t lo, int64_t hi);

// A 32-bit immediate: any value in [INT32_MIN, UINT32_MAX], stored as two's complement.
std::optional<int32_t> to_imm32(const Literal& v);

// A 64-bit immediate: any value in [INT64_MIN, UINT64_MAX], stored as two's complement.
std::optional<uint64_t> to_imm64(const Literal& v);

// Register spelling: r0..r15 or %r0..%r15 gives the number (which may exceed 10,
// so the caller can name it in the error); nullopt when the word is no register.
std::optional<unsigned> register_number(std::string_view word);
bool looks_like_register(std::string_view word);

}  // namespace bpfdiff::text::detail
