#include "oracle/kernel/guest/agent_client.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>

namespace bpfdiff::oracle::kernel::guest {

const char* reply_status_name(ReplyStatus status) {
  switch (status) {
    case ReplyStatus::Ok:
      return "ok";
    case ReplyStatus::Timeout:
      return "timeout";
    case ReplyStatus::Closed:
      return "closed";
    case ReplyStatus::ProtocolError:
      return "protocol error";
    case ReplyStatus::AgentError:
      return "agent error";
    case ReplyStatus::Abandoned:
      return "abandoned";
  }
  return "unknown";
}

namespace {

template <class T, class U>
Reply<T> failed_like(const Reply<U>& from) {
  return Reply<T>{from.status, T{}, from.error};
}

}  // namespace

Reply<Frame> AgentClient::exchange(MessageType type, std::span<const uint8_t> payload,
                                   Clock::time_point deadline, Clock::time_point limit,
                                   Clock::time_point abandon_at) {
  const uint64_t id = next_id_++;
  const auto began = Clock::now();
  if (auto sent = stream_.write(type, id, payload, deadline); !sent) {
    const bool timed_out = Clock::now() >= deadline;
    return {timed_out ? ReplyStatus::Timeout : ReplyStatus::Closed, {}, sent.error().message};
  }
  return await_reply(id, began, deadline, limit, abandon_at);
}

Reply<Frame> AgentClient::await_reply(uint64_t id, Clock::time_point began, Clock::time_point deadline,
                                      Clock::time_point limit, Clock::time_point abandon_at) {
  const auto silence = deadline - began;
  uint64_t heartbeats = 0;
  for (;;) {
    // Once the guest has said it is busy, the limit may end the wait before
    // the silence deadline does (a limit shorter than the silence interval).
    Clock::time_point wake = std::min(deadline, abandon_at);
    if (heartbeats > 0) wake = std::min(wake, limit);
    ReadOutcome in = stream_.read(wake);
    switch (in.kind) {
      case ReadOutcome::Kind::Frame:
        break;
      case ReadOutcome::Kind::Malformed:
        return {ReplyStatus::ProtocolError, {}, "malformed reply: " + in.error};
      case ReadOutcome::Kind::Closed:
        return {ReplyStatus::Closed, {}, in.error.empty() ? "the agent closed the channel" : in.error};
      case ReadOutcome::Kind::Timeout: {
        const auto now = Clock::now();
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - began).count();
        const std::string busy = std::to_string(heartbeats) + " busy heartbeats";
        // Busy past the limit, or silent for a whole interval (a hang);
        // anything else is the caller giving up on a guest that may well be
        // alive.
        if (heartbeats > 0 && now >= limit)
          return {ReplyStatus::Abandoned,
                  {},
                  "still busy after " + std::to_string(waited) + " ms (" + busy + ", past the limit)"};
        if (now < deadline)
          return {
              ReplyStatus::Abandoned, {}, "abandoned after " + std::to_string(waited) + " ms (" + busy + ")"};
        if (heartbeats == 0) return {ReplyStatus::Timeout, {}, "no reply within the deadline"};
        return {ReplyStatus::Timeout,
                {},
                "no reply after " + std::to_string(waited) + " ms (" + busy + ", then silence)"};
      }
      case ReadOutcome::Kind::Failed:
        return {ReplyStatus::Closed, {}, in.error};
    }
    // A reply to an earlier request that timed out on our side arrives late;
    // it answers nothing any more, so it is dropped.
    if (in.frame.id < id) continue;
    if (in.frame.type == MessageType::Busy && in.frame.id == id) {
      ++heartbeats;
      deadline = std::max(deadline, std::min(limit, Clock::now() + silence));
      continue;
    }
    if (in.frame.id != id)
      return {
          ReplyStatus::ProtocolError,
          {},
          "reply for request " + std::to_string(in.frame.id) + " while waiting for " + std::to_string(id)};
    if (in.frame.type == MessageType::Error) {
      auto message = decode_error(in.frame.payload);
      return {ReplyStatus::AgentError, {}, message ? *message : message.error().message};
    }
    return {ReplyStatus::Ok, std::move(in.frame), {}};
  }
}

