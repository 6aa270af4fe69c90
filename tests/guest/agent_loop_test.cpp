// The agent's request loop over a socketpair, with a trivial executor: the
// host client and the agent agree, and garbage, truncated or unexpected
// frames get an Error reply without breaking the channel.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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

// A limit shorter than the silence interval: a guest that keeps saying it is
// busy is given up on at the limit, long before silence would call it hung.
TEST_F(AgentLoop, ALimitShorterThanTheSilenceIntervalEndsABusyRequestAtTheLimit) {
  AgentConfig config;
  config.heartbeat = 50ms;
  start(config, busy_verifier);
  AgentClient client(host_);
  const auto now = Clock::now();
  auto r = client.execute(two_slot_request(), now + 30s, now + 300ms);
  EXPECT_EQ(r.status, ReplyStatus::Abandoned);
  EXPECT_NE(r.error.find("past the limit"), std::string::npos) << r.error;
  // Ended by the limit, not by the 30 s silence deadline (which a correct
  // run never comes near, however loaded the machine).
  EXPECT_LT(Clock::now() - now, 15s);
  auto next = client.execute(two_slot_request(), soon());
  ASSERT_TRUE(next.ok()) << next.error;
}

// Without heartbeats the limit proves nothing (a dead kernel sends none):
// the request waits out its silence deadline and is a hang.
TEST_F(AgentLoop, ALimitShorterThanTheSilenceIntervalDoesNotCutASilentGuest) {
  AgentConfig config;
  config.heartbeat = 0ms;
  start(config, busy_verifier);
  AgentClient client(host_);
  const auto now = Clock::now();
  auto r = client.execute(two_slot_request(), now + 500ms, now + 100ms);
  EXPECT_EQ(r.status, ReplyStatus::Timeout);
  EXPECT_EQ(r.error, "no reply within the deadline");
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

KernelRequest request_with_imm(int32_t imm) {
  KernelRequest r = two_slot_request();
  r.program[0].imm = imm;
  return r;
}

// Answers with r1 = the first instruction's imm, so each answer names its request.
KernelResponse naming_executor(const KernelRequest& request) {
  KernelResponse r = echo_executor(request);
  r.regs[1] = static_cast<uint64_t>(request.program[0].imm);
  return r;
}

std::vector<KernelRequest> numbered_requests(int count) {
  std::vector<KernelRequest> out;
  for (int i = 1; i <= count; ++i)
    out.push_back(request_with_imm(i));
  return out;
}

PipelineTimes times(std::chrono::milliseconds silence) {
  PipelineTimes t;
  t.silence = silence;
  t.limit = 60s;
  return t;
}

// The host sends ahead, the agent serves in order: each answer comes with
// the index of its own request, and up to the window's worth of requests
// were on their way at once.
TEST_F(AgentLoop, PipelinedRequestsAreAnsweredInOrderWithSeveralInFlight) {
  start({}, naming_executor);
  AgentClient client(host_);
  const std::vector<KernelRequest> requests = numbered_requests(6);
  std::vector<std::pair<std::size_t, uint64_t>> answers;
  const PipelineEnd end =
      client.execute_pipelined(requests, kPipelineWindow, times(5s), [&](std::size_t i, KernelResponse&& r) {
        answers.emplace_back(i, r.regs[1]);
        return true;
      });
  EXPECT_EQ(end.status, ReplyStatus::Ok) << end.error;
  EXPECT_EQ(end.answered, 6u);
  EXPECT_EQ(end.most_in_flight, kPipelineWindow);
  ASSERT_EQ(answers.size(), 6u);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    EXPECT_EQ(answers[i].first, i);
    EXPECT_EQ(answers[i].second, i + 1);
  }
  // Window 1 is one request at a time.
  const PipelineEnd one =
      client.execute_pipelined(requests, 1, times(5s), [](std::size_t, KernelResponse&&) { return true; });
  EXPECT_EQ(one.answered, 6u);
  EXPECT_EQ(one.most_in_flight, 1u);
}

// What the kernel logged while a request ran travels with that request's
// answer, read after it and before the next one starts.
TEST_F(AgentLoop, EachAnswerCarriesTheKernelMessagesOfItsRequest) {
  AgentConfig config;
  auto count = std::make_shared<int>(0);
  config.kernel_messages = [count]() -> std::optional<std::string> {
    return "message after request " + std::to_string(++*count) + "\n";
  };
  start(config, naming_executor);
  AgentClient client(host_);
  const std::vector<KernelRequest> requests = numbered_requests(3);
  std::vector<std::string> messages;
  const PipelineEnd end =
      client.execute_pipelined(requests, kPipelineWindow, times(5s), [&](std::size_t, KernelResponse&& r) {
        EXPECT_TRUE(r.kernel_messages_read);
        messages.push_back(r.kernel_messages);
        return true;
      });
  ASSERT_EQ(end.answered, 3u) << end.error;
  EXPECT_EQ(messages, (std::vector<std::string>{"message after request 1\n", "message after request 2\n",
                                                "message after request 3\n"}));
}

// A request that never finishes, third of five, while the fourth and fifth
// are already sent: the first two are answered, the hang is the third's
// (the oldest unanswered), and the silence is counted from the second's
// answer, when the agent started on it.
TEST_F(AgentLoop, APipelinedHangIsTheOldestUnansweredRequest) {
  AgentConfig config;
  config.heartbeat = 0ms;
  start(config, [](const KernelRequest& request) {
    if (request.program[0].imm == 3) std::this_thread::sleep_for(1500ms);
    return naming_executor(request);
  });
  AgentClient client(host_);
  const std::vector<KernelRequest> requests = numbered_requests(5);
  std::vector<uint64_t> answered;
  const PipelineEnd end =
      client.execute_pipelined(requests, kPipelineWindow, times(300ms), [&](std::size_t, KernelResponse&& r) {
        answered.push_back(r.regs[1]);
        return true;
      });
  EXPECT_EQ(end.status, ReplyStatus::Timeout) << end.error;
  EXPECT_EQ(end.answered, 2u);
  EXPECT_EQ(answered, (std::vector<uint64_t>{1, 2}));
}

// The caller stops after the first answer with three more in flight; their
// late answers are dropped and the next exchange is in step.
TEST_F(AgentLoop, AStoppedPipelineLeavesTheChannelInStep) {
  start({}, naming_executor);
  AgentClient client(host_);
  const std::vector<KernelRequest> requests = numbered_requests(4);
  const PipelineEnd end = client.execute_pipelined(requests, kPipelineWindow, times(5s),
                                                   [&](std::size_t, KernelResponse&&) { return false; });
  EXPECT_EQ(end.status, ReplyStatus::Ok);
  EXPECT_EQ(end.answered, 1u);
  auto next = client.execute(request_with_imm(42), soon());
  ASSERT_TRUE(next.ok()) << next.error;
  EXPECT_EQ(next.value.regs[1], 42u);
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
