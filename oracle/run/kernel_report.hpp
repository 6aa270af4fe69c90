#pragma once
// How `bpfdiff diff` and `bpfdiff repro` show kernel outcomes beside ours:
// the verdict with its errno and rejection reason, the kernel release, the
// verifier log (its tail), and the kernel rules' verdict on the pair.
#include <cstddef>
#include <string>
#include <vector>

#include "oracle/engine.hpp"
#include "oracle/outcome.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::cli {

// "kernel-host (6.18.44): rejected, EACCES, R# invalid mem access 'scalar'";
// empty for outcomes of our engines.
std::string kernel_verdict_line(const oracle::Outcome& outcome);

// For each kernel outcome: its verdict line, the kernel rules' result against
// `reference` (when that is one of ours), and the last `log_lines` lines of
// the verifier log of a rejection. Empty when no outcome is a kernel's.
std::string format_kernel_section(const oracle::Outcome& reference,
                                  const std::vector<oracle::Outcome>& outcomes, std::size_t log_lines = 40);

// For each kernel outcome that a known kernel bug explains (the kernel
// predates its fix and the bug emulated in our interpreter agrees with the
// kernel: oracle/known_kernel_bugs.hpp), which bug, where it is fixed and
// where its reproducer lives. Empty when none does, so a kernel at or past
// the fix, or a different difference, gets no label.
std::string format_known_kernel_bugs(const vm::Program& program, const oracle::EngineInput& input,
                                     const std::vector<oracle::Outcome>& outcomes);

// Whether any outcome comes from a kernel engine.
bool has_kernel_outcome(const std::vector<oracle::Outcome>& outcomes);

}  // namespace bpfdiff::cli
