#include "oracle/kernel/guest/agent.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "oracle/kernel/guest/frame_stream.hpp"

namespace bpfdiff::oracle::kernel::guest {
namespace {

// The stream of one connection; the request loop and the heartbeat thread
// both write to it, one whole frame at a time.
struct Channel {
  explicit Channel(int fd) : stream(fd) {}
  FrameStream stream;
  std::mutex write_mutex;
};

// The agent has nobody to report a failed write to but the host, which will
// see a timeout; so write errors are dropped here on purpose.
void reply(Channel& channel, MessageType type, uint64_t id, const std::vector<uint8_t>& payload) {
  std::lock_guard lock(channel.write_mutex);
  (void)channel.stream.write(type, id, payload);
}

// Sends Busy frames for request `id` every `every` until destroyed.
class Heartbeat {
 public:
  Heartbeat(Channel& channel, uint64_t id, std::chrono::milliseconds every) {
    if (every.count() <= 0) return;
    thread_ = std::thread([this, &channel, id, every] {
      std::unique_lock lock(mutex_);
      while (!done_cv_.wait_for(lock, every, [this] { return done_; })) {
        reply(channel, MessageType::Busy, id, {});
      }
    });
  }
  ~Heartbeat() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

void reply_error(Channel& channel, uint64_t id, const std::string& message) {
  reply(channel, MessageType::Error, id, encode_error(message));
}

}  // namespace

uint64_t serve(int fd, const AgentConfig& config, const ExecuteFn& execute) {
  Channel channel(fd);
  uint64_t executed = 0;
  for (;;) {
    ReadOutcome in = channel.stream.read();
    switch (in.kind) {
      case ReadOutcome::Kind::Frame:
        break;
      case ReadOutcome::Kind::Malformed:
        reply_error(channel, in.frame.id, in.error);
        continue;
      case ReadOutcome::Kind::Closed:
      case ReadOutcome::Kind::Failed:
      case ReadOutcome::Kind::Timeout:
        if (!config.wait_when_closed) return executed;
        // Poll for the host to (re)connect; 10 ms keeps the first reply after
        // a restore fast without spinning the guest's only vCPU.
        channel.stream.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
    }
    const Frame& f = in.frame;
    switch (f.type) {
      case MessageType::Hello:
        if (!f.payload.empty()) {
          reply_error(channel, f.id, "malformed hello: payload must be empty");
          break;
        }
        reply(channel, MessageType::HelloReply, f.id, encode_hello_info(config.hello));
        break;
      case MessageType::Request: {
        auto request = decode_request(f.payload);
        if (!request) {
          reply_error(channel, f.id, request.error().message);
          break;
        }
        KernelResponse response;
        {
          const Heartbeat busy(channel, f.id, config.heartbeat);
          response = execute(*request);
        }
        ++executed;
        reply(channel, MessageType::Response, f.id, encode_response(response));
        break;
      }
      case MessageType::Fault: {
        auto kind = decode_fault(f.payload);
        if (!kind) {
          reply_error(channel, f.id, kind.error().message);
          break;
        }
        if (!config.on_fault) {
          reply_error(
              channel, f.id,
              std::string("fault injection refused: the kernel command line lacks ") + kFaultsAllowedArg);
          break;
        }
        // Acknowledge first: the host then knows the fault was requested, not
        // that the guest broke on its own.
        reply(channel, MessageType::Fault, f.id, {});
        config.on_fault(*kind);
        break;
      }
      case MessageType::HelloReply:
      case MessageType::Response:
      case MessageType::Error:
      case MessageType::Busy:
        reply_error(channel, f.id,
                    std::string("unexpected ") + message_type_name(f.type) + " message from the host");
        break;
    }
  }
}

}  // namespace bpfdiff::oracle::kernel::guest
