#pragma once
// What `bpfdiff smt check` says about a matrix, as a library: the table that
// streams row by row while cells end, the one-paragraph summary, and the JSON
// report. The command line only parses options and prints these.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oracle/smt/check_matrix.hpp"

namespace bpfdiff::oracle::smt {

// "812 ms", "3.4 ms", "1.25 s".
std::string format_duration(uint64_t ns);

// What a table cell says: "ok <time>", COUNTEREXAMPLE, UNKNOWN or ERROR.
std::string cell_text(const CheckOutcome& outcome);

// A portable file name for a counterexample: check names hold spaces and commas.
std::string counterexample_stem(std::string_view form, std::string_view check);

// The table: a header line, then one line per form with a column per check
// ("-" where the check does not apply), built from cells in form-major order.
class MatrixTable {
 public:
  MatrixTable(const CheckRegistry& registry, std::span<const isa::Form> forms,
              std::span<const std::size_t> checks);
  const std::string& header() const { return header_; }
  // Adds a cell; returns the row of the previous form when this one starts a new row.
  std::string add(const MatrixCell& cell);
  // The last row (empty when no cell was added).
  std::string finish();

 private:
  std::span<const std::size_t> checks_;
  std::size_t form_width_ = 6;
  std::vector<std::size_t> widths_;
  std::string header_;
  std::string row_;
  isa::Form row_form_{};
  std::size_t next_column_ = 0;
};

// "N forms x M checks: P proofs, ... in T wall on J threads (...)", the
// slowest cell and the slowest cells, one per line.
std::string matrix_summary(const MatrixReport& report, const CheckRegistry& registry, std::size_t forms,
                           std::size_t checks);

// One entry of the JSON report's "results": form, check, verdict, seconds,
// detail (and data_test for a counterexample).
nlohmann::ordered_json cell_json(const MatrixCell& cell, const CheckRegistry& registry);

// The JSON report: result, checks, forms, counts, times, the slowest cells and `results`.
nlohmann::ordered_json matrix_json(const MatrixReport& report, const CheckRegistry& registry,
                                   std::size_t forms, std::span<const std::size_t> checks,
                                   nlohmann::ordered_json results);

}  // namespace bpfdiff::oracle::smt
