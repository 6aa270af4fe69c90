#pragma once
// How fuzz targets report a broken invariant: one line naming what broke
// (the finding's title, used for deduplication), details, then abort() so
// every fuzzing engine records the input as a crash.
#include <string>

namespace bpfdiff::fuzz {

[[noreturn]] void report_violation(const std::string& title, const std::string& details);

#define BPFDIFF_FUZZ_CHECK(cond, title, details)                    \
  do {                                                              \
    if (!(cond)) ::bpfdiff::fuzz::report_violation(title, details); \
  } while (0)

}  // namespace bpfdiff::fuzz
