#pragma once
// One `run`: validate, make the engine, optionally trace one run, then time
// `repeat` runs, each on a fresh copy of the same input memory.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "oracle/run/trace.hpp"
#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/runtime/map_store.hpp"
#include "vm/runtime/run.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

struct RunOptions {
  std::string engine = "interp";
  vm::RunMode mode = vm::RunMode::Memory;
  vm::ExecLimits limits;
  // MetaBuffer mode: the buffer r1 points to (copied per run) and where the
  // VM writes the packet's start and end addresses in it.
  std::vector<uint8_t> metadata;
  uint32_t data_offset = 0;
  uint32_t data_end_offset = 8;
  uint64_t seed = 0;  // bpf_ktime_get_ns and bpf_get_prandom_u32
  uint64_t repeat = 1;
  // When set, an extra run before the timed ones reports every instruction here.
  const TraceSink* trace = nullptr;
};

struct RunReport {
  std::string engine;
  vm::RunResult result;               // of the last run
  std::vector<uint8_t> memory;        // the input memory (the packet in packet modes) as the last run left it
  std::vector<uint8_t> metadata;      // MetaBuffer mode: the buffer as the last run left it
  std::vector<vm::MapSnapshot> maps;  // after the last run (maps persist across the repeated runs)
  std::vector<std::string> printk;    // bpf_trace_printk output of the last run
  uint64_t runs = 0;
  uint64_t load_ns = 0;     // validation
  uint64_t compile_ns = 0;  // the engine's translation of the program
  uint64_t run_ns = 0;      // all timed runs together, memory copies excluded

  uint64_t ns_per_run() const { return runs == 0 ? 0 : run_ns / runs; }
};

// Fails (with the validator's or engine factory's message, or why the run
// input does not fit the mode) only when the program cannot be run at all; run-time errors are in
// report.result.error.
Result<RunReport> run_program(const vm::Program& program, std::span<const uint8_t> memory,
                              const RunOptions& options, const vm::HelperRegistry& helpers);

}  // namespace bpfdiff::cli
