#include "oracle/kernel_compare.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "oracle/kernel/bpf_syscall.hpp"
#include "oracle/kernel_outcome.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::oracle {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// A value our VM holds that no kernel base translates to: a map handle
// (the kernel's is a struct bpf_map address) or a pointer into a hash map's
// values (the kernel places them in its own elements, in no order we know).
// Judged by the value in our outcome, which comes from the same program.
bool untranslatable_pointer(const Outcome& ours, uint64_t v) {
  const uint64_t region = v >> vm::kRegionShift;
  if (region == static_cast<uint64_t>(vm::RegionId::Maps)) return true;
  if (region < vm::kFirstMapRegion || region - vm::kFirstMapRegion >= ours.maps.size()) return false;
  return ours.maps[region - vm::kFirstMapRegion].type != vm::MapType::Array;
}

// Registers both sides hold a value for, then the first differing memory
// byte, then the maps. `l` is ours when one side is ours.
// Between two kernels, a value in the kernel's half of the address space
// on both sides that was not translated (a hash value, a map) is an
// address each kernel chose for itself. The kernel's half starts at
// 0xffff800000000000 with 4-level paging but at 0xff00000000000000 with
// 5-level paging, which a QEMU guest gets when the emulated CPU has LA57
// (the 6.1 guest's hash values lie at 0xff32...).
bool kernel_address(uint64_t v) {
  return v >= 0xff00000000000000ull;
}

// The kernel's memory (`r`) as compared with ours (`l`): a word that was
// translated as a stored pointer but whose kernel value equals ours
// untranslated was a scalar near a kernel object, so it goes back.
std::vector<uint8_t> memory_as_compared(const Outcome& l, const Outcome& r) {
  std::vector<uint8_t> memory = r.memory;
  for (const KernelOutcome::TranslatedWord& w : r.kernel->translated_memory) {
    if (w.offset + sizeof w.untranslated > memory.size() || memory.size() != l.memory.size()) continue;
    uint64_t ours;
    std::memcpy(&ours, l.memory.data() + w.offset, sizeof ours);
    if (ours == w.untranslated) std::memcpy(memory.data() + w.offset, &ours, sizeof ours);
  }
  return memory;
}

std::vector<Difference> state_differences(const Outcome& l, uint16_t l_valid, const Outcome& r,
                                          uint16_t r_valid, bool two_kernels = false) {
  std::vector<Difference> out;
  const uint16_t valid = l_valid & r_valid;
  for (std::size_t i = 0; i < 10; ++i) {
    if (untranslatable_pointer(l, l.regs[i]) || untranslatable_pointer(r, r.regs[i])) continue;
    if (two_kernels && kernel_address(l.regs[i]) && kernel_address(r.regs[i])) continue;
    // Ours against a kernel: a kernel value that translated as a pointer
    // but equals ours untranslated was a scalar near a kernel object.
    if (!two_kernels && r.kernel && (r.kernel->translated_regs & (1u << i)) &&
        r.kernel->untranslated_regs[i] == l.regs[i])
      continue;
    if ((valid & (1u << i)) && l.regs[i] != r.regs[i]) {
      out.push_back({"r" + std::to_string(i), hex(l.regs[i]), hex(r.regs[i])});
    }
  }
  if (l.memory.size() != r.memory.size()) {
    out.push_back({"memory.size", std::to_string(l.memory.size()), std::to_string(r.memory.size())});
  } else {
    std::vector<uint8_t> restored;
    const std::vector<uint8_t>* kernel_memory = &r.memory;
    if (!two_kernels && r.kernel && !r.kernel->translated_memory.empty()) {
      restored = memory_as_compared(l, r);
      kernel_memory = &restored;
    }
    const auto [a, b] = std::mismatch(l.memory.begin(), l.memory.end(), kernel_memory->begin());
    if (a != l.memory.end()) {
      out.push_back({"memory[" + std::to_string(a - l.memory.begin()) + "]", hex(*a), hex(*b)});
    }
  }
  return out;
}

constexpr uint16_t kAllRegs = 0x3ff;

