#include "oracle/kernel/verifier_log.hpp"

#include <charconv>
#include <cstdio>

namespace bpfdiff::oracle::kernel {
namespace {

// More states than this at one pc: the pc is left without claims rather
// than keeping an unbounded list (loops explored many times).
constexpr std::size_t kMaxStatesPerPc = 256;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// A number as the verifier prints it: decimal, optionally negative, or hex
// (0x...), optionally negative; the result is its 64-bit two's-complement pattern.
std::optional<uint64_t> parse_number(std::string_view s) {
  bool neg = false;
  if (!s.empty() && s.front() == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  int base = 10;
  if (starts_with(s, "0x") || starts_with(s, "0X")) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return neg ? ~v + 1 : v;
}

// Leading decimal number of `s` and what follows it.
std::optional<std::pair<uint64_t, std::string_view>> leading_number(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  return std::pair{v, s.substr(static_cast<std::size_t>(p - s.data()))};
}

// Splits at `sep` outside parentheses.
std::vector<std::string_view> split_top(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')') --depth;
    if (s[i] == sep && depth == 0) {
      if (i > start) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

// "a=b=c=VAL" field chains of a scalar or pointer; false on anything not understood.
bool apply_fields(std::string_view fields, ValueClaim& v, bool& has_ranges, bool& has_imm) {
  for (std::string_view f : split_top(fields, ',')) {
    f = trim(f);
    if (starts_with(f, "var_off=(")) {
      const std::string_view in = f.substr(9, f.size() - 10);
      const std::size_t semi = in.find(';');
      if (semi == std::string_view::npos || f.back() != ')') return false;
      auto value = parse_number(trim(in.substr(0, semi)));
      auto mask = parse_number(trim(in.substr(semi + 1)));
      if (!value || !mask) return false;
      v.var.known_value = *value;
      v.var.unknown_mask = *mask;
      has_ranges = true;
      continue;
    }
    const std::size_t last_eq = f.rfind('=');
    if (last_eq == std::string_view::npos) continue;
    const std::string_view value_text = f.substr(last_eq + 1);
    std::vector<std::string_view> names = split_top(f.substr(0, last_eq), '=');
    const std::optional<uint64_t> n = parse_number(value_text);
    for (std::string_view name : names) {
      const auto set = [&](auto& field) {
        if (!n) return false;
        field = static_cast<std::remove_reference_t<decltype(field)>>(*n);
        has_ranges = true;
        return true;
      };
      bool ok = true;
      if (name == "smin")
        ok = set(v.var.smin);
      else if (name == "smax")
        ok = set(v.var.smax);
      else if (name == "umin")
        ok = set(v.var.umin);
      else if (name == "umax")
        ok = set(v.var.umax);
      else if (name == "smin32" || name == "s32_min")
        ok = set(v.var.smin32);
      else if (name == "smax32" || name == "s32_max")
        ok = set(v.var.smax32);
      else if (name == "umin32" || name == "u32_min")
        ok = set(v.var.umin32);
      else if (name == "umax32" || name == "u32_max")
        ok = set(v.var.umax32);
      else if (name == "off") {
        if (!n) return false;
        v.off = static_cast<int64_t>(*n);
      } else if (name == "ks" || name == "vs") {
        // Which map a value pointer points into; no bearing on the offset.
        if (!n || *n > UINT32_MAX) return false;
        (name == "ks" ? v.map_key_size : v.map_value_size) = static_cast<uint32_t>(*n);
      } else if (name == "imm") {
        // 6.1 prints it in hex without 0x, later kernels as a number:
        // only 0 reads the same in both.
        if (!n || *n != 0) return false;
        v.var = ScalarClaim::constant(0);
        has_imm = true;
      }
      // id, ref_obj_id, map, r, range ...: no bearing on the value
      if (!ok) return false;
    }
  }
  return true;
}

// Strips the liveness marks older kernels append to names ("R2_w", "fp-8_rw").
std::string_view strip_liveness(std::string_view name) {
  const std::size_t u = name.find('_');
  return u == std::string_view::npos ? name : name.substr(0, u);
}

constexpr std::string_view kSlotTypeChars = "?rm0dif";

SlotClaim parse_slot(std::string_view text) {
  SlotClaim slot;
  if (text.size() == 8 && text.find_first_not_of(kSlotTypeChars) == std::string_view::npos) {
    slot.types = std::string(text);
    return slot;
  }
  // A spill: 8 - (spill size) type characters, then the register.
  for (std::size_t prefix : {7u, 6u, 4u, 0u}) {
    if (text.size() <= prefix) continue;
    const std::string_view head = text.substr(0, prefix);
    if (head.find_first_not_of(kSlotTypeChars) != std::string_view::npos) continue;
    ValueClaim v = parse_value(text.substr(prefix));
    if (v.kind == ValueKind::Other && prefix != 0) continue;
    slot.types = std::string(head);
    slot.spilled = std::move(v);
    return slot;
  }
  slot.spilled = ValueClaim{};  // not understood: a spill we make no claim about
  return slot;
}

// Registers `insn` may write and the slots it may change, dropped from a
// state before the log's delta (which lists what it wrote) is applied.
void forget_what_insn_changes(const isa::RawInsn& insn, LoggedState& st) {
  const uint8_t cls = insn.opcode & 0x07;
  const uint8_t dst = insn.dst & 0x0f;
  const uint8_t src = insn.src & 0x0f;
  const auto kill = [&](uint8_t r) {
    if (r < st.regs.size()) st.regs[r].reset();
  };
  switch (cls) {
    case 0x00:  // ld (lddw)
    case 0x01:  // ldx
    case 0x04:  // alu32
    case 0x07:  // alu64
      kill(dst);
      return;
    case 0x02:    // st
    case 0x03: {  // stx, atomics
      const uint8_t mode = insn.opcode & 0xe0;
      if (cls == 0x03 && mode == 0xc0) {
        if (insn.imm & 0x01) kill(src);  // BPF_FETCH, xchg and cmpxchg included
        if (insn.imm == 0xf1) kill(0);   // cmpxchg
      }
      if (dst != 10) {
        st.slots.clear();  // through a pointer that may point into any frame
        return;
      }
      static constexpr int32_t kSize[4] = {4, 2, 1, 8};
      const int32_t size = kSize[(insn.opcode >> 3) & 3];
      for (auto it = st.slots.begin(); it != st.slots.end();) {
        const bool overlaps = it->first < insn.off + size && insn.off < it->first + 8;
        it = overlaps ? st.slots.erase(it) : std::next(it);
      }
      return;
    }
    default:  // jumps change nothing; calls are handled by the caller
      return;
  }
}

struct Parser {
  std::span<const isa::RawInsn> insns;
  VerifierLog out;
  std::optional<LoggedState> cur;
  uint32_t cur_pc = 0;
  int64_t recorded_pc = -1;   // cur was recorded at this pc already (a full state just before)
  int64_t last_insn_pc = -1;  // the instruction line last seen, until a state line starts a path

  bool in_range(uint64_t pc) const { return pc < insns.size(); }

  void record(uint32_t pc) {
    auto& at = out.states[pc];
    if (at.size() >= kMaxStatesPerPc) {
      out.unknown[pc] = true;
      return;
    }
    at.push_back(*cur);
    recorded_pc = pc;
  }

  // Tokens "frame1:", "R3=...", "fp-8=..." into `st`; false when nothing was a state token.
  static bool apply_tokens(std::string_view text, LoggedState& st, bool full) {
    bool any = false;
    for (std::string_view tok : split_top(text, ' ')) {
      tok = trim(tok);
      if (starts_with(tok, "frame") && tok.back() == ':') {
        if (auto n = leading_number(tok.substr(5))) st.frame = static_cast<int>(n->first);
        continue;
      }
      const std::size_t eq = tok.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view name = strip_liveness(tok.substr(0, eq));
      const std::string_view value = tok.substr(eq + 1);
      if (name.size() >= 2 && name[0] == 'R') {
        auto n = leading_number(name.substr(1));
        if (!n || !n->second.empty() || n->first > 10) continue;
        st.regs[n->first] = parse_value(value);
        any = true;
      } else if (starts_with(name, "fp-")) {
        auto n = leading_number(name.substr(3));
        if (!n || !n->second.empty()) continue;
        st.slots[-static_cast<int32_t>(n->first)] = parse_slot(value);
        any = true;
      }
    }
    (void)full;
    return any;
  }

  void full_state(uint32_t pc, std::string_view text) {
    LoggedState st;
    if (!apply_tokens(text, st, true)) return;
    ++out.state_lines;
    last_insn_pc = -1;
    cur = std::move(st);
    cur_pc = pc;
    if (in_range(pc)) record(pc);
  }

  // "N: R..." is a full state only where a path starts. When the verifier
  // logged something between an instruction and its state it prints the
  // (scratched part of the) state on a line of its own, numbered by the
  // instruction just processed (a branch's refinement) or the next one:
  // both continue the current path ("from X to Y: state" is also followed
  // by "Y: state", the same state again).
  void numbered_state(uint32_t pc, std::string_view text) {
    if (cur && (last_insn_pc == static_cast<int64_t>(pc) || cur_pc == pc)) {
      ++out.state_lines;
      apply_tokens(text, *cur, false);
      return;
    }
    if (last_insn_pc == static_cast<int64_t>(pc)) return;  // the path was lost already
    full_state(pc, text);
  }

  void insn_line(uint32_t pc, std::string_view rest) {
    if (!in_range(pc)) {
      cur.reset();
      return;
    }
    ++out.state_lines;
    out.visited[pc] = true;
    if (!cur || cur_pc != pc) {
      out.unknown[pc] = true;
      cur.reset();
    } else if (recorded_pc != pc) {
      record(pc);
    }
    recorded_pc = -1;
    last_insn_pc = pc;
    if (!cur) return;
    const isa::RawInsn& insn = insns[pc];
    const uint8_t cls = insn.opcode & 0x07;
    uint64_t next = pc + 1;
    if (cls == 0x05 || cls == 0x06) {
      const uint8_t op = insn.opcode & 0xf0;
      if (op == 0x90) {  // exit: the next state comes as a full one
        cur.reset();
        return;
      }
      if (op == 0x80) {
        if (cls == 0x05 && (insn.src & 0x0f) == 1) {  // bpf-to-bpf: the callee's state follows
          cur.reset();
          return;
        }
        for (uint8_t r = 0; r <= 5; ++r)
          cur->regs[r].reset();  // helper or kfunc
      } else if (op == 0x00) {
        next = pc + 1 + (cls == 0x06 ? static_cast<int64_t>(insn.imm) : static_cast<int64_t>(insn.off));
      }
    } else if (insn.opcode == 0x18) {
      next = pc + 2;
    }
    forget_what_insn_changes(insn, *cur);
    if (const std::size_t semi = rest.find(" ; "); semi != std::string_view::npos) {
      apply_tokens(rest.substr(semi + 3), *cur, false);
    }
    if (!in_range(next)) {
      cur.reset();
      return;
    }
    cur_pc = static_cast<uint32_t>(next);
  }

  void line(std::string_view raw) {
    ++out.lines;
    if (raw.empty() || raw.front() == ' ' || raw.front() == '\t') return;  // indented: call blocks, liveness
    const std::string_view l = trim(raw);
    if (starts_with(l, "processed ")) {
      out.complete = true;
      return;
    }
    if (starts_with(l, "from ")) {
      auto x = leading_number(l.substr(5));
      if (!x || !starts_with(x->second, " to ")) return;
      auto y = leading_number(x->second.substr(4));
      if (!y || !starts_with(y->second, ": ")) return;
      const std::string_view rest = y->second.substr(2);
      if (rest == "safe") {
        if (in_range(y->first)) out.pruned_at[y->first] = true;
        cur.reset();
        return;
      }
      full_state(static_cast<uint32_t>(y->first), rest);
      return;
    }
    auto n = leading_number(l);
    if (!n || !starts_with(n->second, ": ")) return;
    const auto pc = static_cast<uint32_t>(n->first);
    const std::string_view rest = n->second.substr(2);
    if (rest == "safe") {
      if (in_range(pc)) out.pruned_at[pc] = true;
      cur.reset();
      return;
    }
    if (starts_with(rest, "(")) {
      insn_line(pc, rest);
      return;
    }
    if (starts_with(rest, "R") || starts_with(rest, "frame") || starts_with(rest, "fp"))
      numbered_state(pc, rest);
  }
};

}  // namespace

ScalarClaim ScalarClaim::constant(uint64_t v) {
  ScalarClaim c;
  c.smin = c.smax = static_cast<int64_t>(v);
  c.umin = c.umax = v;
  c.smin32 = c.smax32 = static_cast<int32_t>(static_cast<uint32_t>(v));
  c.umin32 = c.umax32 = static_cast<uint32_t>(v);
  c.known_value = v;
  c.unknown_mask = 0;
  return c;
}

bool ScalarClaim::contains(uint64_t v) const {
  const auto s = static_cast<int64_t>(v);
  const auto u32 = static_cast<uint32_t>(v);
  const auto s32 = static_cast<int32_t>(u32);
  return s >= smin && s <= smax && v >= umin && v <= umax && s32 >= smin32 && s32 <= smax32 &&
         u32 >= umin32 && u32 <= umax32 && (v & ~unknown_mask) == known_value;
}

bool ScalarClaim::knows_nothing() const {
  return *this == ScalarClaim{};
}

std::string describe(const ScalarClaim& c) {
  if (c.unknown_mask == 0) {
    char b[40];
    std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(c.known_value));
    return b;
  }
  char b[400];
  std::snprintf(b, sizeof b,
                "smin=%lld,smax=%lld,umin=%#llx,umax=%#llx,smin32=%d,smax32=%d,umin32=%#x,umax32=%#x,"
                "var_off=(%#llx; %#llx)",
                static_cast<long long>(c.smin), static_cast<long long>(c.smax),
                static_cast<unsigned long long>(c.umin), static_cast<unsigned long long>(c.umax), c.smin32,
                c.smax32, c.umin32, c.umax32, static_cast<unsigned long long>(c.known_value),
                static_cast<unsigned long long>(c.unknown_mask));
  return b;
}

ValueClaim parse_value(std::string_view text) {
  ValueClaim v;
  v.text = std::string(text);
  std::string_view t = text;
  if (!t.empty() && t.front() == 'P') t.remove_prefix(1);  // precise
  if (!t.empty() && (t.front() == '-' || (t.front() >= '0' && t.front() <= '9'))) {
    if (auto n = parse_number(t)) {
      v.kind = ValueKind::Scalar;
      v.var = ScalarClaim::constant(*n);
    }
    return v;
  }
  const std::size_t paren = t.find('(');
  const std::string_view type = t.substr(0, paren);
  std::string_view fields;
  if (paren != std::string_view::npos) {
    if (t.back() != ')') return v;
    fields = t.substr(paren + 1, t.size() - paren - 2);
  }
  if (starts_with(type, "fp") && paren == std::string_view::npos) {
    // fp-8, fp0, fp[1]-16: a constant offset into a frame.
    std::string_view rest = type.substr(2);
    if (starts_with(rest, "[")) {
      auto f = leading_number(rest.substr(1));
      if (!f || !starts_with(f->second, "]")) return v;
      v.frame = static_cast<int>(f->first);
      rest = f->second.substr(1);
    }
    auto off = parse_number(rest);
    if (!off) return v;
    v.kind = ValueKind::Stack;
    v.off = static_cast<int64_t>(*off);
    v.var = ScalarClaim::constant(0);
    return v;
  }
  ValueKind kind = ValueKind::Other;
  if (type == "scalar")
    kind = ValueKind::Scalar;
  else if (type == "ctx")
    kind = ValueKind::Ctx;
  else if (type == "map_value")
    kind = ValueKind::MapValue;
  else if (starts_with(type, "fp")) {
    std::string_view rest = type.substr(2);
    if (starts_with(rest, "[")) {
      auto f = leading_number(rest.substr(1));
      if (!f || f->second != "]") return v;
      v.frame = static_cast<int>(f->first);
    } else if (!rest.empty()) {
      return v;
    }
    kind = ValueKind::Stack;
  }
  if (kind == ValueKind::Other) return v;
  bool has_ranges = false, has_imm = false;
  ValueClaim parsed = v;
  if (!apply_fields(fields, parsed, has_ranges, has_imm)) return v;  // not understood: no claim
  // A pointer without a variable part is exactly base + off.
  if (kind != ValueKind::Scalar && !has_ranges && !has_imm) parsed.var = ScalarClaim::constant(0);
  parsed.kind = kind;
  return parsed;
}

VerifierLog parse_verifier_log(std::string_view log, std::span<const isa::RawInsn> insns) {
  Parser p;
  p.insns = insns;
  p.out.visited.assign(insns.size(), false);
  p.out.unknown.assign(insns.size(), false);
  p.out.pruned_at.assign(insns.size(), false);
  p.out.states.resize(insns.size());
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string_view::npos) end = log.size();
    p.line(log.substr(start, end - start));
    start = end + 1;
  }
  return std::move(p.out);
}

}  // namespace bpfdiff::oracle::kernel
