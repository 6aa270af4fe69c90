#include "oracle/known_kernel_bugs.hpp"

#include <cstdint>

#include "oracle/kernel/kernel_release.hpp"
#include "oracle/kernel_compare.hpp"
#include "vm/isa/raw.hpp"
#include "vm/program/maps.hpp"
#include "vm/runtime/helper_env.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::oracle {
namespace {

// A helper whose result reaches the program cut to its low 32 bits, zero
// extended: `user` is the real helper's spec (which lives as long as the
// registry it came from).
uint64_t low_half_of_result(vm::HelperCall& call) {
  const auto* real = static_cast<const vm::HelperSpec*>(call.user);
  call.user = real->user;
  return static_cast<uint32_t>(real->fn(call));
}

// Linux before 6.4 declared the map operations' update and delete as
// returning int; for a JITed program the verifier calls those operations
// directly instead of the helpers (whose u64 wrapper sign-extends), so a
// negative errno reaches r0 zero-extended: -ENOENT is 0x00000000fffffffe.
const vm::HelperRegistry& map_results_zero_extended() {
  static const vm::HelperRegistry registry = [] {
    vm::HelperRegistry r = default_helpers();
    for (const auto id : {vm::HelperId::MapUpdateElem, vm::HelperId::MapDeleteElem}) {
      const vm::HelperSpec* real = default_helpers().find(static_cast<uint32_t>(id));
      r.add({real->id, real->name, low_half_of_result, const_cast<vm::HelperSpec*>(real)});
    }
    return r;
  }();
  return registry;
}

// The verifier checks exit's source, immediate, registers and class but not
// its offset, a reserved field (RFC 9669: unused fields are zero), so it
// runs `exit` with any offset as a plain exit; our validator rejects it.
vm::Program exit_offsets_cleared(const vm::Program& program) {
  vm::Program out = program;
  for (isa::RawInsn& insn : out.slots) {
    if (insn.opcode == 0x95) insn.off = 0;  // BPF_JMP | BPF_EXIT
  }
  return out;
}

// Linux counted an attempted tail call into an empty slot of the program
// array towards the limit of 33 (MAX_TAIL_CALL_CNT), as well as the tail
// calls taken; our bpf_tail_call counts only those taken, the rule upstream
// settled on (vm/runtime/std_helpers.cpp). `user` is the real helper's spec.
uint64_t tail_call_counting_attempts(vm::HelperCall& call) {
  const auto* real = static_cast<const vm::HelperSpec*>(call.user);
  call.user = real->user;
  vm::MapInstance* progs = call.env == nullptr ? nullptr : call.env->maps.from_handle(call.args[1]);
  if (progs != nullptr && progs->def().type == vm::MapType::ProgArray) {
    const auto index = static_cast<uint32_t>(call.args[2]);
    if (index < progs->def().max_entries && call.env->tail_calls < vm::kMaxTailCalls &&
        !progs->program_at(index))
      ++call.env->tail_calls;  // the attempt counts; the real helper then falls through
  }
  return real->fn(call);
}

const vm::HelperRegistry& tail_calls_count_attempts() {
  static const vm::HelperRegistry registry = [] {
    vm::HelperRegistry r = default_helpers();
    const vm::HelperSpec* real = default_helpers().find(static_cast<uint32_t>(vm::HelperId::TailCall));
    r.add({real->id, real->name, tail_call_counting_attempts, const_cast<vm::HelperSpec*>(real)});
    return r;
  }();
  return registry;
}

bool in_engine(const KernelOutcome& kernel, const KnownKernelBug& bug) {
  switch (bug.engines) {
    case KernelEngines::Both:
      return true;
    case KernelEngines::JitOnly:
      return !kernel.interpreted;
    case KernelEngines::InterpreterOnly:
      return kernel.interpreted;
  }
  return false;
}

bool predates(std::string_view release, const KnownKernelBug& bug) {
  if (!kernel::kernel_release_at_least(release, 0, 0)) return false;  // an unknown release is never labelled
  if (bug.fixed_major == 0) return true;
  return !kernel::kernel_release_at_least(release, bug.fixed_major, bug.fixed_minor);
}

}  // namespace

