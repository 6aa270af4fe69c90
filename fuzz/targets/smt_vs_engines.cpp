// The Z3 model as a third voter: loop-free ALU/JMP programs (fuzz/loop_free)
// run on the interpreter, every JIT option set and the smt engine, full
// outcomes compared. A disagreement with the model names the engine that
// differs from the interpreter first, so a model-only disagreement reads
// "interp vs smt".
#include <cstdint>
#include <memory>

#include "fuzz/byte_source.hpp"
#include "fuzz/check.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/loop_free.hpp"
#include "fuzz/signature.hpp"
#include "oracle/compare.hpp"
#include "oracle/engine.hpp"

using namespace bpfdiff;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<oracle::Engine> smt = [] {
    auto made = oracle::make_engine("smt");
    if (!made) fuzz::report_violation("smt engine unavailable", made.error().message);
    return std::move(made).value();
  }();
  static const std::unique_ptr<oracle::Engine> interp = std::move(oracle::make_engine("interp")).value();
  fuzz::ByteSource src({data, size});
  const fuzz::LoopFreeCase c = fuzz::generate_loop_free(src);
  oracle::Outcome reference;
  if (auto d = fuzz::find_divergence(c.program, c.input, &reference)) {
    fuzz::report_violation(d->title(), d->details());
  }
  const oracle::Outcome model = smt->run(c.program, c.input);
  auto diffs = oracle::compare(reference, model, oracle::CompareRules::everything());
  if (!diffs.empty()) {
    // The signature names the instruction where the model parts ways (bisection on the budget).
    auto signature = fuzz::divergence_signature(c.program, c.input, *interp, *smt);
    if (!signature) {
      signature = fuzz::Signature{"interp", "smt", fuzz::normalize_field(diffs.front().field),
                                  std::string(fuzz::kUnknownForm), std::nullopt};
    }
    const fuzz::Divergence d{"smt", std::move(diffs), std::move(*signature)};
    fuzz::report_violation(d.title(), d.details());
  }
  return 0;
}
