#include "oracle/known_kernel_bugs.hpp"

#include <cstdint>

#include "oracle/kernel/kernel_release.hpp"
#include "oracle/kernel_compare.hpp"
#include "vm/isa/raw.hpp"
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
       4, &map_results_zero_extended(), nullptr},
      {"exit-offset-not-checked",
       "the verifier accepts an exit instruction whose offset field (reserved, must be zero) is not zero",
       "not fixed upstream: 6.1, 6.12 and 6.18 accept it (kernel/bpf/verifier.c checks exit's src, imm, "
       "registers and class only)",
       0, 0, &default_helpers(), exit_offsets_cleared},
  };
  return bugs;
}

const KnownKernelBug* explain_with_known_bug(const vm::Program& program, const EngineInput& input,
                                             const Outcome& kernel) {
  if (!kernel.kernel || kernel.kernel->verdict != kernel::KernelVerdict::Accepted) return nullptr;
  for (const KnownKernelBug& bug : known_kernel_bugs()) {
    if (!predates(kernel.kernel->release, bug)) continue;
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
