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
// With `memory`, the memory forms whose JIT lowering is proved against the
// interpreter (mem_proof.hpp: loads, stores, atomics) and the control forms
// (call_proof.hpp: call local with the block charges, exit) are rows too.
Result<std::vector<isa::Form>> select_forms(std::string_view pattern, bool memory = false);
// The memory forms `smt check --memory` proves: loads, stores, atomics and
// legacy packet loads (their unwinding proved since reads over writes are
// resolved first, read_over_write.hpp).
bool proved_memory_form(isa::Form form);
// The control forms it proves: call_local and exit (call_proof.hpp),
// call_helper and callx (call_out_proof.hpp). Only the first representative
// column of each option set proves them (callx with that column's dst as
// its register; the others use no register of a column's).
bool proved_control_form(isa::Form form);
// The indexes of the registry's checks whose name matches `pattern`.
Result<std::vector<std::size_t>> select_checks(const CheckRegistry& registry, std::string_view pattern);

struct MatrixCell {
  isa::Form form;
  std::size_t check;  // index into the registry
  CheckOutcome outcome;
};

struct MatrixReport {
  std::vector<MatrixCell> cells;  // form-major
  uint64_t wall_ns = 0;           // the whole matrix, start to end
  unsigned jobs = 1;              // threads it ran on
  std::size_t count(Verdict v) const;
  uint64_t total_ns() const;          // the cells' times summed (exceeds wall_ns when run in parallel)
  const MatrixCell* slowest() const;  // null when no cell ran
  std::vector<const MatrixCell*> slowest(std::size_t n) const;  // the n slowest, slowest first
  bool all_proved() const { return count(Verdict::Proved) == cells.size(); }
};

// Runs every applicable (form, check) pair on `jobs` threads (0: one per
// hardware thread); `on_cell` sees each cell in form-major order as soon as
// it and every cell before it have ended (progress, streaming output), on
// one thread at a time. Checks must be safe to run concurrently on different
// forms: every Z3 context in oracle/smt is per thread or per proof.
MatrixReport run_matrix(CheckRegistry& registry, std::span<const isa::Form> forms,
                        std::span<const std::size_t> checks,
                        const std::function<void(const MatrixCell&)>& on_cell = {}, unsigned jobs = 1);

}  // namespace bpfdiff::oracle::smt
