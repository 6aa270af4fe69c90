#pragma once
// The agent's request loop, independent of where it runs: agent_main.cpp
// wires it to the virtio-serial port inside the guest and to the kernel
// executor; the tests wire it to a socketpair and a trivial executor.
#include <functional>

#include "oracle/kernel/guest/protocol.hpp"
#include "oracle/kernel/kernel_request.hpp"

namespace bpfdiff::oracle::kernel::guest {

using ExecuteFn = std::function<KernelResponse(const KernelRequest&)>;

struct AgentConfig {
  HelloInfo hello;
  // Inside the guest the port reads as closed while no host is connected
  // (before the first connection, and after a snapshot restore until the new
  // QEMU's socket is connected), so the agent waits and retries. On a socket
  // end of stream is final.
  bool wait_when_closed = false;
  // Test faults (FaultKind) are honoured only when this is set; otherwise a
  // Fault message gets an Error reply. The callback performs the fault.
  std::function<void(FaultKind)> on_fault;
};

// Serves frames on `fd` until the peer closes (or forever with
// wait_when_closed). Every host message gets exactly one reply with its id;
// a malformed frame gets an Error reply and the loop goes on.
// Returns the number of requests executed.
uint64_t serve(int fd, const AgentConfig& config, const ExecuteFn& execute);

}  // namespace bpfdiff::oracle::kernel::guest