// The verifier refuses some programs only when they will not be JIT-compiled
// (fixup_call_args in kernel/bpf/verifier.c, 6.1 to 6.18): a kernel's
// interpreter cannot run tail calls from a program with bpf-to-bpf calls,
// callbacks (bpf_loop and friends) or kfunc calls. Its JIT accepting such a
// program and its interpreter refusing it is the kernel's documented rule,
// not a verifier that judges alike-looking runs apart.
bool refused_only_for_the_interpreter(const KernelOutcome& k) {
  static constexpr std::string_view kInterpreterOnlyRefusals[] = {
      "tail_calls are not allowed in non-JITed programs with bpf-to-bpf calls",
      "callbacks are not allowed in non-JITed programs",
      "calling kernel functions are not allowed in non-JITed programs",
  };
  for (std::string_view refusal : kInterpreterOnlyRefusals) {
    if (k.log.find(refusal) != std::string::npos || k.plain.log.find(refusal) != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

const char* to_string(KernelAgreement kind) {
  switch (kind) {
    case KernelAgreement::Agree:
      return "agree";
    case KernelAgreement::BothRejected:
      return "both reject";
    case KernelAgreement::KernelRejected:
      return "kernel rejects";
    case KernelAgreement::NotComparable:
      return "not comparable";
    case KernelAgreement::WeRejected:
      return "we reject what the kernel runs";
    case KernelAgreement::VerifierSoundness:
      return "verifier soundness";
    case KernelAgreement::Mismatch:
      return "mismatch";
  }
  return "?";
}

namespace {

// A pointer of ours by its value (stack, memory, a map handle or value):
// in the unmodified run it is a raw kernel address.
bool looks_like_pointer(uint64_t v) {
  const uint64_t region = v >> vm::kRegionShift;
  return region == static_cast<uint64_t>(vm::RegionId::Stack) ||
         region == static_cast<uint64_t>(vm::RegionId::Input) ||
         region == static_cast<uint64_t>(vm::RegionId::Maps) ||
         (region >= vm::kFirstMapRegion && region < vm::kMaxRegions);
}

// The maps after a kernel run against ours, unless our run left a pointer
// in a map value (a kernel address there, not translated back).
void map_differences(const char* prefix, const Outcome& ours, const std::vector<vm::MapSnapshot>& kernel_maps,
                     const KernelOutcome& k, std::vector<Difference>& out) {
  if (!ours.maps_observed || k.pointer_stored_in_map) return;
  compare_map_snapshots(prefix, ours.maps, kernel_maps, out);
}

// The unmodified run against ours: what it shows is r0's low 32 bits (the
// test run's retval) and the memory (the context, copied back).
std::vector<Difference> plain_differences(const Outcome& ours, const KernelOutcome& k) {
  std::vector<Difference> out;
  const uint64_t r0 = ours.regs[0];
  // A pointer returned in r0 is a kernel address there, with no base known.
  if (!looks_like_pointer(r0) && static_cast<uint32_t>(r0) != k.plain.retval) {
    out.push_back({"plain.r0.low32", hex(static_cast<uint32_t>(r0)), hex(k.plain.retval)});
  }
  if (k.pointer_stored_in_memory) return out;
  if (ours.memory.size() != k.plain.memory.size()) {
    out.push_back(
        {"plain.memory.size", std::to_string(ours.memory.size()), std::to_string(k.plain.memory.size())});
    return out;
  }
  const auto [a, b] = std::mismatch(ours.memory.begin(), ours.memory.end(), k.plain.memory.begin());
  if (a != ours.memory.end()) {
    out.push_back({"plain.memory[" + std::to_string(a - ours.memory.begin()) + "]", hex(*a), hex(*b)});
  }
  map_differences("plain.maps", ours, k.plain_maps, k, out);
  return out;
}

}  // namespace

bool agreement_is_luck(const KernelOutcome& kernel) {
  return kernel.uninitialized_stack_read || kernel.pointer_bits_exposed || kernel.stale_map_pointer;
}

KernelComparison compare_with_kernel(const Outcome& ours, const Outcome& kernel) {
  KernelComparison c;
  const KernelOutcome k = kernel.kernel.value_or(KernelOutcome{});
  const bool full_ran = k.verdict == kernel::KernelVerdict::Accepted;
  const bool plain_ran = k.plain.verdict == kernel::KernelVerdict::Accepted;

  // The verdict on the program as written is the unmodified load's: the
  // full-state wrapper is a different program (it defines registers,
  // moves where the verifier prunes), so its acceptance alone never makes
  // "the kernel runs what we reject".
  if (!ours.loaded) {
    if (!k.plain.loaded) {
      if (!full_ran && k.verdict != kernel::KernelVerdict::Rejected &&
          k.plain.verdict != kernel::KernelVerdict::Rejected) {
        c.kind = KernelAgreement::NotComparable;
        c.reason = std::string(to_string(k.verdict)) + ": " + k.log;
        return c;
      }
      c.kind = KernelAgreement::BothRejected;
      c.reason = k.verdict == kernel::KernelVerdict::Rejected
                     ? k.rejection_reason
                     : "unmodified: " + kernel::errno_name(k.plain.errno_value);
      return c;
    }
    if (!k.rejection_not_comparable.empty()) {
      c.kind = KernelAgreement::NotComparable;
      c.reason = k.rejection_not_comparable;
      return c;
    }
    c.kind = KernelAgreement::WeRejected;
    c.reason = "the kernel runs a program our validator rejects";
    c.differences.push_back({"load", "rejected: " + ours.load_error, "accepted (the unmodified program)"});
    return c;
  }
  if (!full_ran && !plain_ran) {
    if (k.verdict == kernel::KernelVerdict::Rejected || k.plain.verdict == kernel::KernelVerdict::Rejected) {
      c.kind = KernelAgreement::KernelRejected;
      c.reason = k.verdict == kernel::KernelVerdict::Rejected
                     ? k.rejection_reason
                     : "unmodified: " + kernel::errno_name(k.plain.errno_value);
      return c;
    }
    c.kind = KernelAgreement::NotComparable;
    c.reason = std::string(to_string(k.verdict)) + ": " + (k.log.empty() ? k.plain.log : k.log);
    return c;
  }
  // Before faults too: the target then ran on another r1 in our VM than in
  // the kernel, where it may not fault.
  if (k.tail_call_argument_changed) {
    c.kind = KernelAgreement::NotComparable;
    c.reason = "a tail call passed r1 other than the program's r1 (the kernel's wrapper passes its context)";
    return c;
  }
  if (ours.error.kind == vm::ErrorKind::BudgetExhausted) {
    c.kind = KernelAgreement::NotComparable;
    c.reason = "our instruction budget ran out (the kernel has none)";
    return c;
  }
  if (ours.error.kind != vm::ErrorKind::None) {
    c.kind = KernelAgreement::VerifierSoundness;
    c.reason = std::string("the verifier accepted a program that faults in our VM (") +
               (plain_ran ? "unmodified" : "full-state run") + "): " + vm::describe(ours.error);
    c.differences.push_back({"error.kind", vm::to_string(ours.error.kind), "none (kernel accepted and ran)"});
    return c;
  }
  if (full_ran) {
    c.differences = state_differences(ours, kAllRegs, kernel, k.regs_valid);
    if (kernel.maps_observed) map_differences("maps", ours, kernel.maps, k, c.differences);
  }
  if (plain_ran) {
    for (Difference& d : plain_differences(ours, k))
      c.differences.push_back(std::move(d));
  }
  if (c.differences.empty()) return c;
  if (agreement_is_luck(k)) {
    c.kind = KernelAgreement::NotComparable;
    c.reason = k.uninitialized_stack_read
                   ? "the program reads stack bytes it never wrote (the kernel's stack is not zeroed)"
               : k.pointer_bits_exposed
                   ? "the program uses a pointer's bits (kernel addresses differ from our region+offset)"
                   : "the program uses a hash map value pointer older than an update or delete (the kernel "
                     "replaces elements, we update in place)";
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
  // Verdicts are compared only within one kernel release (its JIT against
  // its interpreter): two releases' verifiers legitimately accept different
  // programs, and each release's rejection reasons are tallied on its own.
  // Nor where an interpreter refused what only a JIT may run.
  const bool one_release = lk.release.empty() || rk.release.empty() || lk.release == rk.release;
  const bool verdicts_comparable =
      one_release && !refused_only_for_the_interpreter(lk) && !refused_only_for_the_interpreter(rk);
  if (lk.plain.loaded != rk.plain.loaded) {
    if (!verdicts_comparable) return {};
    return {{"kernel.plain.verdict", to_string(lk.plain.verdict), to_string(rk.plain.verdict)}};
  }
  if (lk.verdict != rk.verdict) {
    if (!verdicts_comparable) return {};
    return {{"kernel.verdict", to_string(lk.verdict), to_string(rk.verdict)}};
  }
  std::vector<Difference> out;
  const bool pointer_in_map = lk.pointer_stored_in_map || rk.pointer_stored_in_map;
  if (lk.verdict == kernel::KernelVerdict::Accepted) {
    out = state_differences(l, lk.regs_valid, r, rk.regs_valid, true);
    if (l.maps_observed && r.maps_observed && !pointer_in_map)
      compare_map_snapshots("maps", l.maps, r.maps, out);
  }
  const bool both_plain = lk.plain.verdict == kernel::KernelVerdict::Accepted &&
                          rk.plain.verdict == kernel::KernelVerdict::Accepted;
  // The unmodified run's r0 is raw: a pointer there is a kernel address,
  // different in every kernel and between a kernel's JIT and interpreter.
  // The full-state run translated r0 back to our form, which tells.
  const auto pointer_r0 = [](const Outcome& o, const KernelOutcome& k) {
    return (k.regs_valid & 1u) != 0 && k.verdict == kernel::KernelVerdict::Accepted &&
           looks_like_pointer(o.regs[0]);
  };
  if (both_plain && lk.plain.retval != rk.plain.retval && !pointer_r0(l, lk) && !pointer_r0(r, rk)) {
    out.push_back({"plain.r0.low32", hex(lk.plain.retval), hex(rk.plain.retval)});
  }
  if (both_plain && lk.plain.memory.size() == rk.plain.memory.size() && !lk.pointer_stored_in_memory) {
    const auto [a, b] =
        std::mismatch(lk.plain.memory.begin(), lk.plain.memory.end(), rk.plain.memory.begin());
    if (a != lk.plain.memory.end()) {
      out.push_back({"plain.memory[" + std::to_string(a - lk.plain.memory.begin()) + "]", hex(*a), hex(*b)});
    }
  }
  if (both_plain && !pointer_in_map) compare_map_snapshots("plain.maps", lk.plain_maps, rk.plain_maps, out);
  return out;
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