Reply<HelloInfo> AgentClient::hello(Clock::time_point deadline) {
  auto r = exchange(MessageType::Hello, {}, deadline, deadline);
  if (!r.ok()) return failed_like<HelloInfo>(r);
  if (r.value.type != MessageType::HelloReply)
    return {ReplyStatus::ProtocolError,
            {},
            std::string("expected a hello reply, got ") + message_type_name(r.value.type)};
  auto info = decode_hello_info(r.value.payload);
  if (!info) return {ReplyStatus::ProtocolError, {}, info.error().message};
  if (info->version != kProtocolVersion)
    return {ReplyStatus::ProtocolError, {}, "agent speaks protocol version " + std::to_string(info->version)};
  return {ReplyStatus::Ok, std::move(*info), {}};
}

Reply<KernelResponse> AgentClient::execute(const KernelRequest& request, Clock::time_point deadline,
                                           Clock::time_point limit, Clock::time_point abandon_at) {
  const std::vector<uint8_t> payload = encode_request(request);
  auto r = exchange(MessageType::Request, payload, deadline, limit, abandon_at);
  if (!r.ok()) return failed_like<KernelResponse>(r);
  if (r.value.type != MessageType::Response)
    return {ReplyStatus::ProtocolError,
            {},
            std::string("expected a response, got ") + message_type_name(r.value.type)};
  auto response = decode_response(r.value.payload);
  if (!response) return {ReplyStatus::ProtocolError, {}, response.error().message};
  return {ReplyStatus::Ok, std::move(*response), {}};
}

PipelineEnd AgentClient::execute_pipelined(
    std::span<const KernelRequest> requests, std::size_t window, const PipelineTimes& times,
    const std::function<bool(std::size_t, KernelResponse&&)>& on_response) {
  window = std::max<std::size_t>(window, 1);
  struct InFlight {
    uint64_t id;
    std::size_t bytes;
  };
  std::deque<InFlight> in_flight;  // oldest first
  std::size_t sent = 0;
  std::size_t bytes_ahead = 0;  // of the requests behind the oldest unanswered one
  PipelineEnd end;
  auto fail = [&](ReplyStatus status, std::string error) {
    end.status = status;
    end.error = std::move(error);
    return end;
  };
  // A write that failed: nothing more is sent, but the answers already on
  // their way are still read (a guest that dies running request k has
  // answered k-1 first, and that answer must not be lost).
  std::optional<std::pair<ReplyStatus, std::string>> write_failed;
  // The oldest unanswered request started when the answer before it came.
  auto started = Clock::now();
  while (end.answered < requests.size()) {
    while (!write_failed && sent < requests.size() && in_flight.size() < window) {
      const std::vector<uint8_t> payload = encode_request(requests[sent]);
      if (!in_flight.empty() && bytes_ahead + payload.size() > kPipelineBytesAhead) break;
      const uint64_t id = next_id_++;
      const auto deadline = Clock::now() + times.silence;
      if (auto written = stream_.write(MessageType::Request, id, payload, deadline); !written) {
        write_failed.emplace(Clock::now() >= deadline ? ReplyStatus::Timeout : ReplyStatus::Closed,
                             written.error().message);
        break;
      }
      if (!in_flight.empty()) bytes_ahead += payload.size();
      in_flight.push_back({id, payload.size()});
      end.most_in_flight = std::max(end.most_in_flight, in_flight.size());
      ++sent;
    }
    // Nothing in flight: the request that could not be sent is the failure.
    if (in_flight.empty()) return fail(write_failed->first, write_failed->second);
    const InFlight oldest = in_flight.front();
    auto r =
        await_reply(oldest.id, started, started + times.silence, started + times.limit, times.abandon_at);
    if (!r.ok()) return fail(r.status, std::move(r.error));
    started = Clock::now();
    in_flight.pop_front();
    if (!in_flight.empty()) bytes_ahead -= in_flight.front().bytes;
    if (r.value.type != MessageType::Response)
      return fail(ReplyStatus::ProtocolError,
                  std::string("expected a response, got ") + message_type_name(r.value.type));
    auto response = decode_response(r.value.payload);
    if (!response) return fail(ReplyStatus::ProtocolError, response.error().message);
    const std::size_t index = end.answered++;
    if (!on_response(index, std::move(*response))) return end;
  }
  return end;
}

Reply<bool> AgentClient::inject_fault(FaultKind kind, Clock::time_point deadline) {
  const std::vector<uint8_t> payload = encode_fault(kind);
  auto r = exchange(MessageType::Fault, payload, deadline, deadline);
  if (!r.ok()) return failed_like<bool>(r);
  if (r.value.type != MessageType::Fault || !r.value.payload.empty())
    return {ReplyStatus::ProtocolError, false, "unexpected reply to a fault request"};
  return {ReplyStatus::Ok, true, {}};
}

}  // namespace bpfdiff::oracle::kernel::guest
