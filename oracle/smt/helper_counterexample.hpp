#pragma once
// A counterexample of the helper-call proof (call_out_proof.hpp, the
// `call_helper` row) as a ready-to-run bpf_conformance .data test, its
// expected outcome from the interpreter. The proof leaves the helper
// arbitrary; a test runs a real one. So the failing query is solved again
// with the helper doing what the case's helper does in a test's run, which
// has no maps (helper_in_test_run):
//   - bpf_ktime_get_ns succeeds, makes no tail call and returns the run's
//     first clock reading, whatever its arguments;
//   - bpf_tail_call fails (HelperFailed on its map argument: there is no
//     map), whatever its arguments.
// The test loads r0..r9 with the counterexample's values, calls the helper,
// folds r1..r9 into r0 (r0 the result) and exits; `-- result` (or `--
// error`) is what the interpreter gives. A wrong result, a clobbered
// register, a wrong calling pc or a wrong map argument (both in the failed
// tail call's error) shows in it.
// What no such test shows, so the proof's re-solve leaves it out: the
// registers a failed helper leaves (a failed run reports only its error),
// and anything only a successful tail call reaches (it needs a program array
// and a target program the test does not build).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "oracle/smt/call_out_proof.hpp"
#include "vm/isa/raw.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

// What helper `id` does in a .data test's run without maps, called once:
// fails (whatever its arguments), or returns `result`. Empty for a helper
// whose behaviour there depends on its arguments or on maps.
struct TestRunHelper {
  bool fails = false;
  uint64_t result = 0;
};
std::optional<TestRunHelper> helper_in_test_run(uint32_t id);

struct HelperWitness {
  std::array<uint64_t, isa::kFramePointer> regs{};  // r0..r9 before the call
};

Result<std::string> helper_counterexample_data(const CallOutCase& c, const HelperWitness& w,
                                               std::string_view comment);

}  // namespace bpfdiff::oracle::smt
