#pragma once
// What the agent does as /init of the guest before it can serve requests:
// mount the pseudo file systems, load the modules the kernel lacks, find the
// virtio-serial port. Separate from agent_main.cpp so that a test agent with
// a trivial executor boots exactly the same way.
#include <string>

#include "oracle/kernel/guest/agent.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

// The name QEMU gives the port (`virtserialport,name=...`); the guest finds
// it under /sys/class/virtio-ports since there is no udev to make
// /dev/virtio-ports/NAME.
inline constexpr const char* kPortName = "org.bpfdiff.agent";
// Where build-guest.sh puts the modules in the initramfs, named so that
// lexical order is dependency order.
inline constexpr const char* kModuleDir = "/modules";

// Mounts /proc, /sys and /dev (devtmpfs) and points stdio at /dev/console.
// Returns notes on what failed (the agent reports them in its hello).
std::string mount_pseudo_filesystems();
// Loads every module of kModuleDir with finit_module; "already loaded" and
// "built in" are fine. Returns notes on the ones that failed.
std::string load_modules();
// Opens the agent's port, waiting up to `seconds` for the driver to probe it.
Result<int> open_agent_port(int seconds);
std::string kernel_release();
bool kernel_cmdline_has(const std::string& word);
// Panics the kernel (sysrq 'c') or stops answering, on a test's request.
[[noreturn]] void perform_fault(FaultKind kind);
// The end of /init: PID 1 must never exit, so it powers the machine off.
[[noreturn]] void power_off(const std::string& why);

// The whole /init: the steps above, then the request loop forever.
[[noreturn]] void run_as_init(const ExecuteFn& execute);

}  // namespace bpfdiff::oracle::kernel::guest
