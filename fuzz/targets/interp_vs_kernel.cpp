// Our interpreter against the running kernel (kernel-host) under the kernel
// rules of oracle/kernel_compare.hpp: a kernel rejection is counted by
// reason, a program the kernel accepts must give the same registers and
// memory in our VM, and must not fault in it (verifier soundness).
//
// Input: byte 0 even -> the kernel-friendly generator (fuzz/kernel_friendly.hpp)
// reads the rest, so nearly every generated program passes the verifier and
// is compared; odd -> the rest is a raw input (u32 length | program | memory).
// Where bpf() is unavailable every input is skipped (said once). At exit the
// tally (agreements, top rejection reasons) goes to stderr. With
// BPFDIFF_CASE_FILE=path every case is written there as a raw input before
// it runs, for `bpfdiff repro --fuzz-input`.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <sys/utsname.h>

#include "fuzz/byte_source.hpp"
#include "fuzz/check.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "fuzz/raw_input.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_host_engine.hpp"
#include "oracle/kernel_tally.hpp"
#include "vm/isa/raw.hpp"

using namespace bpfdiff;

namespace {

struct KernelOracle {
  std::unique_ptr<oracle::Engine> interp;
  std::unique_ptr<oracle::Engine> kernel;
  oracle::KernelTally tally;
  fuzz::KernelFriendlyOptions generator;  // the ISA version this kernel verifies
};

fuzz::KernelFriendlyOptions generator_for_this_kernel() {
  fuzz::KernelFriendlyOptions options;
  utsname u{};
  options.isa_version = fuzz::isa_version_for_kernel(uname(&u) == 0 ? u.release : "");
  return options;
}

void print_tally();

KernelOracle* kernel_oracle() {
  static KernelOracle* oracle = [] {
    auto kernel = oracle::make_engine(oracle::kKernelHostEngine);
    if (!kernel) {
      std::fprintf(stderr, "interp_vs_kernel: skipped: %s\n", kernel.error().message.c_str());
      return static_cast<KernelOracle*>(nullptr);
    }
    auto* o = new KernelOracle{std::move(oracle::make_engine("interp")).value(),
                               std::move(kernel).value(),
                               {},
                               generator_for_this_kernel()};
    std::atexit(print_tally);
    return o;
  }();
  return oracle;
}

void print_tally() {
  std::fprintf(stderr, "interp_vs_kernel: %s", kernel_oracle()->tally.summary().c_str());
}

// A generated case replays through `bpfdiff repro --fuzz-input` only as raw
// bytes; with BPFDIFF_CASE_FILE set, each case is written there before it
// runs, so the last one survives an abort (or a kernel that goes down).
void save_case(const vm::Program& program, const oracle::EngineInput& input) {
  const char* path = std::getenv("BPFDIFF_CASE_FILE");
  if (path == nullptr) return;
  const auto raw = fuzz::join_raw_input(isa::encode_slots(program.slots), input.memory);
  if (std::FILE* f = std::fopen(path, "wb")) {
    std::fwrite(raw.data(), 1, raw.size(), f);
    std::fclose(f);
  }
}

void check(KernelOracle& o, const vm::Program& program, const oracle::EngineInput& input) {
  save_case(program, input);
  const oracle::Outcome ours = o.interp->run(program, input);
  const oracle::Outcome theirs = o.kernel->run(program, input);
  const oracle::KernelComparison c = oracle::compare_with_kernel(ours, theirs);
  o.tally.add(c);
  if (!c.finding()) return;
  std::string details;
  for (const auto& d : c.differences)
    details += "  " + oracle::to_string(d) + "\n";
  if (std::getenv("BPFDIFF_CASE_FILE") != nullptr) {
    details += "  case in $BPFDIFF_CASE_FILE (replay: bpfdiff repro FILE --fuzz-input --budget " +
               std::to_string(input.limits.instruction_budget) + " --engines interp,kernel-host)\n";
  }
  fuzz::report_violation(std::string(oracle::to_string(c.kind)) + " interp vs kernel-host: " +
                             (c.differences.empty() ? std::string() : c.differences.front().field),
                         details);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  KernelOracle* o = kernel_oracle();
  if (o == nullptr || size == 0) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    fuzz::ByteSource src(rest);
    const fuzz::GeneratedCase c = fuzz::generate_kernel_friendly(src, o->generator);
    check(*o, c.program, fuzz::engine_input(c));
    return 0;
  }
  const fuzz::RawInput in = fuzz::split_raw_input(rest);
  auto program = vm::program_from_bytes(in.program);
  if (!program) return 0;
  oracle::EngineInput input;
  input.memory.assign(in.memory.begin(), in.memory.end());
  input.limits.instruction_budget = fuzz::kRawInputInstructionBudget;
  check(*o, *program, input);
  return 0;
}
