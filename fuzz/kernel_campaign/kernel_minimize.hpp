#pragma once
// Kernel findings a kernel developer can act on: the program shrunk while
// the kernel still accepts it and the same difference remains, and the bug
// classified by where the kernel goes wrong.
//
// "The same difference" is the finding's signature (kernel_signature): the
// engine pair, the kind (mismatch, verifier soundness, we reject) and what
// differs (the unmodified run's observation or the full state). A candidate
// whose clock or random-number helper result is no longer reduced to a
// constant is never kept: its difference would be the helper's, not a bug.
//
// Classes, from the same kernel's JIT and interpreter on the same program:
//   verifier/rewrite  both differ from RFC 9669 semantics (our VM): the
//                     verifier or its rewrites, which both execute;
//   jit               only the JIT does;
//   interpreter       only the interpreter does;
//   unclassified      one of the two is missing (a campaign without the pair,
//                     a host whose JIT is always on).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/kernel_campaign/kernel_finding.hpp"
#include "fuzz/minimize.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"

namespace bpfdiff::cli {

// "<ours>-vs-<kernel>.<kind>.<what>": one bug, one finding (the first
// differing register does not enter it).
std::string kernel_signature(const std::string& ours_name, const std::string& kernel_name,
                             const oracle::KernelComparison& k, const oracle::Outcome& ours);

// Whether every helper call's result (ktime_get_ns, get_prandom_u32) is
// reduced to 0 by the next instruction, as the generators write it.
bool helper_results_reduced(const vm::Program& program);

struct KernelMinimized {
  vm::Program program;
  std::vector<uint8_t> memory;
  fuzz::MinimizeStats stats;
};

// Shrinks `c` while the kernel accepts it and kernel_signature of `ours`
// against `kernel` stays `signature`.
KernelMinimized minimize_kernel_case(const KernelCase& c, const std::string& signature, oracle::Engine& ours,
                                     const std::string& ours_name, oracle::Engine& kernel,
                                     const std::string& kernel_name, std::size_t max_tests);

// Shrinks a program that broke `kernel`'s guest while the guest still fails
// the same way (guest_failure_kind: "panic", "oops", "hang", ...). A
// candidate that fails costs a guest restore (a hang its whole deadline), so
// besides `max_tests` at most `max_failures` candidates are run that fail;
// after that no further candidate is run or kept.
KernelMinimized minimize_guest_failure(const KernelCase& c, const std::string& failure_kind,
                                       oracle::Engine& kernel, std::size_t max_tests,
                                       std::size_t max_failures);

enum class KernelBugClass { VerifierOrRewrite, Jit, Interpreter, Unclassified };
const char* to_string(KernelBugClass c);  // "verifier-rewrite", "jit", "interpreter", "unclassified"

// The class from our outcome and the kernel JIT's and interpreter's
// (nothing for a missing one).
KernelBugClass classify_kernel_bug(const oracle::Outcome& ours, const std::optional<oracle::Outcome>& jit,
                                   const std::optional<oracle::Outcome>& interpreter);

// The class of a guest failure from the same kernel's JIT and interpreter
// guests on the same program: both break the same way -> the code both run
// (the verifier, its rewrites, helpers: "verifier-rewrite"); only one ->
// "jit" or "interpreter"; a missing side -> unclassified.
KernelBugClass classify_guest_failure(const std::string& failure_kind,
                                      const std::optional<oracle::Outcome>& jit,
                                      const std::optional<oracle::Outcome>& interpreter);

// The kernel engine that runs the same kernel the other way (kernel-qemu and
// kernel-qemu-interp), or nothing.
std::optional<std::string> kernel_counterpart(const std::string& kernel_engine);

}  // namespace bpfdiff::cli
