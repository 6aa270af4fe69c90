#include "oracle/kernel_compare.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "oracle/kernel_outcome.hpp"

namespace bpfdiff::oracle {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Registers both sides hold a value for, then the first differing memory byte.
std::vector<Difference> state_differences(const Outcome& l, uint16_t l_valid, const Outcome& r,
                                          uint16_t r_valid) {
  std::vector<Difference> out;
  const uint16_t valid = l_valid & r_valid;
  for (std::size_t i = 0; i < 10; ++i) {
    if ((valid & (1u << i)) && l.regs[i] != r.regs[i]) {
      out.push_back({"r" + std::to_string(i), hex(l.regs[i]), hex(r.regs[i])});
    }
  }
  if (l.memory.size() != r.memory.size()) {
    out.push_back({"memory.size", std::to_string(l.memory.size()), std::to_string(r.memory.size())});
  } else {
    const auto [a, b] = std::mismatch(l.memory.begin(), l.memory.end(), r.memory.begin());
    if (a != l.memory.end()) {
      out.push_back({"memory[" + std::to_string(a - l.memory.begin()) + "]", hex(*a), hex(*b)});
    }
  }
  return out;
}

constexpr uint16_t kAllRegs = 0x3ff;

}  // namespace

const char* to_string(KernelAgreement kind) {
  switch (kind) {
    case KernelAgreement::Agree: return "agree";
    case KernelAgreement::BothRejected: return "both reject";
    case KernelAgreement::KernelRejected: return "kernel rejects";
    case KernelAgreement::NotComparable: return "not comparable";
    case KernelAgreement::WeRejected: return "we reject what the kernel runs";
    case KernelAgreement::VerifierSoundness: return "verifier soundness";
    case KernelAgreement::Mismatch: return "mismatch";
  }
  return "?";
}

KernelComparison compare_with_kernel(const Outcome& ours, const Outcome& kernel) {
  KernelComparison c;
  const KernelOutcome k = kernel.kernel.value_or(KernelOutcome{});
  switch (k.verdict) {
    case kernel::KernelVerdict::Rejected:
      c.kind = ours.loaded ? KernelAgreement::KernelRejected : KernelAgreement::BothRejected;
      c.reason = k.rejection_reason;
      return c;
    case kernel::KernelVerdict::Unsupported:
    case kernel::KernelVerdict::Failed:
      c.kind = KernelAgreement::NotComparable;
      c.reason = std::string(to_string(k.verdict)) + ": " + k.log;
      return c;
    case kernel::KernelVerdict::Accepted:
      break;
  }
  if (!ours.loaded) {
    c.kind = KernelAgreement::WeRejected;
    c.reason = "the kernel runs a program our validator rejects";
    c.differences.push_back({"load", "rejected: " + ours.load_error, "accepted"});
    return c;
  }
  if (ours.error.kind == vm::ErrorKind::BudgetExhausted) {
    c.kind = KernelAgreement::NotComparable;
    c.reason = "our instruction budget ran out (the kernel has none)";
    return c;
  }
  if (ours.error.kind != vm::ErrorKind::None) {
    c.kind = KernelAgreement::VerifierSoundness;
    c.reason = "the verifier accepted a program that faults in our VM: " + vm::describe(ours.error);
    c.differences.push_back({"error.kind", vm::to_string(ours.error.kind), "none (kernel accepted and ran)"});
    return c;
  }
  c.differences = state_differences(ours, kAllRegs, kernel, k.regs_valid);
  if (c.differences.empty()) return c;
  if (k.uninitialized_stack_read || k.pointer_bits_exposed) {
    c.kind = KernelAgreement::NotComparable;
    c.reason = k.uninitialized_stack_read
                   ? "the program reads stack bytes it never wrote (the kernel's stack is not zeroed)"
                   : "the program uses a pointer's bits (kernel addresses differ from our region+offset)";
    c.differences.clear();
    return c;
  }
  c.kind = KernelAgreement::Mismatch;
  c.reason = "kernel and our VM disagree on " + c.differences.front().field;
  return c;
}

std::vector<Difference> compare_kernels(const Outcome& l, const Outcome& r) {
  const KernelOutcome lk = l.kernel.value_or(KernelOutcome{});
  const KernelOutcome rk = r.kernel.value_or(KernelOutcome{});
  if (lk.verdict != rk.verdict) {
    return {{"kernel.verdict", to_string(lk.verdict), to_string(rk.verdict)}};
  }
  if (lk.verdict != kernel::KernelVerdict::Accepted) return {};
  return state_differences(l, lk.regs_valid, r, rk.regs_valid);
}

std::vector<Difference> kernel_differences(const Outcome& left, const Outcome& right) {
  if (left.kernel && right.kernel) return compare_kernels(left, right);
  const bool kernel_on_left = left.kernel.has_value();
  KernelComparison c = kernel_on_left ? compare_with_kernel(right, left) : compare_with_kernel(left, right);
  if (!c.finding()) return {};
  if (kernel_on_left) {
    for (Difference& d : c.differences)
      std::swap(d.left, d.right);
  }
  return std::move(c.differences);
}

}  // namespace bpfdiff::oracle
