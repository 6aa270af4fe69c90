#include "oracle/run/session.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "oracle/engine.hpp"

namespace bpfdiff::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Copies of the input are made ahead of a batch of runs so that copying stays
// outside the timed region; the batch is bounded so that a large memory and
// a large repeat count do not need repeat copies at once.
constexpr std::size_t kBatchBytes = std::size_t{16} << 20;

uint64_t elapsed_ns(Clock::time_point start, Clock::time_point end) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
}

}  // namespace

Result<RunReport> run_program(const vm::Program& program, std::span<const uint8_t> memory,
                              const RunOptions& options, const vm::HelperRegistry& helpers) {
  auto made = oracle::make_engine(options.engine, helpers);
  if (!made) return made.error();
  auto prepared = (*made)->prepare(program, options.limits, options.seed);
  if (!prepared) return prepared.error();
  std::unique_ptr<oracle::Executor> engine = std::move(prepared).value();

  RunReport report;
  report.engine = options.engine;
  report.load_ns = engine->load_ns();
  report.compile_ns = engine->compile_ns();
  if (options.trace != nullptr && !engine->can_trace()) {
    return make_error("engine '" + options.engine + "' cannot trace; use --engine interp");
  }

  auto input_for = [&](std::span<uint8_t> mem, std::span<uint8_t> meta) {
    vm::RunInput in;
    in.mode = options.mode;
    in.memory = mem;
    in.metadata = meta;
    in.data_offset = options.data_offset;
    in.data_end_offset = options.data_end_offset;
    in.seed = options.seed;
    return in;
  };
  {
    std::vector<uint8_t> mem(memory.begin(), memory.end());
    std::vector<uint8_t> meta = options.metadata;
    if (std::string why = vm::check_run_input(input_for(mem, meta)); !why.empty()) return make_error(why);
  }

  const std::size_t size = memory.size();
  const std::size_t meta_size = options.metadata.size();
  if (options.trace != nullptr) {
    std::vector<uint8_t> copy(memory.begin(), memory.end());
    std::vector<uint8_t> meta = options.metadata;
    TraceRecorder recorder(program.slots, *options.trace);
    const vm::RunResult traced = engine->run_traced(input_for(copy, meta), recorder.callback());
    recorder.finish(traced.regs);
    engine->reset_maps();  // the timed runs start from the initial maps too
  }

  const uint64_t repeat = std::max<uint64_t>(options.repeat, 1);
  const std::size_t batch =
      size == 0 ? repeat : static_cast<std::size_t>(std::clamp<uint64_t>(kBatchBytes / size, 1, repeat));
  std::vector<uint8_t> copies(batch * size);
  std::vector<uint8_t> meta_copies(batch * meta_size);
  uint64_t done = 0;
  std::size_t last = 0;
  while (done < repeat) {
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(batch, repeat - done));
    for (std::size_t i = 0; i < n && size != 0; ++i)
      std::memcpy(&copies[i * size], memory.data(), size);
    for (std::size_t i = 0; i < n && meta_size != 0; ++i)
      std::memcpy(&meta_copies[i * meta_size], options.metadata.data(), meta_size);
    const auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      const vm::RunResult result =
          engine->run(input_for(std::span<uint8_t>(copies.data() + i * size, size),
                                std::span<uint8_t>(meta_copies.data() + i * meta_size, meta_size)));
      // Only the batch's last result is kept: copying every one, just after
      // the engine wrote it, would stall on store forwarding and add more to
      // a short program's time than its run.
      if (i + 1 == n) report.result = result;
    }
    report.run_ns += elapsed_ns(start, Clock::now());
    done += n;
    last = n - 1;
  }
  report.runs = repeat;
  report.memory.assign(copies.begin() + static_cast<std::ptrdiff_t>(last * size),
                       copies.begin() + static_cast<std::ptrdiff_t>((last + 1) * size));
  report.metadata.assign(meta_copies.begin() + static_cast<std::ptrdiff_t>(last * meta_size),
                         meta_copies.begin() + static_cast<std::ptrdiff_t>((last + 1) * meta_size));
  report.maps = engine->maps().value_or(std::vector<vm::MapSnapshot>{});
  report.printk = engine->trace_output().value_or(std::vector<std::string>{});
  return report;
}

}  // namespace bpfdiff::cli
