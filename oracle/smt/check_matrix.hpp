#pragma once
// The form x check matrix behind `bpfdiff smt check`: which forms, which
// check columns, every applicable cell run and timed, and the totals the
// command reports (verdict counts, total time, the slowest cell).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/smt/check.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

// The modelled forms whose table name (e.g. "sdiv32_imm") matches `pattern`
// (ECMAScript regex, searched; empty matches all). Fails on a bad pattern or
// when nothing matches.
Result<std::vector<isa::Form>> select_forms(std::string_view pattern);
// The indexes of the registry's checks whose name matches `pattern`.
Result<std::vector<std::size_t>> select_checks(const CheckRegistry& registry, std::string_view pattern);

struct MatrixCell {
  isa::Form form;
  std::size_t check;  // index into the registry
  CheckOutcome outcome;
};

struct MatrixReport {
  std::vector<MatrixCell> cells;  // form-major, in the order run
  std::size_t count(Verdict v) const;
  uint64_t total_ns() const;
  const MatrixCell* slowest() const;  // null when no cell ran
  bool all_proved() const { return count(Verdict::Proved) == cells.size(); }
};

// Runs every applicable (form, check) pair; `on_cell` sees each as it ends
// (progress, streaming output).
MatrixReport run_matrix(CheckRegistry& registry, std::span<const isa::Form> forms,
                        std::span<const std::size_t> checks,
                        const std::function<void(const MatrixCell&)>& on_cell = {});

}  // namespace bpfdiff::oracle::smt
