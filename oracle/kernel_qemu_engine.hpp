#pragma once
// `kernel-qemu` (the guest kernel's JIT) and `kernel-qemu-interp` (its
// interpreter, bpf_jit_enable=0): a Linux kernel in a QEMU guest as an
// engine. Each run is one request to the process-wide guest pool
// (oracle/kernel/guest/guest_service.hpp), which both engines share since
// the JIT choice travels in the request. Both are a KernelEngine
// (kernel_engine.hpp) given the pool (or the pool daemon) as its executor.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/engine.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle {

inline constexpr const char* kKernelQemuEngine = "kernel-qemu";
inline constexpr const char* kKernelQemuInterpEngine = "kernel-qemu-interp";

std::vector<std::string> kernel_qemu_engine_names();
bool is_kernel_qemu_engine(std::string_view name);

// Fails with "kernel-qemu unavailable: <why>": no image ("run
// scripts/build-guest.sh"), no QEMU, or no guest booted. The guests boot on
// the first successful make, once per process.
Result<std::unique_ptr<Engine>> make_kernel_qemu_engine(std::string_view name,
                                                        const vm::HelperRegistry& helpers);

}  // namespace bpfdiff::oracle
