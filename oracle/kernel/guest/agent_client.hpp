#pragma once
// The host's end of the protocol: requests over a connected stream, one at
// a time or pipelined (several sent ahead, answered in order), each with a
// deadline. Failures are classified because the pool
// reacts differently to each: a timeout means the guest hangs, a closed
// stream that it died, a protocol error that the agent is confused.
#include <cstddef>
#include <functional>
#include <span>
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

// How a pipelined run of several requests waits for each: a request's
// clock starts when the answer before it arrives (the agent starts on it
// then), with the same silence and limit as a single request's.
struct PipelineTimes {
  std::chrono::milliseconds silence{20'000};  // longest silence allowed (busy heartbeats extend it)
  std::chrono::milliseconds limit{600'000};   // longest a request may keep the guest busy
  Clock::time_point abandon_at = Clock::time_point::max();
};

// How a pipelined run ended: every request answered (Ok), the caller
// stopped it (Ok, `answered` short of the count), or the request at index
// `answered` got no answer for `status` -- it is the one the guest was
// running, since the agent serves in order; those after it never ran.
struct PipelineEnd {
  std::size_t answered = 0;
  ReplyStatus status = ReplyStatus::Ok;
  std::string error;
  std::size_t most_in_flight = 0;  // requests sent and not yet answered, at most
};

// Requests sent ahead of the oldest unanswered one, at most: enough that
// the agent finds the next request waiting whenever it finishes one, few
// enough that the requests and answers in flight stay far inside the
// socket and virtio buffers (so neither side can block the other).
inline constexpr std::size_t kPipelineWindow = 4;
inline constexpr std::size_t kPipelineBytesAhead = 64u << 10;

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
  // `limit` (heartbeats came; the limit may come before `deadline`, so a
  // campaign can give up on slow verifier walks sooner than it calls a
  // silent guest hung), or unanswered at `abandon_at` before the guest fell
  // silent for a whole interval, is Abandoned rather than timed out.
  Reply<KernelResponse> execute(const KernelRequest& request, Clock::time_point deadline,
                                Clock::time_point limit,
                                Clock::time_point abandon_at = Clock::time_point::max());
  Reply<KernelResponse> execute(const KernelRequest& request, Clock::time_point deadline) {
    return execute(request, deadline, deadline);
  }
  // Runs `requests` in order, keeping up to `window` of them in flight (1:
  // one at a time), and hands each response to `on_response(index,
  // response)` as it arrives; `on_response` returning false stops the run
  // (answers still in flight are then dropped by the next exchange).
  PipelineEnd execute_pipelined(std::span<const KernelRequest> requests, std::size_t window,
                                const PipelineTimes& times,
                                const std::function<bool(std::size_t, KernelResponse&&)>& on_response);
  // Test only: asks the agent to panic or hang its guest. Ok means the agent
  // acknowledged the fault before performing it.
  Reply<bool> inject_fault(FaultKind kind, Clock::time_point deadline);

 private:
  // Sends one frame and waits for the frame answering it (Busy frames
  // extend the deadline up to `limit`, see execute()).
  Reply<Frame> exchange(MessageType type, std::span<const uint8_t> payload, Clock::time_point deadline,
                        Clock::time_point limit, Clock::time_point abandon_at = Clock::time_point::max());

  // Waits for the frame answering request `id`, sent at `began` (see execute()).
  Reply<Frame> await_reply(uint64_t id, Clock::time_point began, Clock::time_point deadline,
                           Clock::time_point limit, Clock::time_point abandon_at);

  FrameStream stream_;
  uint64_t next_id_ = 1;
};

}  // namespace bpfdiff::oracle::kernel::guest
