#include "oracle/kernel/guest/agent.hpp"

#include <chrono>
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

// Sends a Busy frame for the request in progress every `every` while it
// runs. One thread serves the whole connection: a request only marks its
// start and end under a mutex nobody else holds then, so nothing is created
// or woken per request. (Under TCG a thread per request -- clone, a fresh
// stack mapping, the switches to and from it, the join -- cost about as much
// guest time as loading a small program.) The first Busy of a request goes
// out between one and two intervals after it began, far inside the silence
// the host allows (agent_client.hpp).
class Heartbeat {
 public:
  Heartbeat(Channel& channel, std::chrono::milliseconds every) : channel_(channel), every_(every) {
    if (every_.count() <= 0) return;
    thread_ = std::thread([this] { beat(); });
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

  void begin(uint64_t id) {
    std::lock_guard lock(mutex_);
    busy_ = true;
    id_ = id;
    since_ = std::chrono::steady_clock::now();
  }
  // Before the reply is written: a Busy frame after its reply would be
  // dropped by the host as answering nothing, but is better not sent.
  void end() {
    std::lock_guard lock(mutex_);
    busy_ = false;
  }

 private:
  void beat() {
    std::unique_lock lock(mutex_);
    while (!done_cv_.wait_for(lock, every_, [this] { return done_; })) {
      if (busy_ && std::chrono::steady_clock::now() - since_ >= every_)
        reply(channel_, MessageType::Busy, id_, {});
    }
  }

  Channel& channel_;
  const std::chrono::milliseconds every_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  bool busy_ = false;
  uint64_t id_ = 0;
  std::chrono::steady_clock::time_point since_;
  std::thread thread_;
};

void reply_error(Channel& channel, uint64_t id, const std::string& message) {
  reply(channel, MessageType::Error, id, encode_error(message));
}

}  // namespace

uint64_t serve(int fd, const AgentConfig& config, const ExecuteFn& execute) {
  Channel channel(fd);
  Heartbeat busy(channel, config.heartbeat);
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
        busy.begin(f.id);
        KernelResponse response = execute(*request);
        if (config.kernel_messages) {
          if (std::optional<std::string> messages = config.kernel_messages()) {
            response.kernel_messages_read = true;
            response.kernel_messages = std::move(*messages);
          }
        }
        busy.end();
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
