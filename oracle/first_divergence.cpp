#include "oracle/first_divergence.hpp"

#include <string>
#include <utility>

namespace bpfdiff::oracle {

std::vector<Difference> compare_at_budget(const Outcome& left, const Outcome& right,
                                          const CompareRules& rules) {
  const bool both_cut = left.loaded && right.loaded && left.error.kind == vm::ErrorKind::BudgetExhausted &&
                        right.error.kind == vm::ErrorKind::BudgetExhausted;
  if (!both_cut) return compare(left, right, rules);
  CompareRules without_details = rules;
  without_details.error_details = false;
  std::vector<Difference> out = compare(left, right, without_details);
  if (left.error.pc != right.error.pc) {
    out.insert(out.begin(),
               Difference{"next_pc", std::to_string(left.error.pc), std::to_string(right.error.pc)});
  }
  return out;
}

FirstDivergence find_first_divergence(const BudgetRunner& left, const BudgetRunner& right,
                                      uint64_t max_budget, const CompareRules& rules) {
  FirstDivergence out;
  struct Probe {
    Outcome left, right;
    std::vector<Difference> differences;
  };
  auto probe = [&](uint64_t budget) {
    Probe p{left(budget), right(budget), {}};
    p.differences = compare_at_budget(p.left, p.right, rules);
    ++out.probes;
    return p;
  };

  Probe hi = probe(max_budget);
  if (hi.differences.empty()) {
    out.kind = FirstDivergence::Kind::Agree;
    out.instructions = max_budget;
    out.left = std::move(hi.left);
    out.right = std::move(hi.right);
    return out;
  }
  Probe lo = max_budget == 0 ? hi : probe(0);
  if (!lo.differences.empty()) {
    out.kind = FirstDivergence::Kind::BeforeExecution;
    out.instructions = 0;
    out.left = std::move(lo.left);
    out.right = std::move(lo.right);
    out.differences = std::move(lo.differences);
    return out;
  }

  // Agree at lo_budget, differ at hi_budget.
  uint64_t lo_budget = 0;
  uint64_t hi_budget = max_budget;
  while (hi_budget - lo_budget > 1) {
    const uint64_t mid = lo_budget + (hi_budget - lo_budget) / 2;
    Probe p = probe(mid);
    if (p.differences.empty()) {
      lo_budget = mid;
      lo = std::move(p);
    } else {
      hi_budget = mid;
      hi = std::move(p);
    }
  }

  out.kind = FirstDivergence::Kind::AtInstruction;
  out.instructions = hi_budget;
  if (lo.left.loaded && lo.left.error.kind == vm::ErrorKind::BudgetExhausted) out.pc = lo.left.error.pc;
  out.left_before = std::move(lo.left);
  out.right_before = std::move(lo.right);
  out.left = std::move(hi.left);
  out.right = std::move(hi.right);
  out.differences = std::move(hi.differences);
  return out;
}

}  // namespace bpfdiff::oracle
