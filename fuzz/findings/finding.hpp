#pragma once
// A divergence input as the triage tools see it: read in the layout of the
// fuzz target that produced it, shrunk with fuzz::minimize while its
// signature stays the same, and written out as a .data regression test.
// Shared by `bpfdiff minimize` and the campaign's triage (`bpfdiff fuzz`).
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/findings/replay.hpp"
#include "fuzz/minimize.hpp"
#include "fuzz/signature.hpp"
#include "oracle/outcome.hpp"
#include "vm/program/program.hpp"
#include "vm/text/data_file.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

// How a file's bytes become a program and its input memory.
enum class FindingLayout : uint8_t {
  Raw,         // u32 length | program | memory (the *_raw targets)
  Generated,   // generator decisions (interp_vs_jit_gen)
  SingleInsn,  // single-instruction case decisions (interp_vs_jit_insn)
  Program,     // assembly, bytecode or a .data test (with its memory)
  Kernel,      // interp_vs_kernel: byte 0 chooses raw or a generator (fuzz/kernel_mix.hpp)
  LoopFree,    // loop-free generator decisions (smt_vs_engines)
  JitDecode,   // jit_decode: byte 0 the JIT options, then the raw layout
  Asm,         // asm_roundtrip: byte 0 odd, then slots; even, then assembly text
  ElfGen,      // elf_gen: decisions of a generated ELF object (fuzz/elf_gen_case.hpp)
};

// "raw", "generated", "single-insn", "program", "kernel", "loop-free", "jit-decode", "asm", "elf-gen"
const char* to_string(FindingLayout layout);
std::optional<FindingLayout> finding_layout_named(std::string_view name);
std::vector<std::string> finding_layout_names();

// The layout a differential fuzz target reads its inputs in; nothing for the
// targets that do not compare engines (their crashes are not divergences).
std::optional<FindingLayout> layout_of_target(std::string_view target);

struct FindingCase {
  vm::Program program;
  std::vector<uint8_t> memory;
  uint64_t budget = 0;  // what the target (or the .data test) runs with
  RunSetup setup;       // the run mode and call depth it runs with
  FindingLayout layout = FindingLayout::Program;
  // An input that holds several runs (elf-gen: every program of an object in
  // every mode) is read as one of them: which, e.g. "program 2 of 3 (prog_1)
  // in packet mode, its own". Empty for the others.
  std::string part;
  // elf-gen: the generated object and the name of the program `program` is
  // (`bpfdiff run OBJECT --program NAME` runs it). Empty for the others.
  std::vector<uint8_t> elf_object;
  std::string elf_program;
};

// Reads `path` in `layout`, with that layout's budget (a .data test's
// "# budget N" comment, else the default budget, for Program). An elf-gen
// input regenerates its object, loads it (an error when the loader reads it
// back differently: the loader bug elf_gen reports) and is read as the first
// run elf_gen checks on which the interpreter and a JIT option set disagree
// (fuzz::find_divergence, the target's own oracle), else as its first run.
Result<FindingCase> read_finding(const std::string& path, FindingLayout layout);

// The signature of the first engine of `engines` that disagrees with the
// first one (the reference) on `c`; nothing when they all agree.
std::optional<fuzz::Signature> signature_of(const FindingCase& c, NamedEngines& engines);

struct MinimizedFinding {
  fuzz::Signature signature;
  FindingCase original;
  FindingCase minimized;
  fuzz::MinimizeStats stats;
  oracle::Outcome reference;  // the reference engine's outcome on the minimized case
  // A divergence on a later run of the gate's sequence (fuzz/gate/gate_runs.hpp):
  // the test replays with `bpfdiff repro --gate-runs`.
  bool gate_runs = false;
};

// Shrinks `c`'s program and memory while `signature_fn` of the candidate
// stays `signature`: the loop of minimize_finding and of the gate's
// later-run replay (fuzz/gate/gate_runs.hpp), which differ only in how they
// run a candidate.
using FindingSignatureFn = std::function<std::optional<fuzz::Signature>(const FindingCase&)>;
FindingCase shrink_finding(const FindingCase& c, const fuzz::Signature& signature,
                           const FindingSignatureFn& signature_fn, const fuzz::MinimizeOptions& options,
                           fuzz::MinimizeStats* stats);

// Shrinks `c` while signature_of stays equal to `signature`.
MinimizedFinding minimize_finding(const FindingCase& c, const fuzz::Signature& signature,
                                  NamedEngines& engines, const fuzz::MinimizeOptions& options = {});

// A .data test of `program` on `memory` that expects what `reference`
// produced: its r0, or the message of the error it stopped with (a load or a
// run-time error). How every finding is written as a test. The assembly
// gives back the very slots: an encoding no mnemonic spells is a `.slot`.
// The test's `-- mode` is `setup`'s (none for memory mode); the call depth
// goes into a header comment (call_depth_comment).
text::DataTest reference_data_test(const vm::Program& program, std::span<const uint8_t> memory,
                                   const oracle::Outcome& reference, const RunSetup& setup = {});

// A .data file that replays `program` as it ran, with `bpfdiff repro`, `diff`
// and `minimize`: `comments` (each line starting with '#'), "# budget N", the
// call depth, then reference_data_test's text -- so the maps (a program
// array's targets included), the run mode and the memory come along, which a
// raw fuzz input (fuzz/raw_input.hpp) cannot carry.
std::string replay_data_text(const vm::Program& program, std::span<const uint8_t> memory,
                             const oracle::Outcome& reference, uint64_t budget, const RunSetup& setup = {},
                             std::string_view comments = {});

// replay_data_text expecting nothing (no `-- result`, no `-- error`): for a
// case written before it runs, or one whose reference outcome is not at hand.
std::string case_data_text(const vm::Program& program, std::span<const uint8_t> memory, uint64_t budget,
                           const RunSetup& setup = {}, std::string_view comments = {});

// "# max-call-depth N\n" when `setup` has a limit other than the default, else empty.
std::string call_depth_comment(const RunSetup& setup);

// The regression test: header comments (signature, origin, "# budget N", the
// repro command), the program as assembly, its memory and the reference
// engine's result -- what every engine must produce once the bug is fixed.
std::string regression_test_text(const MinimizedFinding& f, const std::string& origin,
                                 const std::string& data_path);

// A "# budget N" comment before the first section of a .data file, as the
// gate's findings and regression tests carry it; nullopt when there is none.
std::optional<uint64_t> data_test_budget(std::string_view text);

// Writes the regression test atomically into `dir` as <signature key>.data,
// or <key>-2.data, -3, ... when a different test already has that name. An
// identical existing file is left as it is. Returns the path.
Result<std::string> write_regression_test(const MinimizedFinding& f, const std::string& origin,
                                          const std::string& dir);

}  // namespace bpfdiff::cli
