#include "fuzz/gate/gate_runs.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace bpfdiff::cli {

oracle::EngineInput varied_input(const oracle::EngineInput& input) {
  oracle::EngineInput varied = input;
  varied.memory.resize(input.memory.size() / 2);
  for (uint8_t& b : varied.memory)
    b = static_cast<uint8_t>(~b);
  ++varied.seed;
  return varied;
}

std::vector<oracle::Engine::LaterRun> gate_later_runs(const oracle::EngineInput& input) {
  std::vector<oracle::Engine::LaterRun> later;
  for (const GateRerun r : kGateReruns) {
    switch (r) {
      case GateRerun::Again:
        later.push_back({oracle::Engine::Rerun::Carry, std::nullopt});
        break;
      case GateRerun::Varied:
        later.push_back({oracle::Engine::Rerun::Carry, varied_input(input)});
        break;
      case GateRerun::MapsReset:
        later.push_back({oracle::Engine::Rerun::ResetMaps, std::nullopt});
        break;
    }
  }
  return later;
}

std::string rerun_description(std::size_t run) {
  if (run == 0 || run > std::size(kGateReruns)) return "";
  std::string what;
  switch (kGateReruns[run - 1]) {
    case GateRerun::Again:
      what = "the same input; maps and the engine's state carried over from the run before";
      break;
    case GateRerun::Varied:
      what =
          "a varied input -- the first half of the memory with every byte inverted, seed + 1 -- "
          "maps and the engine's state carried over from the run before";
      break;
    case GateRerun::MapsReset:
      what = "the first input again; maps reset before it, the engine's own state carried over";
      break;
  }
  return "on run " + std::to_string(run + 1) + " of one prepared program (" + what + ")";
}

bool runs_varied_input(std::size_t run) {
  for (std::size_t i = 0; i < run && i < std::size(kGateReruns); ++i) {
    if (kGateReruns[i] == GateRerun::Varied) return true;
  }
  return false;
}

bool all_in_process(const NamedEngines& engines) {
  const std::vector<std::string> kernels = oracle::kernel_engine_names();
  return std::none_of(engines.names.begin(), engines.names.end(), [&](const std::string& name) {
    return std::find(kernels.begin(), kernels.end(), name) != kernels.end();
  });
}

GateRuns run_like_the_gate(NamedEngines& engines, const vm::Program& program,
                           const oracle::EngineInput& input, bool reruns) {
  reruns = reruns && all_in_process(engines);
  const std::vector<oracle::Engine::LaterRun> later =
      reruns ? gate_later_runs(input) : std::vector<oracle::Engine::LaterRun>{};
  std::vector<std::vector<oracle::Outcome>> runs;  // per engine, per run
  for (const auto& engine : engines.engines) {
    // run() for a single run: the kernel engines override it.
    runs.push_back(reruns ? engine->run_repeatedly(program, input, later)
                          : std::vector<oracle::Outcome>{engine->run(program, input)});
  }
  // A rejection is a single outcome: compare up to the shortest sequence
  // (a load verdict that differs shows in the first run).
  GateRuns result;
  result.runs = runs.front().size();
  for (const auto& r : runs)
    result.runs = std::min(result.runs, r.size());
  for (std::size_t run = 0; run < result.runs; ++run) {
    result.outcomes.clear();
    for (auto& r : runs)
      result.outcomes.push_back(std::move(r[run]));
    result.differences = differences_from_first(result.outcomes);
    if (!result.differences.empty()) {
      result.diverged = run;
      break;
    }
  }
  return result;
}

FileDiff diff_file_gate_runs(const std::string& path, const FileDiffOptions& options, NamedEngines& engines) {
  PreparedFileDiff p = prepare_file_diff(path, options);
  if (!p.input) return p.diff;
  FileDiff& d = p.diff;
  GateRuns runs =
      run_like_the_gate(engines, p.input->program, engine_input(p.input->memory, d.budget, d.setup));
  d.runs = runs.runs;
  d.outcomes = std::move(runs.outcomes);
  d.differences = std::move(runs.differences);
  d.diverged_run = runs.diverged;
  if (runs.diverged) d.run_note = rerun_description(*runs.diverged);
  return d;
}

std::optional<fuzz::Signature> gate_runs_signature(const FindingCase& c, NamedEngines& engines) {
  if (engines.engines.size() < 2) return std::nullopt;
  const GateRuns runs = run_like_the_gate(engines, c.program, engine_input(c.memory, c.budget, c.setup));
  if (!runs.diverged || *runs.diverged == 0 || runs.differences.empty()) return std::nullopt;
  const EngineDifference& d = runs.differences.front();
  fuzz::Signature s;
  s.reference = d.left;
  s.engine = d.right;
  s.field = fuzz::normalize_field(d.difference.field);
  s.form = "run" + std::to_string(*runs.diverged + 1);
  return s;
}

MinimizedFinding minimize_gate_runs_finding(const FindingCase& c, const fuzz::Signature& signature,
                                            NamedEngines& engines, const fuzz::MinimizeOptions& options) {
  MinimizedFinding out;
  out.signature = signature;
  out.original = c;
  out.gate_runs = true;
  out.minimized = shrink_finding(
      c, signature, [&](const FindingCase& x) { return gate_runs_signature(x, engines); }, options,
      &out.stats);
  out.reference = engines.engines.front()->run(
      out.minimized.program, engine_input(out.minimized.memory, out.minimized.budget, out.minimized.setup));
  return out;
}

}  // namespace bpfdiff::cli
