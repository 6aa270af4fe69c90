#pragma once
// Kernel bugs this project has found and reproduced outside the harness, with
// their upstream fix where there is one (corpus/kernel-findings/<id>/ holds
// each one's raw bpf() reproducer and evidence). A campaign that meets one
// again on a kernel that has it labels the finding with it instead of raising
// a new alarm every night: a fuzzing engineer sees "known, see corpus/..."
// and a new bug still stands out.
//
// A bug is recognized by emulation, not by a pattern over registers: our
// interpreter is run again with the bug's behaviour emulated (e.g. a helper
// result cut to 32 bits), and the finding is the known bug only when that
// run agrees with the kernel on everything compared. A different bug that
// merely touches the same registers does not pass.
#include <string_view>
#include <vector>

#include "oracle/engine.hpp"
#include "oracle/outcome.hpp"
#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"

namespace bpfdiff::oracle {

// Which of a kernel's two engines a bug lives in: a bug of the JIT never
// explains an interpreted run (bpf_jit_enable=0, `kernel-qemu-interp`) and
// the other way round.
enum class KernelEngines { Both, JitOnly, InterpreterOnly };

struct KnownKernelBug {
  std::string_view id;        // file-name safe; corpus/kernel-findings/<id>/
  std::string_view what;      // one line: what the kernel does wrong
  std::string_view fixed_by;  // the upstream fix and the first release with it
  // Kernels at or past this release have the fix; the label is never given
  // to them (a regression there is a new finding). 0: not fixed upstream
  // (as of the newest kernel we ran), or fixed in a way a release number
  // cannot tell (a fix backported to stable trees): every kernel may have it,
  // and the emulation alone decides.
  unsigned fixed_major = 0;
  unsigned fixed_minor = 0;
  KernelEngines engines = KernelEngines::Both;
  // The bug emulated: our helpers with its behaviour, and/or the program as
  // the kernel effectively runs it (nullptr: as written).
  const vm::HelperRegistry* emulation = nullptr;
  vm::Program (*as_the_kernel_runs_it)(const vm::Program&) = nullptr;
};

const std::vector<KnownKernelBug>& known_kernel_bugs();

// The known bug explaining why `kernel` (an accepted kernel run of `program`
// on `input`) disagrees with our interpreter, or nullptr: none predates the
// kernel's release, or none makes our interpreter agree when emulated.
const KnownKernelBug* explain_with_known_bug(const vm::Program& program, const EngineInput& input,
                                             const Outcome& kernel);

}  // namespace bpfdiff::oracle
