#include "oracle/smt/check.hpp"

#include <chrono>

namespace bpfdiff::oracle::smt {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::Proved:
      return "proved";
    case Verdict::Counterexample:
      return "counterexample";
    case Verdict::Unknown:
      return "unknown";
    case Verdict::Error:
      return "error";
  }
  return "?";
}

CheckOutcome run_check(FormCheck& check, isa::Form form) {
  const auto start = std::chrono::steady_clock::now();
  CheckOutcome out = check.check(form);
  out.ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  return out;
}

}  // namespace bpfdiff::oracle::smt
