#pragma once
// The agent's request loop, independent of where it runs: agent_main.cpp
// wires it to the virtio-serial port inside the guest and to the kernel
// executor; the tests wire it to a socketpair and a trivial executor.
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "oracle/kernel/guest/protocol.hpp"
#include "oracle/kernel/kernel_request.hpp"

namespace bpfdiff::oracle::kernel::guest {

using ExecuteFn = kernel::ExecuteFn;

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
  // While a request executes, a Busy frame goes to the host this often
  // (zero: never), from a second thread: the verifier yields the CPU while
  // it works, a dead or wedged kernel does not, so the host can wait for
  // the one and give up on the other (agent_client.hpp).
  std::chrono::milliseconds heartbeat{1000};
  // Called after each request, before the next is read: the kernel's
  // messages logged meanwhile (KernelResponse::kernel_messages), or nullopt
  // when they cannot be read; unset: never asked.
  std::function<std::optional<std::string>()> kernel_messages;
};

// Serves frames on `fd` until the peer closes (or forever with
// wait_when_closed), strictly one after the other in the order they came
// (the host pipelines requests relying on it). Every host message gets
// exactly one reply with its id;
// a malformed frame gets an Error reply and the loop goes on; a Request
// may be preceded by Busy frames with its id.
// Returns the number of requests executed.
uint64_t serve(int fd, const AgentConfig& config, const ExecuteFn& execute);

}  // namespace bpfdiff::oracle::kernel::guest
