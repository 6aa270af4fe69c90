#include "oracle/smt/check_matrix.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <regex>
#include <thread>

#include "oracle/smt/bpf_model.hpp"
#include "oracle/smt/mem_model.hpp"

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

bool proved_memory_form(isa::Form form) {
  return mem::is_memory_form(form);
}

bool proved_control_form(isa::Form form) {
  return form == isa::Form::call_local || form == isa::Form::exit || form == isa::Form::call_helper ||
         form == isa::Form::callx;
}

Result<std::vector<isa::Form>> select_forms(std::string_view pattern, bool memory) {
  auto re = compile(pattern, "--forms");
  if (!re) return re.error();
  // The model's forms, then the memory forms (proved against the
  // interpreter's memory semantics by the JIT columns).
  std::vector<isa::Form> candidates = covered_forms();
  if (memory) {
    for (const isa::FormInfo& fi : isa::all_forms())
      if (proved_memory_form(fi.form) || proved_control_form(fi.form)) candidates.push_back(fi.form);
  }
  std::vector<isa::Form> forms;
  for (isa::Form f : candidates) {
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
  for (const MatrixCell& c : cells)
    n += c.outcome.verdict == v ? 1 : 0;
  return n;
}

uint64_t MatrixReport::total_ns() const {
  uint64_t ns = 0;
  for (const MatrixCell& c : cells)
    ns += c.outcome.ns;
  return ns;
}

const MatrixCell* MatrixReport::slowest() const {
  const MatrixCell* worst = nullptr;
  for (const MatrixCell& c : cells)
    if (worst == nullptr || c.outcome.ns > worst->outcome.ns) worst = &c;
  return worst;
}

std::vector<const MatrixCell*> MatrixReport::slowest(std::size_t n) const {
  std::vector<const MatrixCell*> out;
  for (const MatrixCell& c : cells)
    out.push_back(&c);
  std::sort(out.begin(), out.end(),
            [](const MatrixCell* a, const MatrixCell* b) { return a->outcome.ns > b->outcome.ns; });
  if (out.size() > n) out.resize(n);
  return out;
}

MatrixReport run_matrix(CheckRegistry& registry, std::span<const isa::Form> forms,
                        std::span<const std::size_t> checks,
                        const std::function<void(const MatrixCell&)>& on_cell, unsigned jobs) {
  const auto start = std::chrono::steady_clock::now();
  MatrixReport report;
  const auto all = registry.checks();
  for (isa::Form f : forms) {
    for (std::size_t i : checks) {
      if (all[i]->applies_to(f)) report.cells.push_back(MatrixCell{f, i, {}});
    }
  }
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  jobs = static_cast<unsigned>(std::min<std::size_t>(jobs, std::max<std::size_t>(report.cells.size(), 1)));
  report.jobs = jobs;

  // Workers take the next cell from a shared counter; whoever finishes a
  // cell reports every finished cell that is next in order.
  std::atomic<std::size_t> next{0};
  std::mutex order;
  std::vector<bool> done(report.cells.size(), false);
  std::size_t reported = 0;
  auto work = [&] {
    for (;;) {
      const std::size_t k = next.fetch_add(1);
      if (k >= report.cells.size()) return;
      MatrixCell& cell = report.cells[k];
      cell.outcome = run_check(*all[cell.check], cell.form);
      const std::lock_guard lock(order);
      done[k] = true;
      while (reported < done.size() && done[reported]) {
        if (on_cell) on_cell(report.cells[reported]);
        ++reported;
      }
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < jobs; ++t)
    workers.emplace_back(work);
  work();
  for (std::thread& t : workers)
    t.join();
  report.wall_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  return report;
}

}  // namespace bpfdiff::oracle::smt
