#pragma once
// Internal to the text library: the operand list of one instruction, parsed
// from tokens into a small tree before any form is chosen. Choosing the form
// by operand *shape* (add r1, 5 vs add r1, r2) needs the whole list first.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "vm/text/lexer.hpp"

namespace bpfdiff::text::detail {

struct ParsedOperand {
  enum class Kind : uint8_t {
    Register,  // r1, %r1 (0..10; anything else is rejected while parsing)
    Number,    // 5, -1, +3, 0x10
    Memory,    // [r1], [r1+4], [r1 - 0x8]
    Name,      // a label or helper name
    Pseudo,    // name(arg, ...), the lddw pseudo forms
  };
  Kind kind = Kind::Number;
  int column = 0;
  uint8_t reg = 0;                  // Register; Memory base
  Literal number;                   // Number; Memory offset
  std::string_view name;            // Name; Pseudo name
  std::vector<ParsedOperand> args;  // Pseudo arguments (Number or Name)
};

// Parses comma-separated operands from `tokens` to the end.
std::optional<TextError> parse_operands(std::span<const Token> tokens, std::vector<ParsedOperand>& out);

// Parses a register token (r0..r10 or %r0..%r10).
std::optional<TextError> parse_register(const Token& token, uint8_t& reg);

const char* describe(ParsedOperand::Kind kind);

}  // namespace bpfdiff::text::detail
