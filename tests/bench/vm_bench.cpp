// Interpreter throughput on the workloads of bench_programs.hpp.
// items_processed is the number of BPF instructions executed, so Google
// Benchmark reports instructions per second; ns_per_insn is its inverse.
// jit_bench runs the same workloads on the JIT variants and the host kernel.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "tests/bench/bench_programs.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::bench {
namespace {

void run_program(benchmark::State& state, const vm::Program& program, std::size_t memory_bytes) {
  vm::HelperRegistry helpers;
  auto loaded = vm::validate(program, helpers);
  if (!loaded.ok()) {
    state.SkipWithError(loaded.error().message.c_str());
    return;
  }
  vm::ExecLimits limits;
  limits.instruction_budget = 100'000'000;
  vm::Interpreter interp(*loaded, helpers, limits);
  std::vector<uint8_t> memory(memory_bytes, 0x5a);
  uint64_t instructions = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const vm::RunResult r = interp.run(vm::RunInput{vm::RunMode::Memory, memory});
    if (!r.ok()) {
      state.SkipWithError(vm::describe(r.error).c_str());
      return;
    }
    benchmark::DoNotOptimize(r.regs[0]);
    instructions += r.instructions;
  }
  const double elapsed_ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  state.SetItemsProcessed(static_cast<int64_t>(instructions));
  // A plain value: a kIsRate|kInvert counter holds the same number but
  // prints with an "s" suffix.
  state.counters["ns_per_insn"] = instructions > 0 ? elapsed_ns / static_cast<double>(instructions) : 0.0;
}

void BM_AluLoop(benchmark::State& state) {
  run_program(state, alu_program(), 0);
}
void BM_MemoryLoop(benchmark::State& state) {
  run_program(state, memory_program(), 64);
}
void BM_Branchy(benchmark::State& state) {
  run_program(state, branchy_program(), 0);
}
void BM_LocalCalls(benchmark::State& state) {
  run_program(state, call_program(), 0);
}

BENCHMARK(BM_AluLoop)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MemoryLoop)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Branchy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LocalCalls)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bpfdiff::bench

BENCHMARK_MAIN();
