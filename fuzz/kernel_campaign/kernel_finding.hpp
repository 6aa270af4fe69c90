#pragma once
// One finding of the kernel campaign on disk: OUT/findings/<signature>/ with
//   finding.json   signature, kind, title, differences, seed and iteration,
//                  kernel releases, the reproducer command
//   case.data      the program as a .data test (maps, memory, budget, the
//                  reference's result): what the repro command replays
//   input.raw      the program and memory as a raw fuzz input, without the
//                  maps (for tools that read raw inputs; `--fuzz-input`)
//   original.data, original.raw   the program as found, when minimized
//   outcomes.json  every engine's outcome, kernel verdicts and logs included
//   kernel-<engine>.log   each kernel engine's log: the verifier log of a rejection,
//                  or what failed (a guest failure names the pool's record)
//   console.log    the guest console, for guest failures (from the pool's record)
// The directory is built under a temporary name and renamed into place, so
// a reader (or a campaign resumed after a crash) sees all of it or nothing.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oracle/compare.hpp"
#include "oracle/engine.hpp"
#include "oracle/known_kernel_bugs.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

struct KernelCase {
  uint64_t seed = 0;
  uint64_t iteration = 0;
  // The generator that wrote it (fuzz/kernel_mix.hpp); a mutant depends on
  // the programs accepted before it, so only its files reproduce it.
  std::string origin;
  vm::Program program;
  oracle::EngineInput input;
  std::vector<oracle::Outcome> outcomes;  // one per engine, in --engines order
};

struct KernelFindingRecord {
  std::string signature;  // file-name safe, e.g. "interp-vs-kernel-qemu.mismatch.r0"
  std::string kind;       // "divergence", "mismatch", "verifier soundness", "we reject", "guest failure", ...
  std::string title;
  std::vector<oracle::Difference> differences;
  std::string guest_record;  // the pool's record of a guest failure (holds console.log), else empty
  // kernel_minimize.hpp: the class ("jit", "verifier-rewrite", ...; empty for
  // guest failures and divergences of ours), and, when the case written is
  // the minimized one, the program it was minimized from.
  std::string bug_class;
  std::optional<vm::Program> original_program;
  std::vector<uint8_t> original_memory;
  std::size_t minimize_tests = 0;
  // The kernel engine (index in --engines) a kernel finding is against.
  std::optional<std::size_t> kernel_engine;
  // For a guest failure: its kind (guest_failure_kind), which minimization
  // keeps, and whether running the program again broke the guest the same
  // way (nothing when it was not tried: a repeat, or minimization off). A
  // failure that does not come back points at the host (a guest killed from
  // outside, memory pressure), not at the program.
  std::string guest_failure;
  std::optional<bool> reproduced;
  // A known kernel bug (oracle/known_kernel_bugs.hpp) that explains the
  // finding, or nullptr: a new one.
  const oracle::KnownKernelBug* known_bug = nullptr;
};

// The failure record path a guest pool names in a Failed response's log
// ("guest failure: ...; finding PATH"), or empty.
std::string guest_record_of(const oracle::Outcome& outcome);
// Whether a kernel outcome is a guest failure (panic, oops, hang, death).
bool is_guest_failure(const oracle::Outcome& outcome);
// The failure's kind as a file-name safe word ("guest failure: panic: ..."
// -> "panic"); empty when the outcome is no guest failure.
std::string guest_failure_kind(const oracle::Outcome& outcome);
// Why a kernel engine gave up on the program without judging it
// ("deadline", "too slow": guest_pool.hpp, kAbandonedPrefix), or empty when
// it did not. Such an outcome is never a finding and never compared.
std::string abandoned_reason(const oracle::Outcome& outcome);

nlohmann::ordered_json outcome_json(const oracle::Outcome& outcome);

// Writes OUT/findings/<signature>/ (findings_dir is OUT/findings). When that
// directory already exists the finding is a repeat and nothing is written;
// returns the directory either way.
Result<std::string> write_kernel_finding(const std::string& findings_dir, const KernelFindingRecord& finding,
                                         const KernelCase& c, const std::vector<std::string>& engines);

// "bpfdiff repro DIR/case.data --budget N --engines a,b,c"
std::string kernel_repro_command(const std::string& finding_dir, const KernelCase& c,
                                 const std::vector<std::string>& engines);

}  // namespace bpfdiff::cli
