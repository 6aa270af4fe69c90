#include "vm/text/assembler.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vm/isa/encode.hpp"
#include "vm/isa/table.hpp"
#include "vm/text/lexer.hpp"
#include "vm/text/operand_parser.hpp"
#include "vm/text/syntax.hpp"

namespace bpfdiff::text {
namespace {

using detail::Literal;
using detail::Operand;
using detail::ParsedOperand;
using detail::TextError;
using detail::Token;
using detail::TokenKind;
using Kind = ParsedOperand::Kind;

constexpr std::size_t kMaxMnemonicWords = 3;  // "lock fetch add32"

// Every spelling the assembler accepts, each mapped to the forms it may mean;
// operand shape then picks one. Derived from the table: row mnemonics plus
// aliases that follow from a row's semantics, never from opcode numbers.
class MnemonicIndex {
 public:
  MnemonicIndex() {
    for (const isa::FormInfo& f : isa::all_forms()) {
      const std::string m(f.mnemonic);
      add(m, f.form);
      const bool wide_alu = f.sem.family == isa::Family::Alu && f.sem.width == isa::Width::W64;
      const bool wide_jump = f.sem.family == isa::Family::Jump && f.sem.width == isa::Width::W64;
      if (wide_alu || wide_jump) add(m + "64", f.form);  // add64, jeq64, ...
      if (f.sem.family == isa::Family::Endian && f.sem.endian == isa::EndianOp::Bswap) {
        add("swap" + std::to_string(f.sem.endian_bits), f.form);
      }
      if (f.sem.family == isa::Family::Call && f.sem.call == isa::CallKind::Helper)
        add(m + " helper", f.form);
      if (f.sem.family == isa::Family::Call && f.sem.call == isa::CallKind::Indirect) add("call", f.form);
    }
  }

  const std::vector<isa::Form>* find(const std::string& spelling) const {
    auto it = forms_.find(spelling);
    return it == forms_.end() ? nullptr : &it->second;
  }

  // True when some spelling has more words after `prefix` ("lock" -> "lock add").
  bool is_prefix(const std::string& prefix) const {
    auto it = forms_.lower_bound(prefix + " ");
    return it != forms_.end() && it->first.compare(0, prefix.size() + 1, prefix + " ") == 0;
  }

 private:
  void add(const std::string& spelling, isa::Form form) {
    auto& v = forms_[spelling];
    for (isa::Form f : v) {
      if (f == form) return;
    }
    v.push_back(form);
  }
  std::map<std::string, std::vector<isa::Form>> forms_;
};

const MnemonicIndex& mnemonics() {
  static const MnemonicIndex index;
  return index;
}

bool shape_matches(Operand want, const isa::FormInfo& fi, const ParsedOperand& op) {
  switch (want) {
    case Operand::Dst:
    case Operand::Src:
      return op.kind == Kind::Register;
    case Operand::Imm:
      return op.kind == Kind::Number;
    case Operand::OffTarget:
    case Operand::ImmTarget:
    case Operand::Helper:
      return op.kind == Kind::Number || op.kind == Kind::Name;
    case Operand::MemDst:
    case Operand::MemSrc:
      return op.kind == Kind::Memory;
    case Operand::Lddw: {
      const detail::LddwPseudo p = detail::lddw_pseudo(fi.sem.lddw);
      if (p.name.empty()) return op.kind == Kind::Number;
      return op.kind == Kind::Pseudo && op.name == p.name;
    }
  }
  return false;
}

// How many leading operands fit the form (== size when all do).
std::size_t matching_prefix(const isa::FormInfo& fi, const std::vector<ParsedOperand>& ops) {
  const auto want = detail::operands_of(fi.syntax);
  std::size_t i = 0;
  while (i < want.size() && i < ops.size() && shape_matches(want[i], fi, ops[i]))
    ++i;
  return i;
}

class Assembler {
 public:
  explicit Assembler(const AssembleOptions& options) : options_(options) {}

  Result<vm::Program> run(std::string_view source) {
    int line_no = 0;
    while (!source.empty()) {
      const std::size_t nl = source.find('\n');
      const std::string_view line = source.substr(0, nl);
      source = nl == std::string_view::npos ? std::string_view() : source.substr(nl + 1);
      ++line_no;
      line_ = line_no;
      if (auto err = assemble_line(line)) return fail(*err);
    }
    for (const Fixup& f : fixups_) {
      line_ = f.line;
      if (auto err = resolve(f)) return fail(*err);
    }
    vm::Program program;
    program.slots = std::move(slots_);
    return program;
  }

