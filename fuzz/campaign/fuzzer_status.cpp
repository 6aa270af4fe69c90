#include "fuzz/campaign/fuzzer_status.hpp"

#include <cctype>
#include <string>
#include <vector>

namespace bpfdiff::cli {
namespace {

// The unsigned number at the start of `s` (after blanks); nothing if none.
std::optional<uint64_t> leading_number(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
    ++i;
  if (i == s.size() || std::isdigit(static_cast<unsigned char>(s[i])) == 0) return std::nullopt;
  uint64_t v = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0; ++i)
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  return v;
}

// The number after " key:" in a status line.
std::optional<uint64_t> field(std::string_view line, std::string_view key) {
  const std::string needle = " " + std::string(key) + ":";
  const std::size_t at = line.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  return leading_number(line.substr(at + needle.size()));
}

std::optional<FuzzerStatus> parse_status_line(std::string_view line) {
  // "#<execs>\t<EVENT> cov: ..." -- events are INITED, NEW, REDUCE, pulse, DONE, RELOAD.
  if (line.size() < 2 || line[0] != '#') return std::nullopt;
  const auto execs = leading_number(line.substr(1));
  if (!execs) return std::nullopt;
  FuzzerStatus s;
  s.execs = *execs;
  const auto cov = field(line, "cov");
  const auto corp = field(line, "corp");
  if (!cov && !corp) return std::nullopt;
  s.coverage = cov.value_or(0);
  s.features = field(line, "ft").value_or(0);
  s.corpus = corp.value_or(0);
  s.exec_per_sec = field(line, "exec/s").value_or(0);
  return s;
}

}  // namespace

std::optional<FuzzerStatus> parse_libfuzzer_output(std::string_view text) {
  std::optional<FuzzerStatus> last;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (auto s = parse_status_line(line)) last = s;
  }
  return last;
}

std::optional<FuzzerStatus> parse_afl_stats(std::string_view text) {
  FuzzerStatus s;
  bool any = false;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    while (!key.empty() && key.back() == ' ')
      key.remove_suffix(1);
    const auto value = leading_number(line.substr(colon + 1));
    if (!value) continue;
    if (key == "execs_done") {
      s.execs = *value;
      any = true;
    } else if (key == "execs_per_sec") {
      s.exec_per_sec = *value;
    } else if (key == "corpus_count") {
      s.corpus = *value;
    } else if (key == "edges_found") {
      s.coverage = *value;
    } else if (key == "saved_crashes" || key == "unique_crashes") {
      s.crashes = *value;
    }
  }
  if (!any) return std::nullopt;
  return s;
}

std::optional<FuzzerStatus> parse_afl_plot_data(std::string_view text) {
  std::vector<std::string> columns;
  std::string_view last_row;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) continue;
    if (line[0] == '#') {
      columns.clear();
      std::string_view rest = line.substr(1);
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        std::string_view name = rest.substr(0, comma);
        while (!name.empty() && name.front() == ' ')
          name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ')
          name.remove_suffix(1);
        columns.emplace_back(name);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      continue;
    }
    last_row = line;
  }
  if (columns.empty() || last_row.empty()) return std::nullopt;
  FuzzerStatus s;
  bool any = false;
  std::size_t column = 0;
  while (!last_row.empty() && column < columns.size()) {
    const std::size_t comma = last_row.find(',');
    const auto value = leading_number(last_row.substr(0, comma));
    last_row = comma == std::string_view::npos ? std::string_view() : last_row.substr(comma + 1);
    const std::string& name = columns[column++];
    if (!value) continue;
    if (name == "total_execs") {
      s.execs = *value;
      any = true;
    } else if (name == "execs_per_sec") {
      s.exec_per_sec = *value;
    } else if (name == "corpus_count" || name == "paths_total") {
      s.corpus = *value;
    } else if (name == "edges_found") {
      s.coverage = *value;
    } else if (name == "saved_crashes" || name == "unique_crashes") {
      s.crashes = *value;
    }
  }
  if (!any) return std::nullopt;
  return s;
}

}  // namespace bpfdiff::cli
