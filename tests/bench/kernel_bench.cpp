// Throughput of the kernel oracle on this host: requests per second through
// the executor (BPF_PROG_LOAD + BPF_PROG_TEST_RUN + read back through the
// mmapped maps + close), and whole differential checks per second (our
// interpreter, kernel-host, the kernel rules). Release build, as root:
//   build/release/tests/bench/kernel_bench
// items_per_second is programs per second. Where bpf() is unavailable every
// benchmark reports the probe's reason and skips.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/generator.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel/kernel_executor.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_host_engine.hpp"

namespace {

using namespace bpfdiff;

bool skip_unless_available(benchmark::State& state) {
  if (auto probe = oracle::kernel_host_available(); !probe) {
    state.SkipWithError(probe.error().message.c_str());
    return true;
  }
  return false;
}

std::vector<fuzz::GeneratedCase> generated_cases(std::size_t n, std::size_t max_instructions) {
  std::vector<fuzz::GeneratedCase> cases;
  for (uint64_t seed = 0; seed < n; ++seed) {
    fuzz::ByteSource src(seed);
    fuzz::GeneratorOptions options;
    options.max_instructions = max_instructions;
    options.helper_rate = 0;  // plain programs, as before helper calls and maps were generated
    cases.push_back(fuzz::generate(src, options));
  }
  return cases;
}

// The cheapest request: two instructions, no memory.
void BM_ExecutorTrivial(benchmark::State& state) {
  if (skip_unless_available(state)) return;
  auto executor = oracle::kernel::KernelExecutor::create();
  oracle::kernel::KernelRequest request;
  request.program = {{0xb7, 0, 0, 0, 42}, {0x95, 0, 0, 0, 0}};
  for (auto _ : state) {
    auto r = (*executor)->execute(request);
    benchmark::DoNotOptimize(r.regs[0]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExecutorTrivial)->UseRealTime();

// Generated programs (up to 128 slots, with memory), accepted or rejected
// as the kernel decides; rejections are reloaded with the log.
void BM_ExecutorGenerated(benchmark::State& state) {
  if (skip_unless_available(state)) return;
  auto executor = oracle::kernel::KernelExecutor::create();
  const auto cases = generated_cases(256, 128);
  std::size_t i = 0, accepted = 0;
  for (auto _ : state) {
    const fuzz::GeneratedCase& c = cases[i++ % cases.size()];
    oracle::kernel::KernelRequest request;
    request.program = c.program.slots;
    request.memory = c.memory;
    const auto r = (*executor)->execute(request);
    accepted += r.verdict == oracle::kernel::KernelVerdict::Accepted;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["accepted_pct"] =
      100.0 * static_cast<double>(accepted) / static_cast<double>(std::max<std::size_t>(i, 1));
}
BENCHMARK(BM_ExecutorGenerated)->UseRealTime();

// One differential check: interp, kernel-host (with the uninitialised-stack
// trace when accepted) and the kernel rules.
void BM_DifferentialCheck(benchmark::State& state) {
  if (skip_unless_available(state)) return;
  auto interp = oracle::make_engine("interp");
  auto kernel = oracle::make_engine(oracle::kKernelHostEngine);
  const auto cases = generated_cases(256, 128);
  std::size_t i = 0;
  for (auto _ : state) {
    const fuzz::GeneratedCase& c = cases[i++ % cases.size()];
    const oracle::EngineInput input = fuzz::engine_input(c);
    const auto k =
        oracle::compare_with_kernel((*interp)->run(c.program, input), (*kernel)->run(c.program, input));
    benchmark::DoNotOptimize(k.kind);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DifferentialCheck)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
