// JIT benchmarks: run-time throughput of the interpreter and the JIT variants
// on the same programs, JIT compile time, and a comparison with the host
// kernel's JIT on kernel-verifiable versions of the same workloads.
//
// Build and run (Release; not registered with ctest):
//   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
//   ninja -C build-bench jit_bench
//   build-bench/tests/bench/jit_bench --benchmark_min_time=0.2
// Select a group with --benchmark_filter=Throughput/ (or Compile/, Kernel/).
// The kernel group needs bpf() (root or CAP_BPF+CAP_PERFMON); without it, its
// kernel rows are skipped with "bpf() unavailable: ...".
//
// Groups:
//   Overhead/tiny/<engine>          engines: interp, jit, kernel; `mov r0, 1;
//       exit` per run: ns_per_run is the per-run overhead.
// Every ns_* counter of our engines is thread CPU time (see Stopwatch).
//   Throughput/<workload>/<engine>  engines: interp, jit, jit+blind, jit-bmi2.
//       items_processed = instructions executed (items_per_second is
//       instructions/s); ns_per_insn = nanoseconds per BPF instruction.
//   Compile/straight<N>/<engine>   N-slot straight-line programs;
//       compile_ns_per_insn = wall time of JitProgram::compile (and freeing the
//       result) per slot; reported_ns_per_insn = JitProgram::compile_ns() per slot.
//   Kernel/<workload>/<engine>      engines: interp, jit, kernel; the programs
//       are the kernel-verifiable variants (kernel_workloads()). Time and
//       ns_per_run are nanoseconds per program run; the kernel's come from
//       BPF_PROG_TEST_RUN's `duration` (manual time), not from wall time.
// A summary with JIT speedups and ours/kernel ratios follows the table (with
// --benchmark_repetitions=N it uses the medians), then the README's
// performance table in Markdown (scripts/perf-table.sh runs exactly this).
// Throughput rows of JIT engines also report code_bytes, which the
// performance gate (scripts/perf-gate.sh) compares between two builds.
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

#include "tests/bench/bench_programs.hpp"
#include "tests/bench/kernel_runner.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::bench {
namespace {

constexpr uint64_t kBudget = 100'000'000;
constexpr uint32_t kKernelRepeat = 8;  // runs per BPF_PROG_TEST_RUN call

enum class Engine { Interp, Jit, JitBlind, JitNoBmi2, Kernel };

const char* engine_label(Engine e) {
  switch (e) {
    case Engine::Interp:
      return "interp";
    case Engine::Jit:
      return "jit";
    case Engine::JitBlind:
      return "jit+blind";
    case Engine::JitNoBmi2:
      return "jit-bmi2";
    case Engine::Kernel:
      return "kernel";
  }
  return "?";
}

jit::JitOptions jit_options(Engine e) {
  jit::JitOptions o;
  o.constant_blinding = e == Engine::JitBlind;
  o.bmi2 = e != Engine::JitNoBmi2;
  return o;
}

// One of our engines, ready to run a program. Not movable: the interpreter
// and the JIT keep references to `loaded` and `helpers`.
class OurEngine {
 public:
  OurEngine(const vm::Program& program, Engine engine) {
    auto loaded = vm::validate(program, helpers_);
    if (!loaded) {
      error_ = "validate: " + loaded.error().message;
      return;
    }
    loaded_.emplace(std::move(loaded).value());
    vm::ExecLimits limits;
    limits.instruction_budget = kBudget;
    if (engine == Engine::Interp) {
      interp_ = std::make_unique<vm::Interpreter>(*loaded_, helpers_, limits);
      return;
    }
    auto compiled = jit::JitProgram::compile(*loaded_, helpers_, limits, jit_options(engine));
    if (!compiled) {
      error_ = compiled.error().message;
      return;
    }
    jit_ = std::move(compiled).value();
  }
  OurEngine(const OurEngine&) = delete;
  OurEngine& operator=(const OurEngine&) = delete;

  const std::string& error() const { return error_; }
  vm::RunResult run(vm::RunInput input) { return interp_ ? interp_->run(input) : jit_->run(input); }
  uint64_t deopts() const { return jit_ ? jit_->deopts() : 0; }
  std::size_t code_bytes() const { return jit_ ? jit_->code().size() : 0; }

