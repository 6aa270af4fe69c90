#include "oracle/smt/check_matrix.hpp"

#include <regex>

#include "oracle/smt/bpf_model.hpp"

namespace bpfdiff::oracle::smt {
namespace {

Result<std::regex> compile(std::string_view pattern, const char* what) {
  try {
    return std::regex(pattern.begin(), pattern.end(), std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return make_error("bad " + std::string(what) + " pattern '" + std::string(pattern) + "': " + e.what());
  }
}

}  // namespace

Result<std::vector<isa::Form>> select_forms(std::string_view pattern) {
  auto re = compile(pattern, "--forms");
  if (!re) return re.error();
  std::vector<isa::Form> forms;
  for (isa::Form f : covered_forms()) {
    const std::string_view name = isa::info(f).name;
    if (std::regex_search(name.begin(), name.end(), *re)) forms.push_back(f);
  }
  if (forms.empty()) return make_error("no modelled form matches '" + std::string(pattern) + "'");
  return forms;
}

Result<std::vector<std::size_t>> select_checks(const CheckRegistry& registry, std::string_view pattern) {
  auto re = compile(pattern, "--checks");
  if (!re) return re.error();
  std::vector<std::size_t> picked;
  const auto checks = registry.checks();
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const std::string name = checks[i]->name();
    if (std::regex_search(name, *re)) picked.push_back(i);
  }
  if (picked.empty()) return make_error("no check matches '" + std::string(pattern) + "'");
  return picked;
}

std::size_t MatrixReport::count(Verdict v) const {
  std::size_t n = 0;
  for (const MatrixCell& c : cells) n += c.outcome.verdict == v ? 1 : 0;
  return n;
}

uint64_t MatrixReport::total_ns() const {
  uint64_t ns = 0;
  for (const MatrixCell& c : cells) ns += c.outcome.ns;
  return ns;
}

const MatrixCell* MatrixReport::slowest() const {
  const MatrixCell* worst = nullptr;
  for (const MatrixCell& c : cells)
    if (worst == nullptr || c.outcome.ns > worst->outcome.ns) worst = &c;
  return worst;
}

MatrixReport run_matrix(CheckRegistry& registry, std::span<const isa::Form> forms,
                        std::span<const std::size_t> checks,
                        const std::function<void(const MatrixCell&)>& on_cell) {
  MatrixReport report;
  const auto all = registry.checks();
  for (isa::Form f : forms) {
    for (std::size_t i : checks) {
      FormCheck& check = *all[i];
      if (!check.applies_to(f)) continue;
      report.cells.push_back(MatrixCell{f, i, run_check(check, f)});
      if (on_cell) on_cell(report.cells.back());
    }
  }
  return report;
}

}  // namespace bpfdiff::oracle::smt
