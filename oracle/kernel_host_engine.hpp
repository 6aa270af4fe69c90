#pragma once
// `kernel-host`: the running kernel as an engine, through bpf() on this
// machine (root, or CAP_BPF + CAP_PERFMON). Each run is one executor
// request: load with the full-state recipe, verifier verdict, one test run,
// the state read back and translated: a KernelEngine (kernel_engine.hpp)
// given this process's KernelExecutor.
#include <memory>
#include <string>

#include "oracle/engine.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle {

inline constexpr const char* kKernelHostEngine = "kernel-host";

// Fails with "kernel-host unavailable: <why>" when bpf() cannot load and run
// a trivial program here; the probe runs once per process.
Result<std::unique_ptr<Engine>> make_kernel_host_engine(const vm::HelperRegistry& helpers);

// The probe's verdict alone (cached), for tests and help texts.
Result<void> kernel_host_available();

}  // namespace bpfdiff::oracle