 private:
  vm::HelperRegistry helpers_;
  std::optional<vm::LoadedProgram> loaded_;
  std::unique_ptr<vm::Interpreter> interp_;
  std::unique_ptr<jit::JitProgram> jit_;
  std::string error_;
};

// The last measurement of each benchmark, for the summary.
std::map<std::string, double>& results() {
  static std::map<std::string, double> r;
  return r;
}
std::string key(const char* group, const std::string& workload, Engine e) {
  return std::string(group) + "/" + workload + "/" + engine_label(e);
}

// Nanoseconds per unit, as a plain counter. (A kIsRate|kInvert counter
// holds the same number, but the console prints it with an "s" suffix.)
benchmark::Counter ns_per(double nanoseconds, double count) {
  return benchmark::Counter(count > 0 ? nanoseconds / count : 0.0);
}

// CPU nanoseconds of this thread since construction. Not wall time: on a
// machine shared with other work, wall time counts the time the scheduler
// gave to others, while the kernel's BPF_PROG_TEST_RUN duration leaves out
// the time it was rescheduled; both sides of a ratio count running time only.
class Stopwatch {
 public:
  double ns() const { return now() - start_; }

 private:
  static double now() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
  }
  double start_ = now();
};

// Runs `engine` on `program` once per iteration; reports instructions and
// runs. Returns false (after SkipWithError) on any failure.
bool run_ours(benchmark::State& state, OurEngine& engine, std::vector<uint8_t>& memory, vm::RunMode mode,
              uint64_t& instructions, uint64_t& runs, double& elapsed_ns) {
  if (!engine.error().empty()) {
    state.SkipWithError(engine.error().c_str());
    return false;
  }
  const Stopwatch watch;
  for (auto _ : state) {
    const vm::RunResult r = engine.run(vm::RunInput{mode, memory});
    if (!r.ok()) {
      state.SkipWithError(vm::describe(r.error).c_str());
      return false;
    }
    benchmark::DoNotOptimize(r.regs[0]);
    instructions += r.instructions;
    ++runs;
  }
  elapsed_ns = watch.ns();
  if (engine.deopts() != 0) state.counters["deopts"] = static_cast<double>(engine.deopts());
  return true;
}

void throughput(benchmark::State& state, const Workload* w, Engine e) {
  OurEngine engine(w->program, e);
  std::vector<uint8_t> memory(w->memory_bytes, 0x5a);
  uint64_t instructions = 0;
  uint64_t runs = 0;
  double elapsed_ns = 0;
  if (!run_ours(state, engine, memory, vm::RunMode::Memory, instructions, runs, elapsed_ns)) return;
  state.SetItemsProcessed(static_cast<int64_t>(instructions));
  state.counters["ns_per_insn"] = ns_per(elapsed_ns, static_cast<double>(instructions));
  state.counters["ns_per_run"] = ns_per(elapsed_ns, static_cast<double>(runs));
  if (engine.code_bytes() != 0) state.counters["code_bytes"] = static_cast<double>(engine.code_bytes());
}

// --- Per-run overhead --------------------------------------------------------

// `mov r0, 1; exit`, run over and over on one engine instance with a 64-byte
// input (the JIT and interpreter) or through BPF_PROG_TEST_RUN (the kernel,
// whose own `duration` is the average of kOverheadKernelRepeat runs).
constexpr uint32_t kOverheadKernelRepeat = 100'000;

void overhead(benchmark::State& state, Engine e) {
  static const vm::Program program = overhead_program();
  if (e != Engine::Kernel) {
    OurEngine engine(program, e);
    std::vector<uint8_t> memory(64, 0x5a);
    uint64_t instructions = 0;
    uint64_t runs = 0;
    double elapsed_ns = 0;
    if (!run_ours(state, engine, memory, vm::RunMode::Memory, instructions, runs, elapsed_ns)) return;
    state.counters["ns_per_run"] = ns_per(elapsed_ns, static_cast<double>(runs));
    return;
  }
  const std::string& unavailable = KernelProgram::unavailable_reason();
  if (!unavailable.empty()) {
    state.SkipWithError(("bpf() unavailable: " + unavailable).c_str());
    return;
  }
  auto loaded = KernelProgram::load(program.slots, "bpfdiff_overhead");
  if (!loaded) {
    state.SkipWithError(loaded.error().message.c_str());
    return;
  }
  std::array<uint8_t, 64> packet{};
  double kernel_ns = 0;
  uint64_t runs = 0;
  for (auto _ : state) {
    auto run = loaded->test_run(packet, kOverheadKernelRepeat);
    if (!run) {
      state.SkipWithError(run.error().message.c_str());
      return;
    }
    // One iteration is the whole batch; `duration` is its average per run.
    state.SetIterationTime(static_cast<double>(run->duration_ns) * kOverheadKernelRepeat * 1e-9);
    kernel_ns += run->duration_ns;
    ++runs;
  }
  state.counters["ns_per_run"] = ns_per(kernel_ns, static_cast<double>(runs));
}

