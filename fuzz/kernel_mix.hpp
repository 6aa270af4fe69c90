#pragma once
// Where kernel runs get their programs: a mix of the kernel-friendly
// generator (valid by construction: the kernel's time goes to running
// programs and comparing their state), the verifier-stressing generator
// (programs whose safety the verifier has to work out, about 60% accepted)
// and mutants of programs the kernel accepted earlier (edits where the
// verifier's judgement turns). Used by the kernel campaign (a share of each,
// chosen per iteration from the seed) and by the interp_vs_kernel fuzz
// target (its first byte chooses).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "fuzz/byte_source.hpp"
#include "fuzz/case_source.hpp"
#include "fuzz/generator.hpp"
#include "vm/isa/table.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::fuzz {

enum class CaseOrigin : uint8_t { KernelFriendly, VerifierStress, Mutant, Raw };
// "kernel-friendly", "verifier-stress", "verifier-stress-mutant", "raw"
std::string_view to_string(CaseOrigin origin);

struct KernelMixOptions {
  isa::IsaVersion isa_version = isa::IsaVersion::V3;
  std::size_t max_instructions = 64;
  // Share of the programs written by the verifier-stressing generator (the
  // rest are kernel-friendly).
  double verifier_stress_share = 0.5;
  // Share of the verifier-stressing draws that are mutants of a program the
  // kernel accepted, once there is one.
  double mutate_rate = 0.25;
};

class KernelCaseMix {
 public:
  // Fails on a share or rate outside [0, 1].
  static Result<KernelCaseMix> create(const KernelMixOptions& options);

  struct Drawn {
    GeneratedCase c;
    CaseOrigin origin = CaseOrigin::KernelFriendly;
  };
  // The case for `seed`: which source writes it depends on `seed` alone; a
  // mutant also depends on the programs accepted() so far.
  Drawn next(uint64_t seed);
  // A case the kernel accepted: mutants are drawn from these.
  void accepted(const GeneratedCase& c) { stress_.accepted(c); }

 private:
  KernelCaseMix(const KernelMixOptions& options, CaseSource friendly, CaseSource stress)
      : options_(options), friendly_(std::move(friendly)), stress_(std::move(stress)) {}

  KernelMixOptions options_;
  CaseSource friendly_;
  CaseSource stress_;
};

// The interp_vs_kernel fuzz target's input layout. Byte 0 odd: the rest is a
// raw input (u32 length | program | memory), run with the raw targets'
// budget. Even: the rest are generator decisions, and bits 1-2 of byte 0
// choose the generator: 0 kernel-friendly, 1 and 2 verifier-stress, 3 a
// verifier-stress program then mutated (1-3 edits,
// mutate_case_for_verifier: a runaway loop is redrawn)
// with the decisions left over, so a mutant is reproducible from its input.
struct KernelTargetCase {
  GeneratedCase c;
  CaseOrigin origin = CaseOrigin::KernelFriendly;
  uint64_t budget = 0;  // the instruction budget the target runs it with
};
// Fails on an empty input and on a raw program that does not decode.
Result<KernelTargetCase> kernel_target_case(std::span<const uint8_t> data, isa::IsaVersion isa_version,
                                            std::size_t max_instructions = 128);

}  // namespace bpfdiff::fuzz
