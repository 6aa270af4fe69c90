// Interpreter against every JIT option set on raw bytes: the full outcome
// (registers, memory, stack, error with pc/address/size, instruction count)
// must be identical. A divergence aborts with a title naming the engines and
// the first differing field.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/check.hpp"
#include "fuzz/raw_input.hpp"
#include "oracle/compare.hpp"
#include "oracle/engine.hpp"

using namespace bpfdiff;

namespace {

struct Engines {
  std::unique_ptr<oracle::Engine> reference;
  std::vector<std::unique_ptr<oracle::Engine>> others;
};

Engines& engines() {
  static Engines e = [] {
    Engines out;
    for (const std::string& name : oracle::engine_names()) {
      auto made = oracle::make_engine(name);
      if (!made) continue;
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

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::RawInput in = fuzz::split_raw_input({data, size});
  auto program = vm::program_from_bytes(in.program);
  if (!program) return 0;
  oracle::EngineInput input;
  input.memory.assign(in.memory.begin(), in.memory.end());
  input.limits.instruction_budget = 4096;
  Engines& e = engines();
  const oracle::Outcome expected = e.reference->run(*program, input);
  for (const auto& engine : e.others) {
    const oracle::Outcome got = engine->run(*program, input);
    const auto diffs = oracle::compare(expected, got, oracle::CompareRules::everything());
    if (diffs.empty()) continue;
    std::string details;
    for (const auto& d : diffs)
      details += "  " + oracle::to_string(d) + "\n";
    fuzz::report_violation("divergence interp vs " + std::string(engine->name()) + ": " + diffs.front().field,
                           details);
  }
  return 0;
}
