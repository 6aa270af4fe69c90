#include "oracle/run/kernel_run.hpp"

#include <algorithm>
#include <chrono>

#include "oracle/run/kernel_report.hpp"

namespace bpfdiff::cli {

bool is_kernel_engine(std::string_view name) {
  const auto names = oracle::kernel_engine_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

Result<RunReport> run_kernel_program(oracle::Engine& engine, const vm::Program& program,
                                     std::span<const uint8_t> memory, const RunOptions& options) {
  const std::string name(engine.name());
  if (options.trace != nullptr) return make_error("engine '" + name + "' cannot trace; use --engine interp");
  if (options.mode != vm::RunMode::Memory && options.mode != vm::RunMode::NoData) {
    return make_error("engine '" + name +
                      "' runs in memory mode (or none) only: the kernel recipe has no packet context");
  }
  oracle::EngineInput input;
  input.mode = options.mode;
  if (options.mode == vm::RunMode::Memory) input.memory.assign(memory.begin(), memory.end());
  input.limits = options.limits;
  input.seed = options.seed;

  RunReport report;
  report.engine = name;
  const uint64_t repeat = std::max<uint64_t>(options.repeat, 1);
  oracle::Outcome last;
  for (uint64_t i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    last = engine.run(program, input);
    report.run_ns += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
            .count());
    // A rejection is the same on every repeat: no point asking again.
    if (!last.loaded) break;
  }
  if (!last.loaded) {
    std::string message = last.kernel ? kernel_verdict_line(last) : name + ": " + last.load_error;
    if (last.kernel && last.kernel->verdict == oracle::kernel::KernelVerdict::Rejected) {
      message += "\n" + format_kernel_section(last, {last});
      while (!message.empty() && message.back() == '\n')
        message.pop_back();
    }
    return make_error(message);
  }
  report.runs = repeat;
  report.result.regs = last.regs;
  report.result.error = last.error;
  report.memory = options.mode == vm::RunMode::Memory ? last.memory : std::vector<uint8_t>{};
  return report;
}

}  // namespace bpfdiff::cli
