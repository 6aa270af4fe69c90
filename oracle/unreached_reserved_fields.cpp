#include "oracle/unreached_reserved_fields.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "oracle/engine.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::oracle {
namespace {

struct ReservedField {
  uint32_t pc = 0;
  std::string field;  // dst, src, off or imm
  int32_t value = 0;  // what makes it valid
};

bool parse_int(std::string_view& text, auto& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{}) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

bool consume(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

// Messages of vm/program/validate.cpp and isa::describe_unknown:
//   "pc N: FIELD: reserved field must be 0, is V"        -> FIELD = 0
//   "pc N: opcode: opcode 0xXX has FIELD V; expected FIELD D (mnemonic)..."
//     (a known opcode byte whose discriminating field matches no form)
//                                                        -> FIELD = D
//   "pc N: dst|src: register rK does not exist"           -> FIELD = 0
//   "pc N: dst: r10 is the read-only frame pointer"      -> dst = 0
// The lddw second-slot messages have another shape and are not matched,
// nor is an unknown opcode byte: the kernel checks both in every slot.
std::optional<ReservedField> parse_fixable_field(std::string_view message) {
  ReservedField out;
  if (!consume(message, "pc ") || !parse_int(message, out.pc) || !consume(message, ": ")) return std::nullopt;
  const auto known = [](std::string_view f) { return f == "dst" || f == "src" || f == "off" || f == "imm"; };
  if (consume(message, "opcode: opcode 0x")) {
    const std::size_t has = message.find(" has ");
    if (has == std::string_view::npos) return std::nullopt;
    message.remove_prefix(has + 5);
    const std::size_t space = message.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    out.field = std::string(message.substr(0, space));
    const std::size_t expected = message.find("; expected " + out.field + " ");
    if (!known(out.field) || expected == std::string_view::npos) return std::nullopt;
    message.remove_prefix(expected + 11 + out.field.size() + 1);
    if (!parse_int(message, out.value)) return std::nullopt;
    return out;
  }
  // The other three set the field to 0 (r0 for a register).
  const std::size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  out.field = std::string(message.substr(0, colon));
  message.remove_prefix(colon + 2);
  if (!known(out.field)) return std::nullopt;
  if (consume(message, "reserved field must be 0, is ")) return out;
  if ((out.field == "dst" || out.field == "src") && consume(message, "register r") &&
      message.find(" does not exist") != std::string_view::npos)
    return out;
  if (out.field == "dst" && message == "r10 is the read-only frame pointer") return out;
  return std::nullopt;
}

void set_field(isa::RawInsn& insn, const ReservedField& f) {
  if (f.field == "dst") insn.dst = static_cast<uint8_t>(f.value);
  if (f.field == "src") insn.src = static_cast<uint8_t>(f.value);
  if (f.field == "off") insn.off = static_cast<int16_t>(f.value);
  if (f.field == "imm") insn.imm = f.value;
}

}  // namespace

std::string unreached_reserved_fields(const vm::Program& program, std::span<const uint8_t> memory,
                                      vm::RunMode mode, const vm::ExecLimits& limits) {
  vm::Program cleared = program;
  std::vector<ReservedField> offending;
  std::set<uint32_t> pcs;
  // Each round fixes the field the validator stopped at; a slot has at
  // most four, so the program's length bounds the rounds.
  for (std::size_t round = 0;; ++round) {
    auto loaded = vm::validate(cleared, default_helpers());
    if (loaded) {
      if (offending.empty()) return {};
      std::vector<uint8_t> copy(memory.begin(), memory.end());
      vm::Interpreter interp(*loaded, default_helpers(), limits);
      bool reached = false;
      const vm::TraceFn trace = [&](uint32_t pc, const auto&) { reached = reached || pcs.count(pc) != 0; };
      vm::RunInput input;
      input.mode = mode;
      input.memory = copy;
      const vm::RunResult r = interp.run_traced(input, trace);
      if (reached || !r.ok()) return {};
      std::string where;
      for (const ReservedField& f : offending)
        where += (where.empty() ? "" : ", ") + std::string("pc ") + std::to_string(f.pc) + " " + f.field;
      return "the kernel checks an instruction's fields (reserved fields, register numbers, the field "
             "telling forms apart) only on paths its verifier explores, and the instructions with invalid "
             "ones (" +
             where + ") are on none this run takes (ours, with them made valid, never reaches them)";
    }
    if (round >= 4 * cleared.slots.size()) return {};
    const auto f = parse_fixable_field(loaded.error().message);
    if (!f || f->pc >= cleared.slots.size()) return {};
    set_field(cleared.slots[f->pc], *f);
    offending.push_back(*f);
    pcs.insert(f->pc);
  }
}

}  // namespace bpfdiff::oracle