const std::vector<KnownKernelBug>& known_kernel_bugs() {
  static const std::vector<KnownKernelBug> bugs = {
      {"map-op-result-zero-extended",
       "a failed bpf_map_update_elem/bpf_map_delete_elem returns its negative errno zero-extended "
       "(0x00000000fffffffe for -ENOENT) to a JITed program: the verifier calls the map's int-returning "
       "operation directly",
       "upstream 'bpf: return long from bpf_map_ops funcs' (JP Kobryn, bpf-next, March 2023; Linux 6.4)", 6,
       4, KernelEngines::Both, &map_results_zero_extended(), nullptr},
      {"exit-offset-not-checked",
       "the verifier accepts an exit instruction whose offset field (reserved, must be zero) is not zero",
       "not fixed upstream: 6.1, 6.12 and 6.18 accept it (kernel/bpf/verifier.c checks exit's src, imm, "
       "registers and class only)",
       0, 0, KernelEngines::Both, &default_helpers(), exit_offsets_cleared},
      // One behaviour, two engines, two bounds. The JIT: 6.1's x86-64 JIT
      // counts the attempt, 6.12's does not ("Inc tail_call_cnt if the slot
      // is populated"); which release between them changed it we have not
      // pinned down, so every JIT before 6.12 may have it (one that does not
      // agrees with us and is never labelled). The interpreter: every one we
      // ran (6.1, 6.12; 6.18's was not run) counts it until upstream
      // 3733f4be2870, which AUTOSEL queued for stable trees, so a release
      // number cannot say whether an interpreter has the fix: no bound.
      {"tail-call-count-jit-vs-interp",
       "the x86-64 JIT counts a tail call into an empty program-array slot towards the limit of 33 "
       "(MAX_TAIL_CALL_CNT), as well as the tail calls taken",
       "changed between 6.1 and 6.12 (6.12's emit_bpf_tail_call_indirect counts only a populated slot; "
       "the commit is not pinned down here)",
       6, 12, KernelEngines::JitOnly, &tail_calls_count_attempts(), nullptr},
      {"tail-call-count-jit-vs-interp",
       "the interpreter counts a tail call into an empty program-array slot towards the limit of 33 "
       "(MAX_TAIL_CALL_CNT), as well as the tail calls taken",
       "upstream 3733f4be2870 'bpf: Do not increment tailcall count when prog is NULL' (2026; queued for "
       "stable trees, so no release bound: 6.1 and 6.12 interpreters have it)",
       0, 0, KernelEngines::InterpreterOnly, &tail_calls_count_attempts(), nullptr},
  };
  return bugs;
}

const KnownKernelBug* explain_with_known_bug(const vm::Program& program, const EngineInput& input,
                                             const Outcome& kernel) {
  if (!kernel.kernel || kernel.kernel->verdict != kernel::KernelVerdict::Accepted) return nullptr;
  for (const KnownKernelBug& bug : known_kernel_bugs()) {
    if (!predates(kernel.kernel->release, bug) || !in_engine(*kernel.kernel, bug)) continue;
    const vm::Program as_run = bug.as_the_kernel_runs_it ? bug.as_the_kernel_runs_it(program) : program;
    if (bug.as_the_kernel_runs_it && as_run.slots == program.slots) continue;  // not this bug's shape
    auto emulated = make_engine("interp", *bug.emulation);
    if (!emulated) continue;
    if (compare_with_kernel((*emulated)->run(as_run, input), kernel).kind == KernelAgreement::Agree)
      return &bug;
  }
  return nullptr;
}

}  // namespace bpfdiff::oracle
