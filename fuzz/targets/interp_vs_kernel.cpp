// Our interpreter against the running kernel (kernel-host) under the kernel
// rules of oracle/kernel_compare.hpp: a kernel rejection is counted by
// reason, a program the kernel accepts must give the same registers and
// memory in our VM, and must not fault in it (verifier soundness).
//
// Input (fuzz/kernel_mix.hpp, kernel_target_case): byte 0 odd -> the rest is
// a raw input (u32 length | program | memory); even -> generator decisions,
// and bits 1-2 choose the generator: the kernel-friendly one (valid by
// construction, so the state is compared), the verifier-stressing one
// (programs the verifier has to work out) or a mutant of a verifier-stress
// program. libFuzzer's own mutation of the inputs the kernel accepted makes
// the rest of the mix. Where bpf() is unavailable every input is skipped
// (said once). At exit the tally per generator (acceptance, agreements, top
// rejection reasons) goes to stderr. With
// BPFDIFF_CASE_FILE=path every case is written there before it runs, as a
// .data test with its maps, memory and budget (what a campaign finding's
// case.data holds, expecting nothing), for `bpfdiff repro path --engines
// interp,kernel-host`.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include <sys/utsname.h>

#include "fuzz/byte_source.hpp"
#include "fuzz/check.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/findings/finding.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "fuzz/kernel_mix.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_engine.hpp"
#include "oracle/kernel_host_engine.hpp"
#include "oracle/kernel_tally.hpp"
#include "oracle/known_kernel_bugs.hpp"
#include "vm/isa/raw.hpp"

using namespace bpfdiff;

namespace {

struct KernelOracle {
  std::unique_ptr<oracle::Engine> interp;
  std::unique_ptr<oracle::Engine> kernel;
  std::map<fuzz::CaseOrigin, oracle::KernelTally> tallies;  // per generator (or raw)
  isa::IsaVersion isa_version;                              // what this kernel verifies
};

isa::IsaVersion isa_version_of_this_kernel() {
  utsname u{};
  return fuzz::isa_version_for_kernel(uname(&u) == 0 ? u.release : "");
}

void print_tally();

KernelOracle* kernel_oracle() {
  static KernelOracle* oracle = [] {
    auto kernel = oracle::make_engine(oracle::kKernelHostEngine);
    if (!kernel) {
      std::fprintf(stderr, "interp_vs_kernel: skipped: %s\n", kernel.error().message.c_str());
      return static_cast<KernelOracle*>(nullptr);
    }
    oracle::use_reason_only_logs(**kernel);  // rejections are tallied by reason only
    auto* o = new KernelOracle{std::move(oracle::make_engine("interp")).value(),
                               std::move(kernel).value(),
                               {},
                               isa_version_of_this_kernel()};
    std::atexit(print_tally);
    return o;
  }();
  return oracle;
}

void print_tally() {
  for (const auto& [origin, tally] : kernel_oracle()->tallies) {
    std::fprintf(stderr, "interp_vs_kernel, %s programs (accepted %.1f%%): %s",
                 std::string(fuzz::to_string(origin)).c_str(), tally.acceptance_percent(),
                 tally.summary().c_str());
  }
}

// With BPFDIFF_CASE_FILE set, each case is written there before it runs, so
// the last one survives an abort (or a kernel that goes down): a .data test
// with the program's maps (a raw input cannot carry them, and a generated
// map program replayed without them is another program).
void save_case(const vm::Program& program, const oracle::EngineInput& input) {
  const char* path = std::getenv("BPFDIFF_CASE_FILE");
  if (path == nullptr) return;
  const std::string text =
      cli::case_data_text(program, input.memory, input.limits.instruction_budget, cli::run_setup_of(input),
                          "# interp_vs_kernel: the case running last, written before it ran\n"
                          "# bpfdiff repro " +
                              std::string(path) + " --engines interp,kernel-host\n");
  if (std::FILE* f = std::fopen(path, "wb")) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
}

void check(KernelOracle& o, const vm::Program& program, const oracle::EngineInput& input,
           fuzz::CaseOrigin origin) {
  save_case(program, input);
  const oracle::Outcome ours = o.interp->run(program, input);
  const oracle::Outcome theirs = o.kernel->run(program, input);
  const oracle::KernelComparison c = oracle::compare_with_kernel(ours, theirs);
  o.tallies[origin].add(c);
  if (!c.finding()) return;
  // A kernel bug already in corpus/kernel-findings is no crash: the campaign
  // would spend itself rediscovering it (the kernel campaign labels them).
  if (oracle::explain_with_known_bug(program, input, theirs)) return;
  std::string details;
  for (const auto& d : c.differences)
    details += "  " + oracle::to_string(d) + "\n";
  if (std::getenv("BPFDIFF_CASE_FILE") != nullptr) {
    details += "  case in $BPFDIFF_CASE_FILE, with its maps (replay: bpfdiff repro " +
               std::string(std::getenv("BPFDIFF_CASE_FILE")) + " --engines interp,kernel-host)\n";
  }
  details += "  reproduce: bpfdiff repro CRASH_FILE --target interp_vs_kernel --engines interp,kernel-host\n";
  fuzz::report_violation(std::string(oracle::to_string(c.kind)) + " interp vs kernel-host: " +
                             (c.differences.empty() ? std::string() : c.differences.front().field),
                         details);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  KernelOracle* o = kernel_oracle();
  if (o == nullptr) return 0;
  auto c = fuzz::kernel_target_case({data, size}, o->isa_version);
  if (!c) return 0;
  oracle::EngineInput input = fuzz::engine_input(c->c);
  input.limits.instruction_budget = c->budget;
  check(*o, c->c.program, input, c->origin);
  return 0;
}
