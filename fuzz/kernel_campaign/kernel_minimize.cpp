#include "fuzz/kernel_campaign/kernel_minimize.hpp"

#include <algorithm>

#include "fuzz/signature.hpp"
#include "oracle/kernel_qemu_engine.hpp"
#include "oracle/run/report.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::cli {
namespace {

std::string slug(std::string_view text) {
  std::string out;
  for (char ch : text)
    out += (ch == ' ' || ch == '/' || ch == ':') ? '-' : ch;
  return out;
}

// Ktime and prandom ids as the generators call them (kernel_friendly.cpp).
constexpr int32_t kKtimeGetNs = 5;
constexpr int32_t kGetPrandomU32 = 7;

bool reduces_r0(const isa::RawInsn& next, int32_t helper) {
  const auto form = isa::find_form(next);
  if (!form || next.dst != 0) return false;
  if (*form == isa::Form::and_imm || *form == isa::Form::mul_imm || *form == isa::Form::mul32_imm)
    return next.imm == 0;
  if (*form == isa::Form::rsh_imm) return helper == kKtimeGetNs ? next.imm == 63 : next.imm >= 32;
  return false;
}

}  // namespace

std::string kernel_signature(const std::string& ours_name, const std::string& kernel_name,
                             const oracle::KernelComparison& k, const oracle::Outcome& ours) {
  const bool plain_only =
      !k.differences.empty() && std::all_of(k.differences.begin(), k.differences.end(),
                                            [](const auto& d) { return d.field.rfind("plain.", 0) == 0; });
  std::string field = fuzz::normalize_field(k.differences.empty() ? "state" : k.differences.front().field);
  if (k.kind == oracle::KernelAgreement::VerifierSoundness) field = error_kind_id(ours.error.kind);
  if (k.kind == oracle::KernelAgreement::Mismatch) field = plain_only ? "unmodified-state" : "state";
  return ours_name + "-vs-" + kernel_name + "." + slug(oracle::to_string(k.kind)) + "." + field;
}

bool helper_results_reduced(const vm::Program& program) {
  for (std::size_t pc = 0; pc < program.slots.size(); ++pc) {
    const auto form = isa::find_form(program.slots[pc]);
    if (!form || *form != isa::Form::call_helper) continue;
    const int32_t helper = program.slots[pc].imm;
    if (helper != kKtimeGetNs && helper != kGetPrandomU32) continue;
    if (pc + 1 >= program.slots.size() || !reduces_r0(program.slots[pc + 1], helper)) return false;
  }
  return true;
}

namespace {

// Case `c` shrunk while `still_fails` holds, in at most `max_tests` tests.
KernelMinimized shrink(const KernelCase& c, const fuzz::StillFails& still_fails, std::size_t max_tests) {
  fuzz::MinimizeOptions options;
  options.max_tests = max_tests;
  KernelMinimized out;
  fuzz::MinimizeCase m = fuzz::minimize({c.program, c.input.memory}, still_fails, options, &out.stats);
  out.program = std::move(m.program);
  out.memory = std::move(m.memory);
  return out;
}

}  // namespace

KernelMinimized minimize_kernel_case(const KernelCase& c, const std::string& signature, oracle::Engine& ours,
                                     const std::string& ours_name, oracle::Engine& kernel,
                                     const std::string& kernel_name, std::size_t max_tests) {
  const fuzz::StillFails still_fails = [&](const fuzz::MinimizeCase& candidate) {
    if (!helper_results_reduced(candidate.program)) return false;
    oracle::EngineInput input = c.input;
    input.memory = candidate.memory;
    const oracle::Outcome o = ours.run(candidate.program, input);
    const oracle::Outcome k = kernel.run(candidate.program, input);
    if (!k.kernel || k.kernel->verdict != oracle::kernel::KernelVerdict::Accepted) return false;
    const oracle::KernelComparison cmp = oracle::compare_with_kernel(o, k);
    return cmp.finding() && kernel_signature(ours_name, kernel_name, cmp, o) == signature;
  };
  return shrink(c, still_fails, max_tests);
}

KernelMinimized minimize_guest_failure(const KernelCase& c, const std::string& failure_kind,
                                       oracle::Engine& kernel, std::size_t max_tests,
                                       std::size_t max_failures) {
  std::size_t failures = 0;
  const fuzz::StillFails still_fails = [&](const fuzz::MinimizeCase& candidate) {
    if (failures >= max_failures) return false;
    oracle::EngineInput input = c.input;
    input.memory = candidate.memory;
    const oracle::Outcome k = kernel.run(candidate.program, input);
    if (!is_guest_failure(k)) return false;
    ++failures;
    return guest_failure_kind(k) == failure_kind;
  };
  return shrink(c, still_fails, max_tests);
}

const char* to_string(KernelBugClass c) {
  switch (c) {
    case KernelBugClass::VerifierOrRewrite:
      return "verifier-rewrite";
    case KernelBugClass::Jit:
      return "jit";
    case KernelBugClass::Interpreter:
      return "interpreter";
    case KernelBugClass::Unclassified:
      return "unclassified";
  }
  return "unclassified";
}

KernelBugClass classify_kernel_bug(const oracle::Outcome& ours, const std::optional<oracle::Outcome>& jit,
                                   const std::optional<oracle::Outcome>& interpreter) {
  if (!jit || !interpreter) return KernelBugClass::Unclassified;
  const auto differs = [&](const oracle::Outcome& k) {
    return oracle::compare_with_kernel(ours, k).finding();
  };
  const auto ran = [](const oracle::Outcome& k) {
    return k.kernel && k.kernel->verdict == oracle::kernel::KernelVerdict::Accepted;
  };
  if (!ran(*jit) || !ran(*interpreter)) {
    // A verdict apart: the verifier judged the two alike, so a difference
    // in verdicts is no JIT bug; only accepted runs classify.
    return KernelBugClass::Unclassified;
  }
  const bool jit_differs = differs(*jit);
  const bool interp_differs = differs(*interpreter);
  if (jit_differs && interp_differs) return KernelBugClass::VerifierOrRewrite;
  if (jit_differs) return KernelBugClass::Jit;
  if (interp_differs) return KernelBugClass::Interpreter;
  return KernelBugClass::Unclassified;
}

KernelBugClass classify_guest_failure(const std::string& failure_kind,
                                      const std::optional<oracle::Outcome>& jit,
                                      const std::optional<oracle::Outcome>& interpreter) {
  if (!jit || !interpreter) return KernelBugClass::Unclassified;
  const bool jit_fails = guest_failure_kind(*jit) == failure_kind;
  const bool interp_fails = guest_failure_kind(*interpreter) == failure_kind;
  if (jit_fails && interp_fails) return KernelBugClass::VerifierOrRewrite;
  if (jit_fails) return KernelBugClass::Jit;
  if (interp_fails) return KernelBugClass::Interpreter;
  return KernelBugClass::Unclassified;
}

std::optional<std::string> kernel_counterpart(const std::string& kernel_engine) {
  if (kernel_engine == oracle::kKernelQemuEngine) return std::string(oracle::kKernelQemuInterpEngine);
  if (kernel_engine == oracle::kKernelQemuInterpEngine) return std::string(oracle::kKernelQemuEngine);
  return std::nullopt;
}

}  // namespace bpfdiff::cli