// --- Kernel comparison -------------------------------------------------------

struct KernelEntry {
  std::optional<KernelProgram> program;
  std::string error;
  uint64_t instructions = 0;  // per run, counted by our interpreter
  uint64_t r0 = 0;            // our interpreter's result
};

// Verifying a 10,000-trip loop takes the kernel a while, so each workload is
// loaded once per process.
KernelEntry& kernel_entry(const Workload& w) {
  static std::map<std::string, KernelEntry> cache;
  auto it = cache.find(w.name);
  if (it != cache.end()) return it->second;
  KernelEntry& entry = cache[w.name];
  OurEngine interp(w.program, Engine::Interp);
  if (!interp.error().empty()) {
    entry.error = interp.error();
    return entry;
  }
  const vm::RunResult r = interp.run(vm::RunInput{vm::RunMode::NoData, {}});
  if (!r.ok()) {
    entry.error = "interpreter: " + vm::describe(r.error);
    return entry;
  }
  entry.instructions = r.instructions;
  entry.r0 = r.regs[0];
  auto loaded = KernelProgram::load(w.program.slots, std::string("bpfdiff_") + w.name);
  if (!loaded) {
    entry.error = loaded.error().message;
    std::fprintf(stderr, "kernel rejected workload %s:\n%s\n", w.name, entry.error.c_str());
    return entry;
  }
  entry.program.emplace(std::move(loaded).value());
  return entry;
}

void kernel_compare(benchmark::State& state, const Workload* w, Engine e) {
  if (e != Engine::Kernel) {
    OurEngine engine(w->program, e);
    std::vector<uint8_t> none;
    uint64_t instructions = 0;
    uint64_t runs = 0;
    double elapsed_ns = 0;
    if (!run_ours(state, engine, none, vm::RunMode::NoData, instructions, runs, elapsed_ns)) return;
    state.SetItemsProcessed(static_cast<int64_t>(instructions));
    state.counters["ns_per_insn"] = ns_per(elapsed_ns, static_cast<double>(instructions));
    state.counters["ns_per_run"] = ns_per(elapsed_ns, static_cast<double>(runs));
    state.counters["insns_per_run"] = runs ? static_cast<double>(instructions / runs) : 0.0;
    return;
  }
  const std::string& unavailable = KernelProgram::unavailable_reason();
  if (!unavailable.empty()) {
    state.SkipWithError(("bpf() unavailable: " + unavailable).c_str());
    return;
  }
  KernelEntry& entry = kernel_entry(*w);
  if (!entry.program) {
    const std::string first_line = entry.error.substr(0, entry.error.find('\n'));
    state.SkipWithError(("kernel: " + first_line + " (verifier log on stderr)").c_str());
    return;
  }
  std::array<uint8_t, 64> packet{};
  packet.fill(0x5a);
  uint64_t runs = 0;
  double kernel_ns = 0;
  uint32_t retval = 0;
  for (auto _ : state) {
    auto run = entry.program->test_run(packet, kKernelRepeat);
    if (!run) {
      state.SkipWithError(run.error().message.c_str());
      return;
    }
    // One iteration stands for one run: its time is the kernel's average.
    state.SetIterationTime(static_cast<double>(run->duration_ns) * 1e-9);
    kernel_ns += run->duration_ns;
    retval = run->retval;
    ++runs;
  }
  if (retval != static_cast<uint32_t>(entry.r0)) {
    char label[96];
    std::snprintf(label, sizeof(label), "r0 MISMATCH: ours %#" PRIx64 " kernel %#x", entry.r0, retval);
    state.SetLabel(label);
  }
  const double instructions = static_cast<double>(entry.instructions * runs);
  state.SetItemsProcessed(static_cast<int64_t>(entry.instructions * runs));
  state.counters["ns_per_insn"] = ns_per(kernel_ns, instructions);
  state.counters["ns_per_run"] = ns_per(kernel_ns, static_cast<double>(runs));
  state.counters["insns_per_run"] = static_cast<double>(entry.instructions);
}

// --- Compile time ------------------------------------------------------------