 private:
  struct Fixup {
    std::size_t slot = 0;   // the instruction whose field gets the offset
    bool into_off = false;  // off (ja, conditional jumps) or imm (gotol, call local, lddw code)
    std::string label;
    int line = 0;
    int column = 0;
  };

  Error fail(const TextError& err) const {
    return make_error("line " + std::to_string(line_) + ", column " + std::to_string(err.column) + ": " +
                      err.message);
  }

  std::optional<TextError> assemble_line(std::string_view line) {
    if (auto err = detail::tokenize(line, tokens_)) return err;
    std::span<const Token> rest(tokens_);
    // Labels: "name:" any number of times before an optional instruction.
    while (rest.size() >= 2 && rest[0].kind == TokenKind::Ident && rest[1].is(':')) {
      if (auto err = define_label(rest[0])) return err;
      rest = rest.subspan(2);
    }
    if (rest.empty()) return std::nullopt;
    if (rest[0].kind != TokenKind::Ident) {
      return TextError{rest[0].column, "expected a mnemonic, got '" + std::string(rest[0].text) + "'"};
    }
    if (rest[0].text[0] == '.') return directive(rest);
    return instruction(rest);
  }

  std::optional<TextError> define_label(const Token& t) {
    if (detail::looks_like_register(t.text)) {
      return TextError{t.column, "'" + std::string(t.text) + "' is a register and cannot be a label"};
    }
    const auto [it, inserted] = labels_.emplace(std::string(t.text), LabelDef{slots_.size(), line_});
    if (!inserted) {
      return TextError{t.column, "duplicate label '" + std::string(t.text) + "' (first defined on line " +
                                     std::to_string(it->second.line) + ")"};
    }
    return std::nullopt;
  }

  // .slot OPCODE, DST, SRC, OFF, IMM: one raw slot, verbatim.
  std::optional<TextError> directive(std::span<const Token> tokens) {
    const Token& head = tokens[0];
    if (head.text != ".slot")
      return TextError{head.column, "unknown directive '" + std::string(head.text) + "'"};
    std::vector<ParsedOperand> ops;
    if (auto err = detail::parse_operands(tokens.subspan(1), ops)) return err;
    if (ops.size() != 5) {
      const int col = ops.size() > 5 ? ops[5].column : head.column;
      return TextError{col, ".slot takes 5 numbers: opcode, dst, src, off, imm"};
    }
    static constexpr const char* kFields[] = {"opcode", "dst", "src", "off", "imm"};
    static constexpr int64_t kLo[] = {0, 0, 0, std::numeric_limits<int16_t>::min(),
                                      std::numeric_limits<int32_t>::min()};
    static constexpr int64_t kHi[] = {0xff, 0xf, 0xf, std::numeric_limits<uint16_t>::max(),
                                      std::numeric_limits<uint32_t>::max()};
    int64_t v[5] = {};
    for (std::size_t i = 0; i < 5; ++i) {
      if (ops[i].kind != Kind::Number) {
        return TextError{ops[i].column, std::string(".slot ") + kFields[i] + " must be a number"};
      }
      const auto x = detail::in_range(ops[i].number, kLo[i], kHi[i]);
      if (!x) {
        return TextError{ops[i].column, std::string(".slot ") + kFields[i] + " out of range [" +
                                            std::to_string(kLo[i]) + ", " + std::to_string(kHi[i]) + "]"};
      }
      v[i] = *x;
    }
    isa::RawInsn insn;
    insn.opcode = static_cast<uint8_t>(v[0]);
    insn.dst = static_cast<uint8_t>(v[1]);
    insn.src = static_cast<uint8_t>(v[2]);
    insn.off = static_cast<int16_t>(static_cast<uint16_t>(v[3]));
    insn.imm = static_cast<int32_t>(static_cast<uint32_t>(v[4]));
    return emit(insn, head.column);
  }

  std::optional<TextError> emit(const isa::RawInsn& insn, int column) {
    if (slots_.size() >= vm::kMaxProgramSlots) {
      return TextError{column, "program exceeds " + std::to_string(vm::kMaxProgramSlots) + " slots"};
    }
    slots_.push_back(insn);
    return std::nullopt;
  }

