// A kernel finding replays on the host kernel with its maps: the program of
// tests/support/map_tail_call_program.hpp (an array map it counts in, a
// program array it tail-calls itself through) is run by kernel-host, written
// as a kernel campaign finding, and replayed from the finding's directory
// the way `bpfdiff repro DIR` does: the kernel gets the same maps and gives
// the same result and map contents as the first time, and as our
// interpreter. Skips with the probe's reason where bpf() is unavailable.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "fuzz/findings/replay.hpp"
#include "fuzz/findings/target_input.hpp"
#include "fuzz/kernel_campaign/kernel_finding.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_host_engine.hpp"
#include "tests/support/map_tail_call_program.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;

TEST(FindingReplayKernel, ACaseWithAMapAndATailCallReplaysOnTheHostKernelWithItsMaps) {
  if (auto probe = oracle::kernel_host_available(); !probe) GTEST_SKIP() << probe.error().message;
  const fs::path dir = fs::temp_directory_path() / ("bpfdiff-kreplay-" + std::to_string(::getpid()));
  fs::remove_all(dir);

  KernelCase c;
  c.program = test_support::map_tail_call_program();
  c.input.memory.assign(16, 0x11);
  c.input.limits.instruction_budget = 10'000;
  auto engines = make_engines({"interp", std::string(oracle::kKernelHostEngine)});
  ASSERT_TRUE(engines.ok()) << engines.error().message;
  c.outcomes = run_on_each(*engines, c.program, c.input.memory, c.input.limits.instruction_budget);
  ASSERT_EQ(c.outcomes.size(), 2u);
  const oracle::KernelComparison first = oracle::compare_with_kernel(c.outcomes[0], c.outcomes[1]);
  ASSERT_EQ(first.kind, oracle::KernelAgreement::Agree)
      << oracle::to_string(first.kind) << ": " << first.reason << "\n"
      << (c.outcomes[1].kernel ? c.outcomes[1].kernel->log : "");
  EXPECT_EQ(c.outcomes[0].regs[0], test_support::kMapTailCallResult);

  // Written as a finding (the kind matters not for the files), then
  // replayed from its directory.
  KernelFindingRecord f;
  f.signature = "interp-vs-kernel-host.mismatch.state";
  f.kind = "mismatch";
  f.title = "replay check";
  auto written = write_kernel_finding(dir.string(), f, c, engines->names);
  ASSERT_TRUE(written.ok()) << written.error().message;
  std::string file = *written;
  std::string layout;
  std::vector<std::string> replay_engines;
  uint64_t budget = 0;
  ASSERT_TRUE(apply_replay_target("", file, layout, &replay_engines, false, budget).ok());
  EXPECT_EQ(replay_engines, engines->names);
  auto input = load_replay_input(file, false, layout, oracle::default_helpers());
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_EQ(input->program.maps.size(), 2u);
  auto again_engines = make_engines(replay_engines);
  ASSERT_TRUE(again_engines.ok());
  const std::vector<oracle::Outcome> again =
      run_on_each(*again_engines, input->program, input->memory, replay_budget(*input, budget), input->setup);
  ASSERT_EQ(again.size(), 2u);
  const oracle::KernelComparison replayed = oracle::compare_with_kernel(again[0], again[1]);
  EXPECT_EQ(replayed.kind, oracle::KernelAgreement::Agree)
      << oracle::to_string(replayed.kind) << ": " << replayed.reason;
  EXPECT_EQ(again[0].regs[0], c.outcomes[0].regs[0]);
  EXPECT_EQ(again[0].maps, c.outcomes[0].maps);
  ASSERT_TRUE(again[1].kernel.has_value());
  EXPECT_EQ(again[1].kernel->verdict, oracle::kernel::KernelVerdict::Accepted) << again[1].kernel->log;
  EXPECT_EQ(again[1].kernel->retval, test_support::kMapTailCallResult) << "the tail calls were taken";
  EXPECT_TRUE(again[1].maps_observed);
  EXPECT_EQ(again[1].maps, c.outcomes[1].maps);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bpfdiff::cli
