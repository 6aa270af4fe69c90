#pragma once
// `bpfdiff gate`, the regression gate for JIT changes, as a library: three
// deterministic phases that run programs on every engine and compare full
// outcomes with the first engine's (the interpreter's), stopping at the first
// divergence, and the writer that turns that divergence into reproducers.
//
//   corpus       every .data under DIR/regressions and every seed under
//                DIR/fuzz/<target>/, read the way that target reads it;
//   single-insn  fuzz::enumerate_single_insn_cases: every form, N cases each;
//   generated    N cases of fuzz::generate_limit_case, each from its own seed
//                derived from --seed, so case i of seed s is always the same
//                program in the same run mode (memory, none, packet, mbuff,
//                sometimes after a store, atomic or read on the read-only
//                context or a read-only .rodata map) with the same limits;
//   limits       the first M generated cases, each run with the instruction
//                budget and the call depth exactly at, one below and one
//                above what the run needs, budgets that run out on entering
//                each block the run enters and at its last instruction, and
//                a sweep over the whole run (fuzz::limit_variants);
//   elf          every program of each corpus ELF object (DIR/fuzz/elf_loader)
//                in packet and mbuff mode over each packet of DIR/elf/inputs,
//                and in memory and none mode; then generated objects
//                (fuzz/elf_object_gen.hpp: several generated programs, a
//                shared .text, legacy maps and global data, relocations of
//                every kind), each read back exactly as written and each
//                program run in its own mode.
//
// Every case runs with the budget of the fuzz target it comes from, so a
// finding written as a fuzz input replays with `bpfdiff repro --budget` and
// the run-mode flags the gate prints.
//
// Every case of every phase is prepared once per engine and run four times
// (when all engines are in-process ones): the state a run leaves -- map
// contents, the stack frames the next run must find zeroed, the JIT's
// persistent context -- is carried into the second run (same input) and the
// third (a varied input), and the maps are reset before the fourth (the
// first input again); each run's full outcome is compared.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz/findings/atomic_file.hpp"
#include "fuzz/findings/finding.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/gate/gate_runs.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/signature.hpp"
#include "oracle/engine.hpp"
#include "oracle/outcome.hpp"
#include "vm/program/program.hpp"
#include "vm/text/data_file.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

enum class GatePhase : uint8_t { Corpus, SingleInsn, Generated, Limits, Elf };
inline constexpr GatePhase kGatePhases[] = {GatePhase::Corpus, GatePhase::SingleInsn, GatePhase::Generated,
                                            GatePhase::Limits, GatePhase::Elf};

const char* to_string(GatePhase phase);  // "corpus", "single-insn", "generated", "limits", "elf"

// Slots of a generated program: what the interp_vs_jit_gen fuzz target asks for.
inline constexpr std::size_t kGateGeneratedSlots = fuzz::kGenTargetSlots;

struct GateOptions {
  uint64_t seed = 1;
  std::size_t programs = 20'000;
  std::size_t insn_per_form = 16;
  // Generated cases the limits phase runs at, below and above their limits.
  std::size_t limit_programs = 1'000;
  // Budgets of the limits phase's sweep through each run's blocks.
  std::size_t limit_sweep = 8;
  // Generated ELF objects of the elf phase (`bpfdiff gate` asks for
  // programs / 100).
  std::size_t elf_objects = 0;
  // Corpus roots, each holding regressions/ and fuzz/<target>/ (either may be missing).
  std::vector<std::string> corpus_dirs;
  // Run each case again on its prepared program (see above); ignored when an
  // engine is not in-process.
  bool reruns = true;
};

