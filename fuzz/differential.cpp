#include "fuzz/differential.hpp"

#include <memory>

#include "fuzz/check.hpp"
#include "oracle/shared_validation.hpp"

namespace bpfdiff::fuzz {
namespace {

struct Engines {
  std::unique_ptr<oracle::Engine> reference;
  std::vector<std::unique_ptr<oracle::Engine>> others;
};

const Engines& engines() {
  static const Engines e = [] {
    Engines out;
    for (const std::string& name : oracle::engine_names()) {
      auto made = oracle::make_engine(name);
      if (!made) continue;  // not available here; make_engine said why
      if (name == "interp") {
        out.reference = std::move(made).value();
      } else {
        out.others.push_back(std::move(made).value());
      }
    }
    return out;
  }();
  return e;
}

}  // namespace

std::string Divergence::title() const {
  return signature.title();
}

std::string Divergence::details() const {
  std::string out;
  for (const auto& d : differences)
    out += "  " + oracle::to_string(d) + "\n";
  return out;
}

std::optional<Divergence> find_divergence(const vm::Program& program, const oracle::EngineInput& input,
                                          oracle::Outcome* reference) {
  const Engines& e = engines();
  // One validation for the interpreter and every JIT option set.
  const oracle::SharedValidation shared(program);
  oracle::Outcome expected = e.reference->run(program, input);
  std::optional<Divergence> found;
  for (const auto& engine : e.others) {
    const oracle::Outcome got = engine->run(program, input);
    auto diffs = oracle::compare(expected, got, oracle::CompareRules::everything());
    if (diffs.empty()) continue;
    // Bisection runs both engines a few dozen times more: only for a finding.
    auto signature = divergence_signature(program, input, *e.reference, *engine);
    if (!signature) {
      // Agreed when run again: a non-deterministic engine, a finding too,
      // but one without a place to point at.
      signature = Signature{"interp", std::string(engine->name()), normalize_field(diffs.front().field),
                            std::string(kUnknownForm), std::nullopt};
    }
    found = Divergence{std::string(engine->name()), std::move(diffs), std::move(*signature)};
    break;
  }
  if (reference != nullptr) *reference = std::move(expected);
  return found;
}

std::optional<Signature> find_signature(const vm::Program& program, const oracle::EngineInput& input) {
  const Engines& e = engines();
  std::vector<oracle::Engine*> others;
  for (const auto& engine : e.others)
    others.push_back(engine.get());
  return first_signature(program, input, *e.reference, others);
}

void check_engines_agree(const vm::Program& program, const oracle::EngineInput& input) {
  if (auto d = find_divergence(program, input)) report_violation(d->title(), d->details());
}

oracle::EngineInput engine_input(const GeneratedCase& c) {
  oracle::EngineInput in;
  in.memory = c.memory;
  in.limits.instruction_budget = kGeneratedInstructionBudget;
  return in;
}

}  // namespace bpfdiff::fuzz
