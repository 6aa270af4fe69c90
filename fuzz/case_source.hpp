#pragma once
// Where the kernel measurements (`bpfdiff kernel accept`, check-states) get
// their programs: a generator chosen by name, program i from seed + i, and
// optionally a mutation mode over the programs the kernel accepted so far
// (verifier_mutate.hpp): at `mutate_rate`, the next case is an accepted one
// with a few edits where the verifier's judgement turns.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/generator.hpp"
#include "fuzz/verifier_stress.hpp"
#include "vm/isa/table.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::fuzz {

struct CaseSourceOptions {
  std::string generator = "kernel-friendly";  // or "verifier-stress"
  isa::IsaVersion isa_version = isa::IsaVersion::V4;
  std::size_t max_instructions = 128;
  double mutate_rate = 0;  // share of cases that are mutants of accepted ones (once there are any)
};

// The generator names CaseSource knows, for --help and errors.
std::vector<std::string> case_generator_names();

class CaseSource {
 public:
  // Fails on an unknown generator name or a rate outside [0, 1].
  static Result<CaseSource> create(const CaseSourceOptions& options);

  // The case for `seed`: generated, or a mutant of an accepted case.
  GeneratedCase next(uint64_t seed);
  // The same, with the decisions read from `src` (a fuzz input's bytes).
  GeneratedCase next(ByteSource& src);
  // Feeds back a case the kernel accepted (it may be mutated later).
  void accepted(const GeneratedCase& c);

  bool last_was_mutant() const { return last_mutant_; }
  // The verifier-stress patterns of the last generated case (0 for other
  // generators and for mutants).
  StressPatterns last_patterns() const { return last_patterns_; }

 private:
  explicit CaseSource(const CaseSourceOptions& options) : options_(options) {}

  CaseSourceOptions options_;
  std::vector<GeneratedCase> accepted_;  // a bounded pool, replaced round-robin when full
  std::size_t replace_next_ = 0;
  bool last_mutant_ = false;
  StressPatterns last_patterns_ = 0;
};

}  // namespace bpfdiff::fuzz
