#include "oracle/kernel_tally.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace bpfdiff::oracle {
namespace {

constexpr std::size_t kMaxReasonChars = 100;

std::string top_lines(const std::map<std::string, uint64_t>& counts, std::size_t top) {
  std::vector<std::pair<uint64_t, std::string>> sorted;
  for (const auto& [reason, n] : counts)
    sorted.emplace_back(n, reason);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::string out;
  for (std::size_t i = 0; i < sorted.size() && i < top; ++i)
    out += "    " + std::to_string(sorted[i].first) + "  " + sorted[i].second + "\n";
  return out;
}

}  // namespace

void KernelTally::add(const KernelComparison& c) {
  ++total_;
  ++kinds_[c.kind];
  if (c.kind == KernelAgreement::KernelRejected || c.kind == KernelAgreement::BothRejected) {
    ++rejections_[c.reason];
  } else if (c.kind == KernelAgreement::NotComparable) {
    // The first line, without pcs and details, so like reasons count together.
    std::string reason = c.reason.substr(0, c.reason.find('\n'));
    if (auto colon = reason.find(": pc "); colon != std::string::npos) reason = reason.substr(0, colon);
    ++not_comparable_[reason.substr(0, kMaxReasonChars)];
  }
}

uint64_t KernelTally::count(KernelAgreement kind) const {
  const auto it = kinds_.find(kind);
  return it == kinds_.end() ? 0 : it->second;
}

double KernelTally::acceptance_percent() const {
  const uint64_t rejected = count(KernelAgreement::KernelRejected) + count(KernelAgreement::BothRejected);
  const uint64_t judged = total_ - count(KernelAgreement::NotComparable);
  if (judged == 0) return 0.0;
  return 100.0 * static_cast<double>(judged - rejected) / static_cast<double>(judged);
}

std::string KernelTally::summary(std::size_t top) const {
  std::string out = std::to_string(total_) + " programs:";
  for (const auto& [kind, n] : kinds_)
    out += " " + std::to_string(n) + " " + to_string(kind) + ",";
  if (!kinds_.empty()) out.pop_back();
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%", acceptance_percent());
  out += "\n  kernel acceptance " + std::string(pct) + " of the programs it judged\n";
  if (!rejections_.empty()) out += "  top rejection reasons:\n" + top_lines(rejections_, top);
  if (!not_comparable_.empty()) out += "  not comparable:\n" + top_lines(not_comparable_, top);
  return out;
}

}  // namespace bpfdiff::oracle