  std::optional<TextError> instruction(std::span<const Token> tokens) {
    // The longest run of leading words that spells a mnemonic.
    std::size_t words = 0;
    while (words < tokens.size() && words < kMaxMnemonicWords && tokens[words].kind == TokenKind::Ident)
      ++words;
    const std::vector<isa::Form>* forms = nullptr;
    std::string spelling;
    for (std::size_t n = words; n > 0 && forms == nullptr; --n) {
      spelling.clear();
      for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) spelling += ' ';
        spelling += tokens[i].text;
      }
      forms = mnemonics().find(spelling);
      if (forms != nullptr) words = n;
    }
    if (forms == nullptr) {
      std::string shown(tokens[0].text);
      if (words > 1 && mnemonics().is_prefix(shown)) shown += " " + std::string(tokens[1].text);
      return TextError{tokens[0].column, "unknown mnemonic '" + shown + "'"};
    }
    std::vector<ParsedOperand> ops;
    if (auto err = detail::parse_operands(tokens.subspan(words), ops)) return err;
    const isa::FormInfo* chosen = nullptr;
    if (auto err = choose_form(*forms, spelling, tokens[0].column, ops, chosen)) return err;
    return encode(*chosen, ops, tokens[0].column);
  }

  std::optional<TextError> choose_form(const std::vector<isa::Form>& forms, const std::string& spelling,
                                       int mnemonic_column, const std::vector<ParsedOperand>& ops,
                                       const isa::FormInfo*& chosen) const {
    std::size_t best = 0;
    std::size_t most_operands = 0;
    bool count_fits = false;
    std::string expected;
    for (isa::Form f : forms) {
      const isa::FormInfo& fi = isa::info(f);
      const std::size_t want = detail::operands_of(fi.syntax).size();
      const std::size_t prefix = matching_prefix(fi, ops);
      most_operands = std::max(most_operands, want);
      if (want == ops.size() && prefix == want) {
        chosen = &fi;
        return std::nullopt;
      }
      if (want == ops.size()) {
        count_fits = true;
        best = std::max(best, prefix);
      }
      if (!expected.empty()) expected += "' or '";
      expected += detail::usage(fi);
    }
    if (const auto err = pseudo_error(forms, ops)) return err;
    if (!count_fits) {
      // Too many: point at the first extra operand; too few: at the mnemonic.
      const int col = ops.size() > most_operands ? ops[most_operands].column : mnemonic_column;
      return TextError{col, "wrong number of operands for '" + spelling + "': expected '" + expected + "'"};
    }
    return TextError{ops[best].column, "invalid operand for '" + spelling + "': got " +
                                           detail::describe(ops[best].kind) + ", expected '" + expected +
                                           "'"};
  }

  // A clearer message than "invalid operand" for misspelt lddw pseudo forms.
  static std::optional<TextError> pseudo_error(const std::vector<isa::Form>& forms,
                                               const std::vector<ParsedOperand>& ops) {
    for (const ParsedOperand& op : ops) {
      if (op.kind != Kind::Pseudo) continue;
      std::string known;
      for (isa::Form f : forms) {
        const isa::FormInfo& fi = isa::info(f);
        if (fi.syntax != isa::Syntax::Lddw) continue;
        const detail::LddwPseudo p = detail::lddw_pseudo(fi.sem.lddw);
        if (p.name.empty()) continue;
        if (p.name == op.name) return std::nullopt;
        known += known.empty() ? "" : ", ";
        known += p.name;
      }
      if (known.empty()) return std::nullopt;
      return TextError{op.column,
                       "unknown lddw pseudo form '" + std::string(op.name) + "' (expected " + known + ")"};
    }
    return std::nullopt;
  }

  struct Fields {
    uint8_t dst = 0;
    uint8_t src = 0;
    int16_t off = 0;
    int32_t imm = 0;
    int32_t next_imm = 0;
  };

