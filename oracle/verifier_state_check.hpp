#pragma once
// The verifier-state oracle: soundness of the Linux verifier's own beliefs,
// even when the outputs of kernel and VM agree.
//
// A program the kernel accepts is loaded again with a level-2 log
// (oracle/kernel/verifier_log.hpp: the states the verifier explored, per
// instruction), then run in our interpreter with a trace. Reported:
//  (a) Unvisited: our run executes an instruction the verifier never
//      visited (the kernel would have removed or poisoned it);
//  (b) Value / Slot: a register or stack slot whose concrete value lies
//      outside every state the verifier logged at that instruction, for a
//      value it claims to know;
//  (c) Fault: our run faults on a program the verifier accepted.
//
// Following the verifier's rules so that every report is a true violation:
//  - values are compared only up to the first instruction of our run where
//    the verifier pruned a path ("safe"): past it the verifier's states for
//    registers it did not mark precise are not claims about our path;
//  - a register or slot is compared only when every state logged there
//    (for the same call depth) makes a claim about it (scalars and pointers
//    into the frame or the memory; other pointer types make none);
//  - a pc reached on a path the log's reconstruction lost holds no claims.
//  - (a) and (c) hold for the whole run, pruning or not.
//
// How the program is loaded for the log: as the full-state recipe's
// prologue presents it (r1 = the memory as a map value, r2 = its length,
// r0 and r3..r9 = 0 with `zero_registers`), followed by the program's own
// instructions unchanged: no epilogue, no rewritten exits, so the
// verifier's pruning points are the program's own (shifted by the
// prologue). BPF_PROG_TYPE_SYSCALL, sleepable, as in the recipe. The
// program's array and hash maps are created as every kernel run creates
// them (oracle/kernel/kernel_maps.hpp: a .rodata frozen with its contents)
// and its map lddw instructions relocated to them; a map value pointer is
// in a claim when it lies in a value of some map of the logged key and
// value sizes (the memory counts as a one-value array). Programs with a
// program array are not checked: a tail call's target would start at the
// prologue again.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/kernel/verifier_log.hpp"
#include "vm/program/program.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle {

enum class ViolationKind : uint8_t { Unvisited, Value, Slot, Fault };
const char* to_string(ViolationKind kind);

struct StateViolation {
  ViolationKind kind = ViolationKind::Value;
  uint32_t pc = 0;    // in the program as we run it (the prologue not counted)
  std::string where;  // "r3", "fp-8", "fp-8 byte 2", or "" for (a) and (c)
  uint64_t value = 0;
  std::string claim;  // the verifier's states there, as logged (joined by " | "), or the fault
  std::string describe() const;
};

enum class CheckStatus : uint8_t {
  Checked,      // accepted, logged, replayed
  Rejected,     // the verifier said no: nothing to check
  Unsupported,  // not loadable this way (program arrays, what check_expressible refuses, a log too large)
  Failed,       // our side could not run it (validator), or bpf() failed
};
const char* to_string(CheckStatus status);

struct StateCheckResult {
  CheckStatus status = CheckStatus::Failed;
  std::string reason;
  std::vector<StateViolation> violations;
  uint64_t steps = 0;           // instructions our run executed
  uint64_t steps_checked = 0;   // of those, compared against logged states (before pruning)
  uint64_t values_checked = 0;  // register and slot values compared
  bool log_complete = false;
  std::string log;  // the level-2 log (kept only when asked)
};

// Pure part: our run of `program` on `memory` against `log`, the parsed log
// of a kernel program whose instruction pc_shift + p is our p.
// `spill_sizes_logged`: the log marks spills narrower than a slot (kernels
// from 6.8 print the slot types of the bytes above a subregister spill);
// without that, a spilled value cannot be told from a 4-byte one and
// spilled values are not compared (zeroed bytes and registers still are).
StateCheckResult check_states(const vm::Program& program, std::span<const uint8_t> memory,
                              const kernel::VerifierLog& log, uint32_t pc_shift,
                              bool spill_sizes_logged = true);

// Whether a kernel of this release (`uname -r`) marks subregister spills
// in its log: 6.8 and later.
bool kernel_logs_spill_sizes(std::string_view release);

// What goes in front of the program for the log: `lddw r1, map_value(map_fd)`
// (or r1 = 0 without memory), r2 = memory_size, and r0, r3..r9 = 0 when
// `zero_registers`. The program's pc p is pc p + size() of this in the log.
std::vector<isa::RawInsn> state_check_prologue(int map_fd, uint32_t memory_size, bool zero_registers);

struct StateCheckOptions {
  bool zero_registers = true;  // r0, r3..r9 = 0 as the full-state recipe sets them; else left unset
  bool keep_log = false;       // copy the log into the result
  std::size_t max_log_bytes = std::size_t{256} << 20;
};

class VerifierStateChecker {
 public:
  // Fails with the reason bpf() cannot be used here.
  static Result<std::unique_ptr<VerifierStateChecker>> create(const StateCheckOptions& options = {});
  ~VerifierStateChecker();
  VerifierStateChecker(const VerifierStateChecker&) = delete;
  VerifierStateChecker& operator=(const VerifierStateChecker&) = delete;

  StateCheckResult check(const vm::Program& program, std::span<const uint8_t> memory);

  // The instructions loaded for the log (prologue + program) and the
  // prologue's length, for reproducers; fails like check() would.
  Result<std::vector<isa::RawInsn>> kernel_program(const vm::Program& program, std::size_t memory_size,
                                                   uint32_t* prologue = nullptr);

 private:
  struct Impl;
  explicit VerifierStateChecker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bpfdiff::oracle
