#pragma once
// Outcomes of several engines side by side, one column per engine, for
// `bpfdiff repro`: r0..r10, instructions, error kind/pc/address/size, a
// memory preview, a stack digest, and the bytes at the first offset where
// memory or stack differ. Rows whose values differ start with '*'.
#include <string>
#include <string_view>
#include <vector>

#include "oracle/outcome.hpp"

namespace bpfdiff::cli {

// The value shown for what a kernel engine does not export (stack,
// instruction count, fault details, r1..r5 after a call).
inline constexpr std::string_view kNotExported = "n/a (kernel)";

struct OutcomeRow {
  std::string field;                // "r3", "error.pc", "memory[12..]", ...
  std::vector<std::string> values;  // one per engine, "-" where it does not apply
  bool differs() const;
};

std::vector<OutcomeRow> outcome_rows(const std::vector<oracle::Outcome>& outcomes);

// A header line with the engine names, then one line per row; with `color`
// a differing row is also wrapped in ANSI bold red.
std::string format_outcome_table(const std::vector<oracle::Outcome>& outcomes, bool color);

}  // namespace bpfdiff::cli
