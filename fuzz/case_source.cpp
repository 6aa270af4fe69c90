#include "fuzz/case_source.hpp"

#include "fuzz/kernel_friendly.hpp"
#include "fuzz/verifier_mutate.hpp"

namespace bpfdiff::fuzz {
namespace {

constexpr std::size_t kMaxAcceptedPool = 512;

}  // namespace

std::vector<std::string> case_generator_names() {
  return {"kernel-friendly", "verifier-stress"};
}

Result<CaseSource> CaseSource::create(const CaseSourceOptions& options) {
  if (options.generator != "kernel-friendly" && options.generator != "verifier-stress") {
    return make_error("unknown generator '" + options.generator + "' (kernel-friendly, verifier-stress)");
  }
  if (!(options.mutate_rate >= 0 && options.mutate_rate <= 1)) {
    return make_error("the mutation rate must be between 0 and 1");
  }
  return CaseSource(options);
}

GeneratedCase CaseSource::next(uint64_t seed) {
  ByteSource src(seed);
  return next(src);
}

GeneratedCase CaseSource::next(ByteSource& src) {
  last_patterns_ = 0;
  last_mutant_ = !accepted_.empty() && src.chance(options_.mutate_rate);
  if (last_mutant_) {
    return mutate_case_for_verifier(accepted_[src.below(static_cast<uint32_t>(accepted_.size()))], src,
                                    options_.isa_version);
  }
  if (options_.generator == "verifier-stress") {
    VerifierStressOptions opt;
    opt.isa_version = options_.isa_version;
    opt.max_instructions = options_.max_instructions;
    return generate_verifier_stress(src, opt, &last_patterns_);
  }
  KernelFriendlyOptions opt;
  opt.isa_version = options_.isa_version;
  opt.max_instructions = options_.max_instructions;
  return generate_kernel_friendly(src, opt);
}

void CaseSource::accepted(const GeneratedCase& c) {
  if (options_.mutate_rate <= 0) return;
  if (accepted_.size() < kMaxAcceptedPool) {
    accepted_.push_back(c);
    return;
  }
  accepted_[replace_next_] = c;
  replace_next_ = (replace_next_ + 1) % kMaxAcceptedPool;
}

}  // namespace bpfdiff::fuzz
