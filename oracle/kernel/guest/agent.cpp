#include "oracle/kernel/guest/agent.hpp"

#include <thread>

#include "oracle/kernel/guest/frame_stream.hpp"

namespace bpfdiff::oracle::kernel::guest {
namespace {

// The agent has nobody to report a failed write to but the host, which will
// see a timeout; so write errors are dropped here on purpose.
void reply(FrameStream& stream, MessageType type, uint64_t id, const std::vector<uint8_t>& payload) {
  (void)stream.write(type, id, payload);
}

void reply_error(FrameStream& stream, uint64_t id, const std::string& message) {
  reply(stream, MessageType::Error, id, encode_error(message));
}

}  // namespace

uint64_t serve(int fd, const AgentConfig& config, const ExecuteFn& execute) {
  FrameStream stream(fd);
  uint64_t executed = 0;
  for (;;) {
    ReadOutcome in = stream.read();
    switch (in.kind) {
      case ReadOutcome::Kind::Frame: break;
      case ReadOutcome::Kind::Malformed:
        reply_error(stream, in.frame.id, in.error);
        continue;
      case ReadOutcome::Kind::Closed:
      case ReadOutcome::Kind::Failed:
      case ReadOutcome::Kind::Timeout:
        if (!config.wait_when_closed) return executed;
        // Poll for the host to (re)connect; 10 ms keeps the first reply after
        // a restore fast without spinning the guest's only vCPU.
        stream.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
    }
    const Frame& f = in.frame;
    switch (f.type) {
      case MessageType::Hello:
        if (!f.payload.empty()) {
          reply_error(stream, f.id, "malformed hello: payload must be empty");
          break;
        }
        reply(stream, MessageType::HelloReply, f.id, encode_hello_info(config.hello));
        break;
      case MessageType::Request: {
        auto request = decode_request(f.payload);
        if (!request) {
          reply_error(stream, f.id, request.error().message);
          break;
        }
        const KernelResponse response = execute(*request);
        ++executed;
        reply(stream, MessageType::Response, f.id, encode_response(response));
        break;
      }
      case MessageType::Fault: {
        auto kind = decode_fault(f.payload);
        if (!kind) {
          reply_error(stream, f.id, kind.error().message);
          break;
        }
        if (!config.on_fault) {
          reply_error(stream, f.id, std::string("fault injection refused: the kernel command line lacks ") +
                                        kFaultsAllowedArg);
          break;
        }
        // Acknowledge first: the host then knows the fault was requested, not
        // that the guest broke on its own.
        reply(stream, MessageType::Fault, f.id, {});
        config.on_fault(*kind);
        break;
      }
      case MessageType::HelloReply:
      case MessageType::Response:
      case MessageType::Error:
        reply_error(stream, f.id, std::string("unexpected ") + message_type_name(f.type) + " message from the host");
        break;
    }
  }
}

}  // namespace bpfdiff::oracle::kernel::guest
