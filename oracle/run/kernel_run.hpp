#pragma once
// `bpfdiff run --engine K` for the kernel engines (kernel-host, kernel-qemu,
// kernel-qemu-interp). They cannot prepare a program ahead of its input (the
// verifier sees the memory's size), so each of the --repeat runs is a whole
// round trip: load, verifier, test run, state read back; ns_per_run times
// that, and load_ns/compile_ns stay 0 since they are inside it.
#include <span>
#include <string>
#include <string_view>

#include "oracle/engine.hpp"
#include "oracle/run/session.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

// Whether `name` is one of oracle::kernel_engine_names().
bool is_kernel_engine(std::string_view name);

// Fails when the kernel does not run the program: the verdict line (verdict,
// errno, rejection reason, kernel release) and the verifier log's tail; also
// for --trace and the packet modes, which the kernel recipe does not express.
Result<RunReport> run_kernel_program(oracle::Engine& engine, const vm::Program& program,
                                     std::span<const uint8_t> memory, const RunOptions& options);

}  // namespace bpfdiff::cli
