#pragma once
// Counts of kernel comparisons over many programs: how many agree, how many
// the kernel rejects and why (by rejection reason), how many are not
// comparable and why. What `bpfdiff diff` prints after a directory and the
// interp_vs_kernel fuzz target prints at exit.
#include <cstdint>
#include <map>
#include <string>

#include "oracle/kernel_compare.hpp"

namespace bpfdiff::oracle {

class KernelTally {
 public:
  void add(const KernelComparison& c);

  uint64_t total() const { return total_; }
  uint64_t count(KernelAgreement kind) const;
  // Kernel acceptances over all programs the kernel judged (rejections and
  // acceptances; not-comparable ones excluded), in percent.
  double acceptance_percent() const;

  // Several lines: the counts by kind, then the top `top` rejection reasons
  // and reasons for not comparing, most frequent first.
  std::string summary(std::size_t top = 10) const;

  // Counts by rejection reason, and by reason for not comparing (first
  // line, pcs left out), for reports that list them.
  const std::map<std::string, uint64_t>& rejections() const { return rejections_; }
  const std::map<std::string, uint64_t>& not_comparable() const { return not_comparable_; }

 private:
  uint64_t total_ = 0;
  std::map<KernelAgreement, uint64_t> kinds_;
  std::map<std::string, uint64_t> rejections_;
  std::map<std::string, uint64_t> not_comparable_;
};

}  // namespace bpfdiff::oracle
