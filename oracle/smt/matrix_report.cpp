#include "oracle/smt/matrix_report.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>

#include "vm/isa/table.hpp"

namespace bpfdiff::oracle::smt {
namespace {

constexpr std::size_t kSlowestShown = 10;

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

std::string trimmed(std::string s) {
  s.erase(s.find_last_not_of(' ') + 1);
  return s;
}

std::string form_name(isa::Form form) {
  return std::string(isa::info(form).name);
}

}  // namespace

std::string format_duration(uint64_t ns) {
  const double ms = static_cast<double>(ns) / 1e6;
  return ms < 1000 ? fixed(ms, ms < 10 ? 1 : 0) + " ms" : fixed(ms / 1000, 2) + " s";
}

std::string cell_text(const CheckOutcome& o) {
  switch (o.verdict) {
    case Verdict::Proved:
      return "ok " + format_duration(o.ns);
    case Verdict::Counterexample:
      return "COUNTEREXAMPLE";
    case Verdict::Unknown:
      return "UNKNOWN";
    case Verdict::Error:
      return "ERROR";
  }
  return "?";
}

std::string counterexample_stem(std::string_view form, std::string_view check) {
  std::string out = std::string(form) + "-";
  for (char c : check)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-') ? c : '_';
  return out;
}

MatrixTable::MatrixTable(const CheckRegistry& registry, std::span<const isa::Form> forms,
                         std::span<const std::size_t> checks)
    : checks_(checks) {
  for (isa::Form f : forms)
    form_width_ = std::max(form_width_, isa::info(f).name.size() + 2);
  header_ = pad("form", form_width_);
  for (std::size_t i : checks) {
    const std::string name = registry.checks()[i]->name();
    widths_.push_back(std::max<std::size_t>(name.size() + 2, 16));
    header_ += pad(name, widths_.back());
  }
  header_ = trimmed(std::move(header_));
  if (!forms.empty()) row_form_ = forms.front();
}

std::string MatrixTable::add(const MatrixCell& cell) {
  std::string done;
  if (cell.form != row_form_ || row_.empty()) {
    done = finish();
    row_form_ = cell.form;
    row_ = pad(form_name(cell.form), form_width_);
    next_column_ = 0;
  }
  while (next_column_ < checks_.size() && checks_[next_column_] != cell.check)
    row_ += pad("-", widths_[next_column_++]);
  row_ += pad(cell_text(cell.outcome), widths_[next_column_++]);
  return done;
}

std::string MatrixTable::finish() {
  if (row_.empty()) return {};
  // Columns that do not apply to the form stay "-".
  while (next_column_ < checks_.size())
    row_ += pad("-", widths_[next_column_++]);
  std::string done = trimmed(std::move(row_));
  row_.clear();
  return done;
}

std::string matrix_summary(const MatrixReport& report, const CheckRegistry& registry, std::size_t forms,
                           std::size_t checks) {
  const MatrixCell* slowest = report.slowest();
  std::string summary = std::to_string(forms) + " forms x " + std::to_string(checks) +
                        (checks == 1 ? " check: " : " checks: ") + std::to_string(report.cells.size()) +
                        " proofs, " + std::to_string(report.count(Verdict::Proved)) + " proved, " +
                        std::to_string(report.count(Verdict::Counterexample)) + " counterexamples, " +
                        std::to_string(report.count(Verdict::Unknown)) + " unknown, " +
                        std::to_string(report.count(Verdict::Error)) + " errors in " +
                        format_duration(report.wall_ns) + " wall on " + std::to_string(report.jobs) +
                        (report.jobs == 1 ? " thread" : " threads") + " (" +
                        format_duration(report.total_ns()) + " summed over cells)";
  if (slowest != nullptr) {
    summary += "; slowest " + form_name(slowest->form) + " (" + registry.checks()[slowest->check]->name() +
               ") " + format_duration(slowest->outcome.ns);
  }
  const auto slowest_cells = report.slowest(kSlowestShown);
  if (slowest_cells.size() > 1) {
    summary += "\nslowest cells:";
    for (const MatrixCell* c : slowest_cells)
      summary += "\n  " + format_duration(c->outcome.ns) + "  " + form_name(c->form) + " (" +
                 registry.checks()[c->check]->name() + ")";
  }
  return summary;
}

nlohmann::ordered_json cell_json(const MatrixCell& c, const CheckRegistry& registry) {
  nlohmann::ordered_json j = {{"form", form_name(c.form)},
                              {"check", registry.checks()[c.check]->name()},
                              {"verdict", to_string(c.outcome.verdict)},
                              {"seconds", static_cast<double>(c.outcome.ns) / 1e9},
                              {"detail", c.outcome.detail}};
  if (c.outcome.verdict == Verdict::Counterexample) j["data_test"] = c.outcome.data_test;
  return j;
}

nlohmann::ordered_json matrix_json(const MatrixReport& report, const CheckRegistry& registry,
                                   std::size_t forms, std::span<const std::size_t> checks,
                                   nlohmann::ordered_json results) {
  auto timed = [&registry](const MatrixCell& c) {
    return nlohmann::ordered_json{{"form", form_name(c.form)},
                                  {"check", registry.checks()[c.check]->name()},
                                  {"seconds", static_cast<double>(c.outcome.ns) / 1e9}};
  };
  nlohmann::ordered_json j;
  j["result"] = report.all_proved() ? "proved" : "failed";
  auto names = nlohmann::ordered_json::array();
  for (std::size_t i : checks)
    names.push_back(registry.checks()[i]->name());
  j["checks"] = std::move(names);
  j["forms"] = forms;
  j["proofs"] = report.cells.size();
  j["proved"] = report.count(Verdict::Proved);
  j["counterexamples"] = report.count(Verdict::Counterexample);
  j["unknown"] = report.count(Verdict::Unknown);
  j["errors"] = report.count(Verdict::Error);
  j["seconds"] = static_cast<double>(report.total_ns()) / 1e9;
  j["wall_seconds"] = static_cast<double>(report.wall_ns) / 1e9;
  j["jobs"] = report.jobs;
  const MatrixCell* slowest = report.slowest();
  j["slowest"] = slowest != nullptr ? timed(*slowest) : nlohmann::ordered_json(nullptr);
  auto slow = nlohmann::ordered_json::array();
  for (const MatrixCell* c : report.slowest(kSlowestShown))
    slow.push_back(timed(*c));
  j["slowest_cells"] = std::move(slow);
  j["results"] = std::move(results);
  return j;
}

}  // namespace bpfdiff::oracle::smt