void compile_time(benchmark::State& state, uint32_t size, Engine e) {
  const vm::Program program = straight_line_program(size);
  vm::HelperRegistry helpers;
  auto loaded = vm::validate(program, helpers);
  if (!loaded) {
    state.SkipWithError(("validate: " + loaded.error().message).c_str());
    return;
  }
  vm::ExecLimits limits;
  limits.instruction_budget = kBudget;
  {
    // The compiled code must compute what the interpreter computes.
    vm::Interpreter interp(*loaded, helpers, limits);
    const vm::RunResult want = interp.run(vm::RunInput{vm::RunMode::NoData, {}});
    auto jit = jit::JitProgram::compile(*loaded, helpers, limits, jit_options(e));
    if (!jit) {
      state.SkipWithError(jit.error().message.c_str());
      return;
    }
    const vm::RunResult got = (*jit)->run(vm::RunInput{vm::RunMode::NoData, {}});
    if (!want.ok() || !got.ok() || want.regs != got.regs || want.instructions != got.instructions) {
      const std::string why = !want.ok()  ? "interpreter: " + vm::describe(want.error)
                              : !got.ok() ? "jit: " + vm::describe(got.error)
                                          : std::string("JIT and interpreter disagree");
      state.SkipWithError(("straight-line program: " + why).c_str());
      return;
    }
  }
  uint64_t reported_ns = 0;
  std::size_t code_bytes = 0;
  const Stopwatch watch;
  for (auto _ : state) {
    auto jit = jit::JitProgram::compile(*loaded, helpers, limits, jit_options(e));
    if (!jit) {
      state.SkipWithError(jit.error().message.c_str());
      return;
    }
    reported_ns += (*jit)->compile_ns();
    code_bytes = (*jit)->code().size();
    benchmark::DoNotOptimize(code_bytes);
  }
  const double elapsed_ns = watch.ns();
  const double slots = static_cast<double>(size) * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<int64_t>(slots));
  state.counters["compile_ns_per_insn"] = ns_per(elapsed_ns, slots);
  state.counters["reported_ns_per_insn"] = static_cast<double>(reported_ns) / slots;
  state.counters["code_bytes_per_insn"] = static_cast<double>(code_bytes) / size;
}

// --- Summary -----------------------------------------------------------------

