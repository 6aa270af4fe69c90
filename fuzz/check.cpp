#include "fuzz/check.hpp"

#include <cstdio>
#include <cstdlib>

namespace bpfdiff::fuzz {

void report_violation(const std::string& title, const std::string& details) {
  std::fprintf(stderr, "==bpfdiff== FINDING: %s\n%s\n", title.c_str(), details.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace bpfdiff::fuzz
