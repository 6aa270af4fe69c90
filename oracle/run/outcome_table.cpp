#include "oracle/run/outcome_table.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <span>

#include "oracle/run/hex.hpp"
#include "vm/isa/raw.hpp"
#include "vm/runtime/error.hpp"

namespace bpfdiff::cli {
namespace {

constexpr std::size_t kMemoryPreviewBytes = 16;
constexpr std::size_t kWindowBytes = 16;

uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string preview(const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return "(empty)";
  if (bytes.size() <= kMemoryPreviewBytes) return hex_compact(bytes);
  return hex_compact(std::span(bytes).first(kMemoryPreviewBytes)) + "... (" + std::to_string(bytes.size()) +
         " bytes)";
}

// The first offset at which some loaded engine's bytes differ from the first
// loaded engine's (a size difference counts at the shorter length).
template <typename Get>
std::optional<std::size_t> first_byte_difference(const std::vector<oracle::Outcome>& outcomes, Get get) {
  const oracle::Outcome* ref = nullptr;
  std::optional<std::size_t> first;
  for (const oracle::Outcome& o : outcomes) {
    if (!o.loaded) continue;
    if (ref == nullptr) {
      ref = &o;
      continue;
    }
    const std::vector<uint8_t>& a = get(*ref);
    const std::vector<uint8_t>& b = get(o);
    const std::size_t n = std::min(a.size(), b.size());
    std::size_t at = 0;
    while (at < n && a[at] == b[at])
      ++at;
    if (at == n && a.size() == b.size()) continue;
    if (!first || at < *first) first = at;
  }
  return first;
}

std::string window(const std::vector<uint8_t>& bytes, std::size_t at) {
  if (at >= bytes.size()) return "(past the end)";
  const std::size_t n = std::min(kWindowBytes, bytes.size() - at);
  return hex_compact(std::span(bytes).subspan(at, n));
}

}  // namespace

bool OutcomeRow::differs() const {
  // A kernel's unexported fields say so and never count as a difference.
  std::vector<std::string> known;
  for (const std::string& v : values) {
    if (v != kNotExported) known.push_back(v);
  }
  return std::adjacent_find(known.begin(), known.end(), std::not_equal_to<>()) != known.end();
}

namespace {

// Kernel engines export r0..r9 (r1..r5 not always) and the memory only.
void mark_not_exported(std::vector<OutcomeRow>& rows, const std::vector<oracle::Outcome>& outcomes) {
  for (std::size_t col = 0; col < outcomes.size(); ++col) {
    const oracle::Outcome& o = outcomes[col];
    if (!o.kernel || !o.loaded) continue;
    for (OutcomeRow& row : rows) {
      const std::string& f = row.field;
      bool hidden =
          f == "instructions" || f.rfind("error", 0) == 0 || f.rfind("stack", 0) == 0 || f == "helper calls";
      if (f.size() == 2 && f[0] == 'r' && f[1] >= '1' && f[1] <= '5') {
        hidden = (o.kernel->regs_valid & (1u << (f[1] - '0'))) == 0;
      }
      if (hidden) row.values[col] = std::string(kNotExported);
    }
  }
}

}  // namespace

std::vector<OutcomeRow> outcome_rows(const std::vector<oracle::Outcome>& outcomes) {
  std::vector<OutcomeRow> rows;
  auto add = [&](std::string field, auto value_of) {
    OutcomeRow row{std::move(field), {}};
    for (const oracle::Outcome& o : outcomes)
      row.values.push_back(o.loaded ? value_of(o) : std::string("-"));
    rows.push_back(std::move(row));
  };
  OutcomeRow load{"load", {}};
  for (const oracle::Outcome& o : outcomes)
    load.values.push_back(o.loaded ? "accepted" : "rejected: " + o.load_error);
  rows.push_back(std::move(load));
  for (std::size_t r = 0; r < isa::kNumRegisters; ++r)
    add("r" + std::to_string(r), [r](const oracle::Outcome& o) { return hex_u64(o.regs[r]); });
  add("instructions", [](const oracle::Outcome& o) { return std::to_string(o.instructions); });
  add("error", [](const oracle::Outcome& o) { return std::string(vm::to_string(o.error.kind)); });
  auto if_error = [](auto f) {
    return [f](const oracle::Outcome& o) {
      return o.error.kind == vm::ErrorKind::None ? std::string("-") : f(o);
    };
  };
  add("error.pc", if_error([](const oracle::Outcome& o) { return std::to_string(o.error.pc); }));
  add("error.address", if_error([](const oracle::Outcome& o) { return hex_u64(o.error.address); }));
  add("error.size", if_error([](const oracle::Outcome& o) { return std::to_string(o.error.size); }));
  add("memory", [](const oracle::Outcome& o) { return preview(o.memory); });
  const auto memory_of = [](const oracle::Outcome& o) -> const std::vector<uint8_t>& { return o.memory; };
  if (const auto at = first_byte_difference(outcomes, memory_of)) {
    add("memory[" + std::to_string(*at) + "..]",
        [at](const oracle::Outcome& o) { return window(o.memory, *at); });
  }
  add("stack digest", [](const oracle::Outcome& o) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "fnv1a %016llx", static_cast<unsigned long long>(fnv1a(o.stack)));
    return std::string(buf);
  });
  const auto stack_of = [](const oracle::Outcome& o) -> const std::vector<uint8_t>& { return o.stack; };
  if (const auto at = first_byte_difference(outcomes, stack_of)) {
    add("stack[" + std::to_string(*at) + "..]",
        [at](const oracle::Outcome& o) { return window(o.stack, *at); });
  }
  add("helper calls", [](const oracle::Outcome& o) { return std::to_string(o.helper_calls.size()); });
  mark_not_exported(rows, outcomes);
  return rows;
}

std::string format_outcome_table(const std::vector<oracle::Outcome>& outcomes, bool color) {
  const std::vector<OutcomeRow> rows = outcome_rows(outcomes);
  std::size_t field_width = 5;
  std::vector<std::size_t> widths;
  for (const oracle::Outcome& o : outcomes)
    widths.push_back(o.engine.size());
  for (const OutcomeRow& row : rows) {
    field_width = std::max(field_width, row.field.size());
    for (std::size_t i = 0; i < row.values.size(); ++i)
      widths[i] = std::max(widths[i], row.values[i].size());
  }
  auto pad = [](std::string s, std::size_t width) {
    s.resize(std::max(s.size(), width), ' ');
    return s;
  };
  auto line = [&](const std::string& marker, const std::string& field,
                  const std::vector<std::string>& values) {
    std::string s = marker + " " + pad(field, field_width);
    for (std::size_t i = 0; i < values.size(); ++i)
      s += "  " + (i + 1 < values.size() ? pad(values[i], widths[i]) : values[i]);
    return s;
  };
  std::vector<std::string> names;
  for (const oracle::Outcome& o : outcomes)
    names.push_back(o.engine);
  std::string out = line(" ", "field", names) + "\n";
  for (const OutcomeRow& row : rows) {
    const bool differs = row.differs();
    const std::string text = line(differs ? "*" : " ", row.field, row.values);
    out += differs && color ? "\x1b[1;31m" + text + "\x1b[0m\n" : text + "\n";
  }
  return out;
}

}  // namespace bpfdiff::cli
