// The agent's request loop over a socketpair, with a trivial executor: the
// host client and the agent agree, and garbage, truncated or unexpected
// frames get an Error reply without breaking the channel.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "oracle/kernel/guest/agent.hpp"
#include "oracle/kernel/guest/agent_client.hpp"

namespace bpfdiff::oracle::kernel::guest {
namespace {

using namespace std::chrono_literals;

// Answers with r0 = number of slots and the memory reversed, so the test sees
// that the request arrived whole and the response came back whole.
KernelResponse echo_executor(const KernelRequest& request) {
  KernelResponse r;
  r.verdict = KernelVerdict::Accepted;
  r.regs[0] = request.program.size();
  r.regs[9] = request.flags;
  r.memory.assign(request.memory.rbegin(), request.memory.rend());
  r.kernel_release = "test-kernel";
  return r;
}

class AgentLoop : public ::testing::Test {
 protected:
  void start(AgentConfig config, ExecuteFn execute = echo_executor) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    host_ = fds[0];
    agent_fd_ = fds[1];
    config.hello.kernel_release = "test-kernel";
    agent_ = std::thread([this, config, execute] {
      served_ = serve(agent_fd_, config, execute);
      ::close(agent_fd_);
    });
  }
  void TearDown() override {
    if (host_ >= 0) ::close(host_);
    if (agent_.joinable()) agent_.join();
  }
  static Clock::time_point soon() { return Clock::now() + 5s; }

