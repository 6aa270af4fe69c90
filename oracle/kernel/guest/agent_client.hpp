#pragma once
// The host's end of the protocol: one request at a time over a connected
// stream, each with a deadline. Failures are classified because the pool
// reacts differently to each: a timeout means the guest hangs, a closed
// stream that it died, a protocol error that the agent is confused.
#include <string>

#include "oracle/kernel/guest/frame_stream.hpp"
#include "oracle/kernel/guest/protocol.hpp"

namespace bpfdiff::oracle::kernel::guest {

enum class ReplyStatus {
  Ok,
  Timeout,        // no reply before the deadline
  Closed,         // the stream ended or broke: the guest (or its VMM) is gone
  ProtocolError,  // a reply that is not the one expected, or malformed
  AgentError,     // the agent answered with an Error message
  // Given up on while the guest was not shown dead: it kept sending busy
  // heartbeats past the request's limit (a verifier walking to its
  // complexity limit under TCG), or the caller's abandon time came first
  // (a campaign's end). The request is not judged; it is no hang.
  Abandoned,
};
const char* reply_status_name(ReplyStatus status);

template <class T>
struct Reply {
  ReplyStatus status = ReplyStatus::ProtocolError;
  T value{};
  std::string error;
  bool ok() const { return status == ReplyStatus::Ok; }
};

class AgentClient {
 public:
  // Does not own `fd`.
  explicit AgentClient(int fd) : stream_(fd) {}

  Reply<HelloInfo> hello(Clock::time_point deadline);
  // Waits until `deadline` for the response; each Busy heartbeat of the
  // agent for this request moves the deadline to as far from then as the
  // first one was from the call, never past `limit`. So a verifier that
  // takes minutes is waited for while its guest answers, and a dead guest
  // is given up on after one silent interval. A request still busy at
  // `limit`, or unanswered at `abandon_at` before the guest fell silent for
  // a whole interval, is Abandoned rather than timed out.
  Reply<KernelResponse> execute(const KernelRequest& request, Clock::time_point deadline,
                                Clock::time_point limit,
                                Clock::time_point abandon_at = Clock::time_point::max());
  Reply<KernelResponse> execute(const KernelRequest& request, Clock::time_point deadline) {
    return execute(request, deadline, deadline);
  }
  // Test only: asks the agent to panic or hang its guest. Ok means the agent
  // acknowledged the fault before performing it.
  Reply<bool> inject_fault(FaultKind kind, Clock::time_point deadline);

 private:
  // Sends one frame and waits for the frame answering it (Busy frames
  // extend the deadline up to `limit`, see execute()).
  Reply<Frame> exchange(MessageType type, std::span<const uint8_t> payload, Clock::time_point deadline,
                        Clock::time_point limit, Clock::time_point abandon_at = Clock::time_point::max());

  FrameStream stream_;
  uint64_t next_id_ = 1;
};

}  // namespace bpfdiff::oracle::kernel::guest
