#include "vm/text/operand_parser.hpp"

#include <string>

#include "vm/isa/raw.hpp"

namespace bpfdiff::text::detail {
namespace {

class Parser {
 public:
  explicit Parser(std::span<const Token> tokens) : tokens_(tokens) {}

  std::optional<TextError> list(std::vector<ParsedOperand>& out) {
    out.clear();
    if (at_end()) return std::nullopt;
    for (;;) {
      ParsedOperand op;
      if (auto err = one(op, true)) return err;
      out.push_back(std::move(op));
      if (at_end()) return std::nullopt;
      if (!peek().is(',')) return unexpected("expected ','");
      ++pos_;
    }
  }

 private:
  bool at_end() const { return pos_ >= tokens_.size(); }
  const Token& peek() const { return tokens_[pos_]; }
  int end_column() const {
    if (tokens_.empty()) return 1;
    const Token& last = tokens_.back();
    return last.column + static_cast<int>(last.text.size());
  }

  TextError unexpected(const std::string& what) const {
    if (at_end()) return {end_column(), what + " at end of line"};
    return {peek().column, what + ", got '" + std::string(peek().text) + "'"};
  }

  // A number with an optional sign.
  std::optional<TextError> number(Literal& out) {
    if (at_end()) return unexpected("expected a number");
    out = Literal{};
    out.column = peek().column;
    if (peek().is('+') || peek().is('-')) {
      out.negative = peek().is('-');
      ++pos_;
      if (at_end() || peek().kind != TokenKind::Number) return unexpected("expected a number after the sign");
    }
    if (peek().kind != TokenKind::Number) return unexpected("expected a number");
    const auto magnitude = parse_magnitude(peek().text);
    if (!magnitude) return TextError{peek().column, "invalid number '" + std::string(peek().text) + "'"};
    out.magnitude = *magnitude;
    ++pos_;
    return std::nullopt;
  }

  std::optional<TextError> memory(ParsedOperand& op) {
    op.kind = ParsedOperand::Kind::Memory;
    ++pos_;  // '['
    if (at_end() || peek().kind != TokenKind::Ident) return unexpected("expected a base register");
    if (auto err = parse_register(peek(), op.reg)) return err;
    ++pos_;
    op.number = Literal{};
    op.number.column = at_end() ? end_column() : peek().column;
    if (!at_end() && (peek().is('+') || peek().is('-'))) {
      if (auto err = number(op.number)) return err;
    }
    if (at_end() || !peek().is(']')) return unexpected("expected ']'");
    ++pos_;
    return std::nullopt;
  }

  std::optional<TextError> pseudo(ParsedOperand& op) {
    op.kind = ParsedOperand::Kind::Pseudo;
    ++pos_;  // '('
    if (!at_end() && peek().is(')')) {
      ++pos_;
      return std::nullopt;
    }
    for (;;) {
      ParsedOperand arg;
      if (auto err = one(arg, false)) return err;
      op.args.push_back(std::move(arg));
      if (at_end()) return unexpected("expected ')'");
      if (peek().is(')')) {
        ++pos_;
        return std::nullopt;
      }
      if (!peek().is(',')) return unexpected("expected ',' or ')'");
      ++pos_;
    }
  }

  // Pseudo arguments are numbers or names only.
  std::optional<TextError> one(ParsedOperand& op, bool top_level) {
    if (at_end()) return unexpected("expected an operand");
    const Token& t = peek();
    op.column = t.column;
    if (t.is('+') || t.is('-') || t.kind == TokenKind::Number) {
      op.kind = ParsedOperand::Kind::Number;
      return number(op.number);
    }
    if (top_level && t.is('[')) return memory(op);
    if (t.kind != TokenKind::Ident) return unexpected("expected an operand");
    if (looks_like_register(t.text)) {
      if (!top_level) return unexpected("expected a number or a label");
      op.kind = ParsedOperand::Kind::Register;
      if (auto err = parse_register(t, op.reg)) return err;
      ++pos_;
      return std::nullopt;
    }
    op.name = t.text;
    op.kind = ParsedOperand::Kind::Name;
    ++pos_;
    if (top_level && !at_end() && peek().is('(')) return pseudo(op);
    return std::nullopt;
  }

  std::span<const Token> tokens_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<TextError> parse_register(const Token& token, uint8_t& reg) {
  const auto n = register_number(token.text);
  if (token.kind != TokenKind::Ident || !n || *n >= static_cast<unsigned>(isa::kNumRegisters)) {
    return TextError{token.column,
                     "unknown register " + std::string(token.text) + " (registers are r0 to r10)"};
  }
  reg = static_cast<uint8_t>(*n);
  return std::nullopt;
}

std::optional<TextError> parse_operands(std::span<const Token> tokens, std::vector<ParsedOperand>& out) {
  return Parser(tokens).list(out);
}

const char* describe(ParsedOperand::Kind kind) {
  switch (kind) {
    case ParsedOperand::Kind::Register:
      return "a register";
    case ParsedOperand::Kind::Number:
      return "a number";
    case ParsedOperand::Kind::Memory:
      return "a memory operand";
    case ParsedOperand::Kind::Name:
      return "a name";
    case ParsedOperand::Kind::Pseudo:
      return "a pseudo form";
  }
  return "an operand";
}

}  // namespace bpfdiff::text::detail