  void send_raw(const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(::write(host_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  ReadOutcome read_reply() {
    FrameStream stream(host_);
    return stream.read(soon());
  }

  int host_ = -1;
  int agent_fd_ = -1;
  std::thread agent_;
  std::atomic<uint64_t> served_{0};
};

KernelRequest two_slot_request() {
  KernelRequest r;
  r.flags = kJitDisable;
  r.program = {{0xb7, 0, 0, 0, 1}, {0x95, 0, 0, 0, 0}};
  r.memory = {1, 2, 3};
  return r;
}

TEST_F(AgentLoop, HelloReportsTheKernelRelease) {
  start({});
  AgentClient client(host_);
  auto hello = client.hello(soon());
  ASSERT_TRUE(hello.ok()) << hello.error;
  EXPECT_EQ(hello.value.kernel_release, "test-kernel");
  EXPECT_EQ(hello.value.version, kProtocolVersion);
}

TEST_F(AgentLoop, RequestsAreExecutedAndAnsweredInOrder) {
  start({});
  AgentClient client(host_);
  for (int i = 0; i < 3; ++i) {
    auto r = client.execute(two_slot_request(), soon());
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.value.regs[0], 2u);
    EXPECT_EQ(r.value.regs[9], kJitDisable);
    EXPECT_EQ(r.value.memory, (std::vector<uint8_t>{3, 2, 1}));
  }
  ::close(host_);
  host_ = -1;
  agent_.join();
  EXPECT_EQ(served_.load(), 3u);
}

TEST_F(AgentLoop, GarbageGetsAnErrorAndTheStreamResynchronises) {
  start({});
  send_raw({'n', 'o', 't', ' ', 'a', ' ', 'f', 'r', 'a', 'm', 'e'});
  ReadOutcome err = read_reply();
  ASSERT_EQ(err.kind, ReadOutcome::Kind::Frame);
  EXPECT_EQ(err.frame.type, MessageType::Error);
  AgentClient client(host_);
  auto r = client.execute(two_slot_request(), soon());
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value.regs[0], 2u);
}

TEST_F(AgentLoop, TruncatedRequestPayloadIsAnErrorNamingIt) {
  start({});
  auto payload = encode_request(two_slot_request());
  payload.resize(payload.size() - 2);  // the frame length is honest, its content is short
  send_raw(encode_frame(MessageType::Request, 7, payload));
  ReadOutcome err = read_reply();
  ASSERT_EQ(err.kind, ReadOutcome::Kind::Frame);
  EXPECT_EQ(err.frame.type, MessageType::Error);
  EXPECT_EQ(err.frame.id, 7u);
  auto message = decode_error(err.frame.payload);
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("truncated"), std::string::npos) << *message;
}

TEST_F(AgentLoop, OversizedLengthIsRefusedWithTheRequestId) {
  start({});
  auto frame = encode_frame(MessageType::Request, 42, {});
  frame[16] = frame[17] = frame[18] = frame[19] = 0xff;
  send_raw(frame);
  ReadOutcome err = read_reply();
  ASSERT_EQ(err.kind, ReadOutcome::Kind::Frame);
  EXPECT_EQ(err.frame.type, MessageType::Error);
  EXPECT_EQ(err.frame.id, 42u);
  AgentClient client(host_);
  EXPECT_TRUE(client.hello(soon()).ok());
}

TEST_F(AgentLoop, UnexpectedMessageTypeIsAnError) {
  start({});
  send_raw(encode_frame(MessageType::Response, 3, {}));
  ReadOutcome err = read_reply();
  ASSERT_EQ(err.kind, ReadOutcome::Kind::Frame);
  EXPECT_EQ(err.frame.type, MessageType::Error);
}

TEST_F(AgentLoop, FaultsAreRefusedUnlessAllowed) {
  start({});
  AgentClient client(host_);
  auto r = client.inject_fault(FaultKind::Panic, soon());
  EXPECT_EQ(r.status, ReplyStatus::AgentError);
  EXPECT_NE(r.error.find(kFaultsAllowedArg), std::string::npos) << r.error;
}

TEST_F(AgentLoop, AllowedFaultIsAcknowledgedThenPerformed) {
  std::atomic<int> performed{0};
  AgentConfig config;
  config.on_fault = [&](FaultKind kind) { performed = static_cast<int>(kind); };
  start(config);
  AgentClient client(host_);
  auto r = client.inject_fault(FaultKind::Hang, soon());
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(client.hello(soon()).ok());  // the callback ran before the next frame was read
  EXPECT_EQ(performed.load(), static_cast<int>(FaultKind::Hang));
}

TEST_F(AgentLoop, SlowExecutorTimesOutAndTheLateReplyIsDropped) {
  std::atomic<bool> first{true};
  start({}, [&](const KernelRequest& req) {
    if (first.exchange(false)) std::this_thread::sleep_for(300ms);
    return echo_executor(req);
  });
  AgentClient client(host_);
  auto slow = client.execute(two_slot_request(), Clock::now() + 50ms);
  EXPECT_EQ(slow.status, ReplyStatus::Timeout);
  auto next = client.execute(two_slot_request(), soon());
  ASSERT_TRUE(next.ok()) << next.error;
  EXPECT_EQ(next.value.regs[0], 2u);
}

// A verifier that takes longer than the silence the host allows (the 6.12
// guest's E2BIG after 1M processed instructions, 10x slower under TCG):
// the heartbeats keep the request alive; without them it is a hang.
KernelResponse busy_verifier(const KernelRequest& request) {
  std::this_thread::sleep_for(1500ms);
  return echo_executor(request);
}

TEST_F(AgentLoop, HeartbeatsTellABusyVerifierFromADeadGuest) {
  AgentConfig config;
  config.heartbeat = 50ms;
  start(config, busy_verifier);
  AgentClient client(host_);
  const auto now = Clock::now();
  auto r = client.execute(two_slot_request(), now + 500ms, now + 60s);
  ASSERT_TRUE(r.ok()) << reply_status_name(r.status) << ": " << r.error;
  EXPECT_EQ(r.value.regs[0], 2u);
}

// One heartbeat thread serves the connection: each busy request in turn is
// kept alive by Busy frames with its own id (the host drops older ids, so a
// heartbeat still naming the first request would let the second time out).
TEST_F(AgentLoop, HeartbeatsFollowEachRequestOnTheConnection) {
  AgentConfig config;
  config.heartbeat = 50ms;
  start(config, busy_verifier);
  AgentClient client(host_);
  for (int i = 0; i < 2; ++i) {
    const auto now = Clock::now();
    auto r = client.execute(two_slot_request(), now + 500ms, now + 60s);
    ASSERT_TRUE(r.ok()) << "request " << i << ": " << reply_status_name(r.status) << ": " << r.error;
  }
}

TEST_F(AgentLoop, WithoutHeartbeatsTheSameRequestIsAHang) {
  AgentConfig config;
  config.heartbeat = 0ms;  // what a dead kernel sends
  start(config, busy_verifier);
  AgentClient client(host_);
  const auto now = Clock::now();
  auto r = client.execute(two_slot_request(), now + 500ms, now + 60s);
  EXPECT_EQ(r.status, ReplyStatus::Timeout);
  EXPECT_EQ(r.error, "no reply within the deadline");
}

// Busy past the limit is given up on, but as abandoned (not judged), never
// as a hang: the guest kept saying it was working.
TEST_F(AgentLoop, ABusyRequestStillEndsAtTheLimitAsAbandoned) {
  AgentConfig config;
  config.heartbeat = 50ms;
  start(config, busy_verifier);
  AgentClient client(host_);
  const auto now = Clock::now();
  auto r = client.execute(two_slot_request(), now + 300ms, now + 600ms);
  EXPECT_EQ(r.status, ReplyStatus::Abandoned);
  EXPECT_NE(r.error.find("past the limit"), std::string::npos) << r.error;
  // The channel stays in step: the late reply and heartbeats are dropped.
  auto next = client.execute(two_slot_request(), soon());
  ASSERT_TRUE(next.ok()) << next.error;
}

// The caller's abandon time ends the wait before the guest fell silent for a
// whole interval: abandoned, not a timeout.
TEST_F(AgentLoop, AbandonTimeEndsTheWaitAsAbandoned) {
  AgentConfig config;
  config.heartbeat = 0ms;
  start(config, busy_verifier);
  AgentClient client(host_);
  const auto now = Clock::now();
  auto r = client.execute(two_slot_request(), now + 60s, now + 60s, now + 100ms);
  EXPECT_EQ(r.status, ReplyStatus::Abandoned) << r.error;
}

TEST_F(AgentLoop, ClientSeesClosedWhenTheAgentIsGone) {
  start({});
  ::shutdown(agent_fd_, SHUT_RDWR);
  AgentClient client(host_);
  auto r = client.hello(soon());
  EXPECT_EQ(r.status, ReplyStatus::Closed);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
