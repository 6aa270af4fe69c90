#pragma once
// The runs the gate makes of one prepared program, shared by `bpfdiff gate`
// and `bpfdiff repro --gate-runs`, so that a divergence the gate finds on a
// later run -- which one run of the program cannot show -- replays outside
// the gate from the finding's files.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/findings/file_diff.hpp"
#include "fuzz/findings/finding.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/minimize.hpp"
#include "fuzz/signature.hpp"
#include "oracle/engine.hpp"
#include "oracle/outcome.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::cli {

// The runs after the first on one prepared program, in order. Carrying the
// state into a run on the same input shows state a run leaves behind wrongly
// (map contents, dirty stack frames), but not a value an engine forgets to
// reset: on the same input a stale value equals the fresh one. So the third
// run is on a varied input (varied_input), still with the state carried,
// and the fourth on the first input again after the maps are reset: an
// error address, error pc, packet bound or register left by one of these
// runs then differs from what the interpreter's fresh values give.
enum class GateRerun : uint8_t { Again, Varied, MapsReset };
inline constexpr GateRerun kGateReruns[] = {GateRerun::Again, GateRerun::Varied, GateRerun::MapsReset};

// The input of the Varied run: the first half of the memory (of the packet
// in the packet modes) with every byte inverted -- accesses past the half
// fault, at other pcs and addresses than on the full memory, and the rest
// reads other values -- and the next seed (other ktime and prandom values).
oracle::EngineInput varied_input(const oracle::EngineInput& input);

// The later runs of kGateReruns for a case whose first run is on `input`.
std::vector<oracle::Engine::LaterRun> gate_later_runs(const oracle::EngineInput& input);

// "on run 3 of one prepared program (a varied input -- ...)" for run `run`
// (0 the first, then the runs of kGateReruns in turn); empty for run 0.
std::string rerun_description(std::size_t run);

// Whether run `run` (of kGateReruns) or one before it was on the varied input.
bool runs_varied_input(std::size_t run);

// Whether every engine prepares in-process, so that a prepared program can
// run again with the state its last run left: all but the kernel engines,
// which load per input.
bool all_in_process(const NamedEngines& engines);

struct GateRuns {
  std::size_t runs = 0;  // runs compared: 1 + kGateReruns, or 1 (a rejection, or no reruns)
  // The first run whose outcomes differ (0 the first); unset when all agree.
  std::optional<std::size_t> diverged;
  // That run's outcomes, one per engine ([0] the reference); the last run's when all agree.
  std::vector<oracle::Outcome> outcomes;
  std::vector<EngineDifference> differences;  // from the reference, on that run
};

// Runs `program` as the gate runs a case: with `reruns` (and in-process
// engines), each engine prepares it once and runs `input`, then
// gate_later_runs(input); else one run() per engine. Each run's full
// outcomes are compared with the first engine's, up to the first that differ.
GateRuns run_like_the_gate(NamedEngines& engines, const vm::Program& program,
                           const oracle::EngineInput& input, bool reruns = true);

// `bpfdiff diff --gate-runs`: diff_file with run_like_the_gate in place of
// one run per engine. The outcomes are those of the first run that differs
// (of the last run when all agree); a later run is named in run_note.
FileDiff diff_file_gate_runs(const std::string& path, const FileDiffOptions& options, NamedEngines& engines);

// The signature of a divergence on a LATER run of run_like_the_gate: the
// engines, the first differing field and "runN" (N = 2..4) in place of an
// instruction form -- a later run starts from the state the runs before it
// left, so there is no bisection on its budget. Nothing when the runs agree
// or the first run already differs (signature_of names that one).
std::optional<fuzz::Signature> gate_runs_signature(const FindingCase& c, NamedEngines& engines);

// Shrinks `c` while gate_runs_signature stays `signature`; the result is
// marked gate_runs (its regression test replays with `repro --gate-runs`,
// and the gate's corpus phase runs it four times like every case).
MinimizedFinding minimize_gate_runs_finding(const FindingCase& c, const fuzz::Signature& signature,
                                            NamedEngines& engines, const fuzz::MinimizeOptions& options = {});

}  // namespace bpfdiff::cli
