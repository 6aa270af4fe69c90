#pragma once
// The interpreter-against-every-engine oracle shared by the differential
// fuzz targets and the tests: run one program on one input in the
// interpreter and in every other engine of oracle::engine_names(), compare
// full outcomes with CompareRules::everything().
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz/generator.hpp"
#include "fuzz/signature.hpp"
#include "oracle/compare.hpp"
#include "oracle/engine.hpp"

namespace bpfdiff::fuzz {

struct Divergence {
  std::string engine;                           // the engine that disagrees with the interpreter
  std::vector<oracle::Difference> differences;  // of the full runs
  Signature signature;                          // where they part ways

  // The signature's title, "divergence interp vs <engine>: <field> at <form>".
  std::string title() const;
  std::string details() const;  // one difference per line
};

// The first engine (in engine_names() order) whose outcome differs from the
// interpreter's, or nothing when all agree. `reference`, when given, receives
// the interpreter's outcome. Engines are created once per process.
std::optional<Divergence> find_divergence(const vm::Program& program, const oracle::EngineInput& input,
                                          oracle::Outcome* reference = nullptr);

// The signature of the first engine that disagrees with the interpreter,
// as find_divergence finds it; what the minimizer keeps constant.
std::optional<Signature> find_signature(const vm::Program& program, const oracle::EngineInput& input);

// find_divergence, reporting a divergence through report_violation (abort).
void check_engines_agree(const vm::Program& program, const oracle::EngineInput& input);

// One JIT option set per fuzz input instead of all of them.
//
// Compiling a program once per option set was most of what an
// interp_vs_jit_gen, _raw or _insn execution cost (perf, ASan + UBSan build): the
// four compilations, each with its own interpreter, buffers and coverage
// callbacks, against one interpreter run. Those three targets therefore compare
// the interpreter with the option set the input itself selects
// (jit_option_set_of): libFuzzer reaches every set, since any mutation that
// changes the bytes' sum changes the set, and a crash file selects the same
// set every time it is run. The price: a bug that only one option set has
// needs about four times as many executions to be hit, which the faster
// executions pay back in part; a bug every set shares is hit as often as
// before. What stays exhaustive: the replay tools (repro, minimize, diff,
// the gate's corpus phase, campaign triage) and the tests run
// find_divergence, every set on every program, so a crash file of either
// target reproduces there (the set it chose is among them), and
// BPFDIFF_ALL_OPTION_SETS=1 in a target's environment restores the
// every-set check for a whole campaign.
std::size_t jit_option_set_count();  // the engines besides the interpreter
// The option set (index into engine_names() after "interp") that a fuzz
// input selects: the sum of its bytes modulo jit_option_set_count().
std::size_t jit_option_set_of(std::span<const uint8_t> fuzz_input);
std::string jit_option_set_name(std::size_t index);

// find_divergence between the interpreter and the one option set `index`.
std::optional<Divergence> find_divergence_on(const vm::Program& program, const oracle::EngineInput& input,
                                             std::size_t index);

// What the interp_vs_jit_gen, _raw and _insn targets check: find_divergence_on the
// set `fuzz_input` selects (every set when BPFDIFF_ALL_OPTION_SETS=1),
// reporting a divergence through report_violation (abort).
void check_selected_engine_agrees(const vm::Program& program, const oracle::EngineInput& input,
                                  std::span<const uint8_t> fuzz_input);

// A generated case as engine input with the generator's instruction budget.
oracle::EngineInput engine_input(const GeneratedCase& c);

}  // namespace bpfdiff::fuzz