  std::optional<TextError> encode(const isa::FormInfo& fi, const std::vector<ParsedOperand>& ops,
                                  int column) {
    Fields f;
    const auto want = detail::operands_of(fi.syntax);
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (auto err = apply(want[i], fi, ops[i], f)) return err;
    }
    if (fi.slots == 2) {
      const auto pair = isa::encode_lddw(fi.form, f.dst, f.imm, f.next_imm);
      if (auto err = emit(pair[0], column)) return err;
      return emit(pair[1], column);
    }
    return emit(isa::encode(fi.form, f.dst, f.src, f.off, f.imm), column);
  }

  std::optional<TextError> apply(Operand want, const isa::FormInfo& fi, const ParsedOperand& op, Fields& f) {
    switch (want) {
      case Operand::Dst:
        f.dst = op.reg;
        return std::nullopt;
      case Operand::Src:
        f.src = op.reg;
        return std::nullopt;
      case Operand::Imm:
        return imm32(op.number, f.imm);
      case Operand::OffTarget:
        return target(op, true, f);
      case Operand::ImmTarget:
        return target(op, false, f);
      case Operand::MemDst:
      case Operand::MemSrc:
        (want == Operand::MemDst ? f.dst : f.src) = op.reg;
        return off16(op.number, f.off);
      case Operand::Helper:
        return helper(op, f.imm);
      case Operand::Lddw:
        return lddw(fi, op, f);
    }
    return std::nullopt;
  }

  static std::optional<TextError> imm32(const Literal& v, int32_t& out) {
    const auto x = detail::to_imm32(v);
    if (!x) return TextError{v.column, "immediate out of range: expected a 32-bit value"};
    out = *x;
    return std::nullopt;
  }

  static std::optional<TextError> off16(const Literal& v, int16_t& out) {
    const auto x =
        detail::in_range(v, std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max());
    if (!x) return TextError{v.column, "offset out of range: expected -32768 to 32767"};
    out = static_cast<int16_t>(*x);
    return std::nullopt;
  }

  // A jump-style target: an explicit +N/-N, or a label resolved once all are known.
  std::optional<TextError> target(const ParsedOperand& op, bool into_off, Fields& f) {
    if (op.kind == Kind::Name) {
      fixups_.push_back(Fixup{slots_.size(), into_off, std::string(op.name), line_, op.column});
      return std::nullopt;
    }
    if (into_off) return off16(op.number, f.off);
    const auto x =
        detail::in_range(op.number, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
    if (!x) return TextError{op.column, "offset out of range: expected a signed 32-bit value"};
    f.imm = static_cast<int32_t>(*x);
    return std::nullopt;
  }

  std::optional<TextError> helper(const ParsedOperand& op, int32_t& imm) const {
    if (op.kind == Kind::Number) return imm32(op.number, imm);
    const vm::HelperSpec* spec = options_.helpers != nullptr ? options_.helpers->find(op.name) : nullptr;
    if (spec == nullptr) return TextError{op.column, "unknown helper '" + std::string(op.name) + "'"};
    imm = static_cast<int32_t>(spec->id);
    return std::nullopt;
  }

  std::optional<TextError> lddw(const isa::FormInfo& fi, const ParsedOperand& op, Fields& f) {
    const detail::LddwPseudo p = detail::lddw_pseudo(fi.sem.lddw);
    if (p.name.empty()) {
      const auto v = detail::to_imm64(op.number);
      if (!v) return TextError{op.column, "immediate out of range: expected a 64-bit value"};
      f.imm = static_cast<int32_t>(static_cast<uint32_t>(*v));
      f.next_imm = static_cast<int32_t>(static_cast<uint32_t>(*v >> 32));
      return std::nullopt;
    }
    if (op.args.size() != static_cast<std::size_t>(p.args)) {
      return TextError{op.column, std::string(p.name) + " takes " + std::to_string(p.args) +
                                      (p.args == 1 ? " argument" : " arguments")};
    }
    if (p.pc_relative) return target(op.args[0], false, f);
    for (std::size_t i = 0; i < op.args.size(); ++i) {
      const ParsedOperand& arg = op.args[i];
      if (arg.kind != Kind::Number) return TextError{arg.column, std::string(p.name) + " takes numbers"};
      if (auto err = imm32(arg.number, i == 0 ? f.imm : f.next_imm)) return err;
    }
    return std::nullopt;
  }

  std::optional<TextError> resolve(const Fixup& f) {
    const auto it = labels_.find(f.label);
    if (it == labels_.end()) return TextError{f.column, "undefined label '" + f.label + "'"};
    const int64_t delta = static_cast<int64_t>(it->second.slot) - static_cast<int64_t>(f.slot) - 1;
    isa::RawInsn& insn = slots_[f.slot];
    if (f.into_off) {
      if (delta < std::numeric_limits<int16_t>::min() || delta > std::numeric_limits<int16_t>::max()) {
        return TextError{f.column, "jump to label '" + f.label + "' is " + std::to_string(delta) +
                                       " slots away, beyond the 16-bit offset range"};
      }
      insn.off = static_cast<int16_t>(delta);
    } else {
      insn.imm = static_cast<int32_t>(delta);  // a program has at most 1,000,000 slots
    }
    return std::nullopt;
  }

  struct LabelDef {
    std::size_t slot = 0;
    int line = 0;
  };

  const AssembleOptions& options_;
  std::vector<Token> tokens_;
  std::vector<isa::RawInsn> slots_;
  std::map<std::string, LabelDef> labels_;
  std::vector<Fixup> fixups_;
  int line_ = 0;
};

}  // namespace

Result<vm::Program> assemble(std::string_view source, const AssembleOptions& options) {
  return Assembler(options).run(source);
}

}  // namespace bpfdiff::text
