// `bpfdiff repro` names a known kernel bug (oracle/known_kernel_bugs.hpp) when
// a kernel outcome is explained by it: which bug, where it is fixed, where its
// reproducer is; never on a kernel at or past the fix, nor for another
// difference.
#include <gtest/gtest.h>

#include <string>

#include "oracle/engine.hpp"
#include "oracle/run/kernel_report.hpp"
#include "tests/support/map_error_programs.hpp"

namespace bpfdiff::cli {
namespace {

using test_support::kUpdateAbsentKey;
using test_support::program_of;

// What a kernel engine reports when it ran `program` like our interpreter
// except that r0 ends as `r0`.
oracle::Outcome kernel_run(const vm::Program& program, const std::string& release, uint64_t r0) {
  oracle::Outcome k = std::move(oracle::make_engine("interp")).value()->run(program, oracle::EngineInput{});
  k.engine = "kernel-qemu";
  k.kernel = oracle::KernelOutcome{};
  k.kernel->verdict = oracle::kernel::KernelVerdict::Accepted;
  k.kernel->release = release;
  k.regs[0] = r0;
  return k;
}

oracle::Outcome ours(const vm::Program& program) {
  return std::move(oracle::make_engine("interp")).value()->run(program, oracle::EngineInput{});
}

TEST(KnownKernelBugReport, NamesTheBugItsFixAndItsReproducerOnAKernelBeforeTheFix) {
  const vm::Program p = program_of(kUpdateAbsentKey);
  const std::string text = format_known_kernel_bugs(
      p, oracle::EngineInput{}, {ours(p), kernel_run(p, "6.1.0-50-cloud-amd64", 0xfffffffe)});
  EXPECT_NE(text.find("kernel-qemu (6.1.0-50-cloud-amd64): known kernel bug map-op-result-zero-extended, "
                      "fixed in Linux 6.4"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("corpus/kernel-findings/map-op-result-zero-extended/README.md"), std::string::npos)
      << text;
}

TEST(KnownKernelBugReport, SaysNothingOnAKernelWithTheFixOrForAnotherDifference) {
  const vm::Program p = program_of(kUpdateAbsentKey);
  EXPECT_EQ(format_known_kernel_bugs(p, oracle::EngineInput{},
                                     {ours(p), kernel_run(p, "6.4.0", 0xfffffffe),
                                      kernel_run(p, "6.12.118+deb12-cloud-amd64", 0xfffffffe)}),
            "");
  EXPECT_EQ(
      format_known_kernel_bugs(p, oracle::EngineInput{}, {ours(p), kernel_run(p, "6.1.0-50-cloud-amd64", 7)}),
      "");
  // Our engines alone are never labelled.
  EXPECT_EQ(format_known_kernel_bugs(p, oracle::EngineInput{}, {ours(p), ours(p)}), "");
}

TEST(KnownKernelBugReport, ABugNotFixedUpstreamSaysSoRatherThanAVersion) {
  vm::Program p = program_of("-- asm\nmov r0, -2\nexit\n");
  const vm::Program as_written = p;
  p.slots.back().off = 1024;
  oracle::Outcome k = kernel_run(as_written, "6.18.44-fc-v1272", 0xfffffffffffffffe);
  k.kernel->plain.loaded = true;
  k.kernel->plain.verdict = oracle::kernel::KernelVerdict::Accepted;
  k.kernel->plain.retval = 0xfffffffe;
  const std::string text = format_known_kernel_bugs(p, oracle::EngineInput{}, {ours(p), k});
  EXPECT_NE(text.find("known kernel bug exit-offset-not-checked, not fixed upstream"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("fixed in Linux"), std::string::npos) << text;
}

}  // namespace
}  // namespace bpfdiff::cli
