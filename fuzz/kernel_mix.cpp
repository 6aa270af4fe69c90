#include "fuzz/kernel_mix.hpp"

#include "fuzz/raw_input.hpp"
#include "fuzz/verifier_mutate.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::fuzz {

std::string_view to_string(CaseOrigin origin) {
  switch (origin) {
    case CaseOrigin::KernelFriendly:
      return "kernel-friendly";
    case CaseOrigin::VerifierStress:
      return "verifier-stress";
    case CaseOrigin::Mutant:
      return "verifier-stress-mutant";
    case CaseOrigin::Raw:
      return "raw";
  }
  return "?";
}

Result<KernelCaseMix> KernelCaseMix::create(const KernelMixOptions& options) {
  if (!(options.verifier_stress_share >= 0 && options.verifier_stress_share <= 1))
    return make_error("the verifier-stress share must be between 0 and 1");
  CaseSourceOptions friendly;
  friendly.generator = "kernel-friendly";
  friendly.isa_version = options.isa_version;
  friendly.max_instructions = options.max_instructions;
  CaseSourceOptions stress = friendly;
  stress.generator = "verifier-stress";
  stress.mutate_rate = options.mutate_rate;
  auto f = CaseSource::create(friendly);
  if (!f) return f.error();
  auto s = CaseSource::create(stress);
  if (!s) return s.error();
  return KernelCaseMix(options, std::move(f).value(), std::move(s).value());
}

KernelCaseMix::Drawn KernelCaseMix::next(uint64_t seed) {
  // The choice takes its own draw, so the generators see the same stream
  // whatever the share.
  ByteSource choice(seed ^ 0x5bd1e995u);
  Drawn out;
  if (scheduler_) {
    // Its own draw too: whether this is a mutant, whose, and the edits.
    ByteSource mutation(seed ^ 0x9e3779b97f4a7c15u);
    if (mutation.chance(scheduler_->mutant_share())) {
      out.parent = scheduler_->pick(mutation);
      if (const GeneratedCase* parent = out.parent ? scheduler_->program(*out.parent) : nullptr) {
        out.c = mutate_case_for_verifier(*parent, mutation, options_.isa_version);
        out.origin = CaseOrigin::Mutant;
        return out;
      }
      out.parent.reset();
    }
  }
  if (choice.chance(options_.verifier_stress_share)) {
    out.c = stress_.next(seed);
    out.origin = stress_.last_was_mutant() ? CaseOrigin::Mutant : CaseOrigin::VerifierStress;
  } else {
    out.c = friendly_.next(seed);
    out.origin = CaseOrigin::KernelFriendly;
  }
  return out;
}

bool KernelCaseMix::covered(const Drawn& drawn, std::size_t new_edges, double cost_seconds) {
  if (!scheduler_) return false;
  return scheduler_->record(drawn.c, drawn.parent, new_edges, cost_seconds).has_value();
}

Result<KernelTargetCase> kernel_target_case(std::span<const uint8_t> data, isa::IsaVersion isa_version,
                                            std::size_t max_instructions) {
  if (data.empty()) return make_error("an empty input has no layout byte");
  const std::span<const uint8_t> rest = data.subspan(1);
  KernelTargetCase out;
  if ((data[0] & 1) != 0) {
    const RawInput in = split_raw_input(rest);
    auto program = vm::program_from_bytes(in.program);
    if (!program) return program.error();
    out.c.program = std::move(program).value();
    out.c.memory.assign(in.memory.begin(), in.memory.end());
    out.origin = CaseOrigin::Raw;
    out.budget = kRawInputInstructionBudget;
    return out;
  }
  CaseSourceOptions options;
  options.isa_version = isa_version;
  options.max_instructions = max_instructions;
  const uint8_t generator = (data[0] >> 1) & 3;
  options.generator = generator == 0 ? "kernel-friendly" : "verifier-stress";
  auto source = CaseSource::create(options);
  if (!source) return source.error();
  ByteSource src(rest);
  out.c = source->next(src);
  out.origin = generator == 0 ? CaseOrigin::KernelFriendly : CaseOrigin::VerifierStress;
  if (generator == 3) {
    out.c = mutate_case_for_verifier(out.c, src, isa_version);
    out.origin = CaseOrigin::Mutant;
  }
  out.budget = kGeneratedInstructionBudget;
  return out;
}

}  // namespace bpfdiff::fuzz