// Passes every run to the console reporter and keeps the counters the
// summary needs.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  // Colour only on a terminal (the library's own choice for its default
  // reporter; --benchmark_color does not reach a custom one).
  SummaryReporter() : ConsoleReporter(isatty(fileno(stdout)) ? OO_Defaults : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      // With --benchmark_repetitions the median (reported last) wins.
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.error_occurred || (run.run_type != Run::RT_Iteration && !median)) continue;
      for (const char* counter :
           {"ns_per_insn", "ns_per_run", "insns_per_run", "compile_ns_per_insn", "code_bytes"}) {
        auto it = run.counters.find(counter);
        if (it == run.counters.end()) continue;
        results()[run.run_name.function_name + "#" + counter] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

double result(const std::string& name, const char* counter) {
  auto it = results().find(name + "#" + counter);
  return it == results().end() ? 0.0 : it->second;
}

void print_summary(const std::vector<Workload>& throughput_set, const std::vector<Workload>& kernel_set,
                   const std::vector<uint32_t>& sizes) {
  std::printf("\nSummary (ns per BPF instruction; speedup = interp / engine)\n");
  std::printf("%-10s %9s %9s %9s %9s %9s %9s %9s\n", "workload", "interp", "jit", "jit+blind", "jit-bmi2",
              "x jit", "x blind", "x -bmi2");
  for (const Workload& w : throughput_set) {
    auto v = [&](Engine e) { return result(key("Throughput", w.name, e), "ns_per_insn"); };
    auto x = [&](Engine e) { return v(e) > 0 ? v(Engine::Interp) / v(e) : 0.0; };
    std::printf("%-10s %9.3f %9.3f %9.3f %9.3f %8.1fx %8.1fx %8.1fx\n", w.name, v(Engine::Interp),
                v(Engine::Jit), v(Engine::JitBlind), v(Engine::JitNoBmi2), x(Engine::Jit),
                x(Engine::JitBlind), x(Engine::JitNoBmi2));
  }
  std::printf("\nKernel comparison (ns per run of the same bytecode; ratio = ours / kernel)\n");
  std::printf("%-10s %8s %12s %12s %12s %10s %10s\n", "workload", "insns", "interp", "jit", "kernel",
              "jit/kern", "interp/kern");
  for (const Workload& w : kernel_set) {
    auto v = [&](Engine e) { return result(key("Kernel", w.name, e), "ns_per_run"); };
    const double kernel = v(Engine::Kernel);
    std::printf("%-10s %8.0f %12.0f %12.0f %12.0f %10.2f %10.2f\n", w.name,
                result(key("Kernel", w.name, Engine::Interp), "insns_per_run"), v(Engine::Interp),
                v(Engine::Jit), kernel, kernel > 0 ? v(Engine::Jit) / kernel : 0.0,
                kernel > 0 ? v(Engine::Interp) / kernel : 0.0);
  }
  std::printf("\nCompile time (ns per instruction)\n%-10s %10s %10s\n", "slots", "jit", "jit+blind");
  for (const uint32_t size : sizes) {
    const std::string name = "straight" + std::to_string(size);
    std::printf("%-10u %10.1f %10.1f\n", size,
                result(key("Compile", name, Engine::Jit), "compile_ns_per_insn"),
                result(key("Compile", name, Engine::JitBlind), "compile_ns_per_insn"));
  }
}

// The README's performance table, from this run's numbers: every ratio is
// of two rows measured in the same process, minutes apart at most.
void print_table(const std::vector<Workload>& kernel_set, const std::vector<uint32_t>& sizes) {
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  std::printf("\n| measure | interpreter | JIT | kernel JIT | JIT / kernel |\n|---|---:|---:|---:|---:|\n");
  const double oi = result(key("Overhead", "tiny", Engine::Interp), "ns_per_run");
  const double oj = result(key("Overhead", "tiny", Engine::Jit), "ns_per_run");
  const double ok = result(key("Overhead", "tiny", Engine::Kernel), "ns_per_run");
  std::printf("| per-run overhead, 2 instructions (ns) | %.1f | %.1f | %.1f | %.2f |\n", oi, oj, ok,
              ratio(oj, ok));
  for (const Workload& w : kernel_set) {
    auto v = [&](Engine e) { return result(key("Kernel", w.name, e), "ns_per_run"); };
    std::printf("| %s loop, %.0f instructions (ns per run) | %.0f | %.0f | %.0f | %.2f |\n", w.name,
                result(key("Kernel", w.name, Engine::Interp), "insns_per_run"), v(Engine::Interp),
                v(Engine::Jit), v(Engine::Kernel), ratio(v(Engine::Jit), v(Engine::Kernel)));
  }
  for (const uint32_t size : sizes) {
    const double per_insn =
        result(key("Compile", "straight" + std::to_string(size), Engine::Jit), "compile_ns_per_insn");
    std::printf("| compile, %u instructions (ns per instruction; us per program) | | %.0f; %.1f | | |\n",
                size, per_insn, per_insn * size / 1000.0);
  }
}

}  // namespace
}  // namespace bpfdiff::bench

int main(int argc, char** argv) {
  using namespace bpfdiff::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  static const std::vector<Workload> throughput_set = throughput_workloads();
  static const std::vector<Workload> kernel_set = kernel_workloads();
  static const std::vector<uint32_t> sizes = {100, 1000, 10000, 100000};

  for (const Engine e : {Engine::Interp, Engine::Jit, Engine::Kernel}) {
    auto* b = benchmark::RegisterBenchmark(key("Overhead", "tiny", e).c_str(), overhead, e);
    if (e == Engine::Kernel) b->UseManualTime();
  }
  for (const Workload& w : throughput_set) {
    for (const Engine e : {Engine::Interp, Engine::Jit, Engine::JitBlind, Engine::JitNoBmi2}) {
      benchmark::RegisterBenchmark(key("Throughput", w.name, e).c_str(), throughput, &w, e)
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (const uint32_t size : sizes) {
    for (const Engine e : {Engine::Jit, Engine::JitBlind}) {
      benchmark::RegisterBenchmark(key("Compile", "straight" + std::to_string(size), e).c_str(), compile_time,
                                   size, e)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (const Workload& w : kernel_set) {
    for (const Engine e : {Engine::Interp, Engine::Jit, Engine::Kernel}) {
      auto* b = benchmark::RegisterBenchmark(key("Kernel", w.name, e).c_str(), kernel_compare, &w, e);
      b->Unit(benchmark::kMicrosecond);
      if (e == Engine::Kernel) b->UseManualTime();
    }
  }

  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_summary(throughput_set, kernel_set, sizes);
  print_table(kernel_set, sizes);
  benchmark::Shutdown();
  return 0;
}
