#pragma once
// The interpreter-against-every-engine oracle shared by the differential
// fuzz targets and the tests: run one program on one input in the
// interpreter and in every other engine of oracle::engine_names(), compare
// full outcomes with CompareRules::everything().
#include <optional>
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

// A generated case as engine input with the generator's instruction budget.
oracle::EngineInput engine_input(const GeneratedCase& c);

}  // namespace bpfdiff::fuzz
