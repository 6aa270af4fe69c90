#include "oracle/run/expectation.hpp"

#include <string_view>

#include "oracle/run/hex.hpp"

namespace bpfdiff::cli {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::optional<Verdict> check_expectation(const text::DataTest& test, const Observed& observed) {
  if (!test.error && !test.result) return std::nullopt;
  Verdict v;
  v.observed = observed.r0 ? hex_u64(*observed.r0) : "error '" + observed.error + "'";
  if (test.error) {
    const std::string_view wanted = trim(*test.error);
    v.expected = "error containing '" + std::string(wanted) + "'";
    v.match = !observed.r0 && observed.error.find(wanted) != std::string::npos;
  } else {
    v.expected = hex_u64(*test.result);
    v.match = observed.r0 && *observed.r0 == *test.result;
  }
  return v;
}

}  // namespace bpfdiff::cli
