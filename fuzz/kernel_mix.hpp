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
#include "fuzz/corpus_scheduler.hpp"
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
  // Coverage-guided: once covered() has admitted a program, mutants come
  // from the programs that reached new kernel edges, picked and shared out
  // by a CorpusScheduler. Until then (a kernel without KCOV never gets
  // there) mutants are drawn at mutate_rate from what accepted() fed, as
  // without it.
  bool coverage_scheduled = false;
  CorpusSchedulerOptions scheduler;
};

class KernelCaseMix {
 public:
  // Fails on a share or rate outside [0, 1].
  static Result<KernelCaseMix> create(const KernelMixOptions& options);

  struct Drawn {
    GeneratedCase c;
    CaseOrigin origin = CaseOrigin::KernelFriendly;
    std::optional<CorpusScheduler::EntryId> parent;  // coverage-scheduled mutants: the entry mutated
  };
  // The case for `seed`: which source writes it depends on `seed` alone; a
  // mutant also depends on the programs accepted() (or covered()) so far.
  Drawn next(uint64_t seed);
  // A case the kernel accepted: mutants are drawn from these.
  void accepted(const GeneratedCase& c) { stress_.accepted(c); }
  // Coverage-scheduled: what `drawn` added to the kernel coverage and what
  // it cost (seconds); returns whether it joined the corpus.
  bool covered(const Drawn& drawn, std::size_t new_edges, double cost_seconds);
  // Coverage-scheduled only, else null.
  const CorpusScheduler* scheduler() const { return scheduler_ ? &*scheduler_ : nullptr; }

 private:
  KernelCaseMix(const KernelMixOptions& options, CaseSource friendly, CaseSource stress)
      : options_(options), friendly_(std::move(friendly)), stress_(std::move(stress)) {
    if (options.coverage_scheduled) scheduler_.emplace(options.scheduler);
  }

  KernelMixOptions options_;
  CaseSource friendly_;
  CaseSource stress_;
  std::optional<CorpusScheduler> scheduler_;
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
