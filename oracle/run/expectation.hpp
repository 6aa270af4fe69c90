#pragma once
// Whether a run came out as a .data test says it should: `-- result` is
// compared as a number, `-- error` as a substring of the error message.
#include <cstdint>
#include <optional>
#include <string>

#include "vm/text/data_file.hpp"

namespace bpfdiff::cli {

// What a run produced: r0, or the message of the error that stopped it
// (a validation error or a run-time error).
struct Observed {
  std::optional<uint64_t> r0;
  std::string error;
};

struct Verdict {
  bool match = false;
  std::string expected;  // "0x2a" or "error containing '...'"
  std::string observed;  // "0x2a" or "error '...'"
};

// nullopt when the test states neither a result nor an error.
std::optional<Verdict> check_expectation(const text::DataTest& test, const Observed& observed);

}  // namespace bpfdiff::cli
