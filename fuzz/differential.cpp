#include "fuzz/differential.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>

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

namespace {

// The interpreter against `others`, in order, up to the first that differs.
std::optional<Divergence> first_divergence(const vm::Program& program, const oracle::EngineInput& input,
                                           std::span<const std::unique_ptr<oracle::Engine>> others,
                                           oracle::Outcome* reference) {
  const Engines& e = engines();
  // One validation for the interpreter and every JIT option set.
  const oracle::SharedValidation shared(program);
  oracle::Outcome expected = e.reference->run(program, input);
  std::optional<Divergence> found;
  for (const auto& engine : others) {
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

bool all_option_sets_requested() {
  static const bool all = [] {
    const char* v = std::getenv("BPFDIFF_ALL_OPTION_SETS");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return all;
}

}  // namespace

std::optional<Divergence> find_divergence(const vm::Program& program, const oracle::EngineInput& input,
                                          oracle::Outcome* reference) {
  return first_divergence(program, input, engines().others, reference);
}

std::size_t jit_option_set_count() {
  return engines().others.size();
}

std::size_t jit_option_set_of(std::span<const uint8_t> fuzz_input) {
  const std::size_t n = jit_option_set_count();
  if (n == 0) return 0;
  // The sum, not one byte at a fixed place: a generated input may end
  // before any given place (its generator reads zeros past the end), and
  // every byte a mutation touches re-rolls the set.
  const uint64_t sum = std::accumulate(fuzz_input.begin(), fuzz_input.end(), uint64_t{0});
  return static_cast<std::size_t>(sum % n);
}

std::string jit_option_set_name(std::size_t index) {
  const auto& others = engines().others;
  return index < others.size() ? std::string(others[index]->name()) : std::string();
}

std::optional<Divergence> find_divergence_on(const vm::Program& program, const oracle::EngineInput& input,
                                             std::size_t index) {
  const auto& others = engines().others;
  if (index >= others.size()) return first_divergence(program, input, {}, nullptr);
  return first_divergence(program, input, std::span(others).subspan(index, 1), nullptr);
}

void check_selected_engine_agrees(const vm::Program& program, const oracle::EngineInput& input,
                                  std::span<const uint8_t> fuzz_input) {
  if (all_option_sets_requested()) {
    check_engines_agree(program, input);
    return;
  }
  if (auto d = find_divergence_on(program, input, jit_option_set_of(fuzz_input))) {
    report_violation(d->title(), d->details());
  }
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