// One program with its input, as the gate runs it.
struct GateCase {
  std::string id;      // names the finding's files: "generated-s1-000042", "corpus-interp_raw-budget"
  std::string origin;  // for people: the corpus file, "seed 1, program 42", "form add64_imm, case 3"
  vm::Program program;
  std::vector<uint8_t> memory;  // the packet in the packet modes
  uint64_t budget = 0;
  RunSetup setup;  // run mode and call depth
  // Generated cases: the generator's decisions, i.e. the interp_vs_jit_gen
  // input that rebuilds this program -- with the maps it declares, which the
  // raw layout (u32 length | program | memory) cannot carry.
  std::vector<uint8_t> decisions;
};

struct GateFinding {
  GatePhase phase = GatePhase::Corpus;
  GateCase gate_case;
  std::vector<oracle::Outcome> outcomes;  // one per engine; [0] is the reference
  std::vector<EngineDifference> differences;
  // Where the reference and the first engine disagreeing with it part ways
  // (unset when that divergence does not reproduce, and for a later run).
  std::optional<fuzz::Signature> signature;
  // The run of the prepared program that diverged: 0 the first, then the
  // runs of kGateReruns in turn (1: same input, state carried over; 2: the
  // varied input, state carried over; 3: maps reset).
  std::size_t run = 0;

  // The first engine that disagrees with the reference.
  std::string divergent_engine() const;
};

struct GatePhaseStats {
  GatePhase phase = GatePhase::Corpus;
  std::size_t programs = 0;  // cases run on every engine (a limits or elf program once, whatever its runs)
  std::size_t skipped = 0;   // corpus files no target reads (asm_roundtrip, undecodable bytes)
  double seconds = 0;
  // Runs per run mode, in the order of fuzz::all_run_modes (memory, none,
  // packet, mbuff). A phase's runs exceed its programs where one program runs
  // several times (limits, elf).
  std::array<std::size_t, 4> runs_by_mode{};
  std::size_t runs() const;
};

struct GateReport {
  std::vector<std::string> engines;
  std::vector<GatePhaseStats> phases;  // those that ran, in order
  std::optional<GateFinding> finding;  // set when a phase stopped at a divergence
  double seconds = 0;

  std::size_t total_programs() const;
  double programs_per_second() const;
};

// Called after every case with the phase, cases done and cases in the phase.
using GateProgressFn = std::function<void(GatePhase phase, std::size_t done, std::size_t total)>;

// Runs the phases in order on `engines` (the first is the reference), stopping
// at the first divergence. Fails only when a corpus directory or one of its
// regression tests cannot be read.
Result<GateReport> run_gate(const GateOptions& options, NamedEngines& engines,
                            const GateProgressFn& progress = {});

// The .data test of a finding: the program as assembly, its memory, maps and
// run mode and what the reference engine produced (r0, or the error message
// it stopped with).
text::DataTest finding_data_test(const GateFinding& finding);

struct WrittenFinding {
  std::string input_path;      // fuzz layout: u32 length | program | memory
  std::string data_path;       // the .data test
  std::string decisions_path;  // generated cases: <id>.gen, an interp_vs_jit_gen input; else empty
  // A divergence on or after the varied run: <id>.varied.mem, that run's
  // memory (the first half, inverted); else empty.
  std::string varied_memory_path;
  std::string repro_command;
  std::string diff_command;
};

// Writes the finding's files into `out_dir` (created if needed), each
// atomically: a temporary file in the same directory, fsync, rename. A
// program with maps is reproduced from its .gen decisions (the raw input and
// the .data test hold no maps): the commands then use `--layout generated`.
Result<WrittenFinding> write_finding(const GateFinding& finding, const std::string& out_dir,
                                     const std::vector<std::string>& engines);

// What the gate prints about a finding: the engines, phase and case, each
// difference, and (when written) the reproducer's files and the commands.
std::string format_finding(const GateFinding& finding, const WrittenFinding* written);

// Throttles progress lines: ready() is true at most once per interval.
class ProgressThrottle {
 public:
  explicit ProgressThrottle(std::chrono::milliseconds interval = std::chrono::seconds(1));
  bool ready();

 private:
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace bpfdiff::cli
