// The guest pool daemon without QEMU: its accept loop over a real unix socket
// in a temporary directory with a fake executor standing in for the pool,
// the run-directory record, stopping (a live daemon and a dead one's stale
// files), and a client whose daemon dies mid-run.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <gtest/gtest.h>

#include "oracle/kernel/guest/pool_daemon.hpp"

namespace bpfdiff::oracle::kernel::guest {
namespace {

using namespace std::chrono_literals;

// r0 = slots + 100 and a release naming the fake, so a test sees that the
// answer came through the daemon.
KernelResponse fake_pool(const KernelRequest& request) {
  KernelResponse r;
  r.verdict = KernelVerdict::Accepted;
  r.regs[0] = request.program.size() + 100;
  r.kernel_release = "fake-daemon";
  return r;
}

KernelRequest two_slot_request() {
  KernelRequest r;
  r.program = {{0xb7, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}};
  return r;
}

class PoolDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "bpfdiff-daemon-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    run_dir_ = daemon_run_dir(dir_);
    std::filesystem::create_directories(run_dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  DaemonInfo info_for(pid_t pid) const {
    DaemonInfo info;
    info.pid = pid;
    info.socket = daemon_socket_path(run_dir_);
    info.guests = 2;
    info.kernel_release = "fake-daemon";
    info.accel = "tcg";
    info.started_unix = 1000;
    return info;
  }

  // A daemon in a child process (what `guest start` leaves behind), serving
  // until SIGTERM. Returns once its record is written.
  pid_t fork_daemon() {
    const pid_t child = ::fork();
    if (child == 0) {
      block_termination_signals();
      auto server = PoolDaemonServer::listen(daemon_socket_path(run_dir_));
      if (!server || !write_daemon_info(run_dir_, info_for(::getpid()))) ::_exit(2);
      AgentConfig config;
      config.hello.kernel_release = "fake-daemon";
      run_until_terminated(**server, config, fake_pool);
      ::_exit(0);
    }
    while (probe_daemon(run_dir_, 1s).state != DaemonProbe::State::Running)
      std::this_thread::sleep_for(10ms);
    return child;
  }

  std::string dir_;
  std::string run_dir_;
};

TEST_F(PoolDaemon, RecordRoundTripsAndRejectsGarbage) {
  ASSERT_TRUE(write_daemon_info(run_dir_, info_for(1234)));
  auto back = read_daemon_info(run_dir_);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->pid, 1234);
  EXPECT_EQ(back->socket, daemon_socket_path(run_dir_));
  EXPECT_EQ(back->guests, 2u);
  EXPECT_EQ(back->kernel_release, "fake-daemon");
  EXPECT_FALSE(std::filesystem::exists(daemon_info_path(run_dir_) + ".tmp." + std::to_string(::getpid())));

  std::ofstream(daemon_info_path(run_dir_)) << "{\"pid\": \"x\"";
  EXPECT_FALSE(read_daemon_info(run_dir_));
  const DaemonProbe probe = probe_daemon(run_dir_, 1s);
  EXPECT_EQ(probe.state, DaemonProbe::State::Stale);
  EXPECT_NE(probe.why.find("pool.json"), std::string::npos) << probe.why;
}

TEST_F(PoolDaemon, ServesTwoClientsThenStops) {
  auto server = PoolDaemonServer::listen(daemon_socket_path(run_dir_));
  ASSERT_TRUE(server) << server.error().message;
  ASSERT_TRUE(write_daemon_info(run_dir_, info_for(::getpid())));
  AgentConfig config;
  config.hello.kernel_release = "fake-daemon";
  uint64_t connections = 0;
  std::thread loop([&] { connections = (*server)->run(config, fake_pool); });

  const DaemonProbe probe = probe_daemon(run_dir_, 5s);
  ASSERT_EQ(probe.state, DaemonProbe::State::Running) << probe.why;
  EXPECT_EQ(probe.hello.kernel_release, "fake-daemon");

  auto a = DaemonClient::connect(daemon_socket_path(run_dir_), 5s);
  auto b = DaemonClient::connect(daemon_socket_path(run_dir_), 5s);
  ASSERT_TRUE(a && b);
  // Both connections are open at once, each on its own serving thread.
  for (int i = 0; i < 3; ++i) {
    const KernelResponse ra = (*a)->execute(two_slot_request());
    const KernelResponse rb = (*b)->execute(two_slot_request());
    EXPECT_EQ(ra.verdict, KernelVerdict::Accepted) << ra.log;
    EXPECT_EQ(ra.regs[0], 102u);
    EXPECT_EQ(rb.kernel_release, "fake-daemon");
  }
  (*server)->stop();
  loop.join();
  EXPECT_EQ(connections, 3u);  // the probe's and the two clients'
  // After stop the clients' streams are closed: an answer, never a hang.
  const KernelResponse after = (*a)->execute(two_slot_request());
  EXPECT_EQ(after.verdict, KernelVerdict::Failed);
  server->reset();
  EXPECT_FALSE(std::filesystem::exists(daemon_socket_path(run_dir_)));
}

TEST_F(PoolDaemon, StaleRecordOfADeadDaemonIsCleanedUp) {
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  ASSERT_TRUE(write_daemon_info(run_dir_, info_for(dead)));
  std::ofstream(daemon_socket_path(run_dir_)) << "";  // a leftover socket file
  const DaemonProbe probe = probe_daemon(run_dir_, 1s);
  EXPECT_EQ(probe.state, DaemonProbe::State::Stale);
  auto stopped = stop_daemon(run_dir_, 5s);
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_NE(stopped->find("stale"), std::string::npos) << *stopped;
  EXPECT_FALSE(std::filesystem::exists(daemon_info_path(run_dir_)));
  EXPECT_FALSE(std::filesystem::exists(daemon_socket_path(run_dir_)));
  EXPECT_EQ(probe_daemon(run_dir_, 1s).state, DaemonProbe::State::Absent);
  auto again = stop_daemon(run_dir_, 5s);
  ASSERT_TRUE(again);
  EXPECT_NE(again->find("no guest pool daemon"), std::string::npos) << *again;
}

// A daemon killed outright leaves its QEMU children running in its process
// group; cleaning up its stale record kills them. A sleep named like QEMU
// stands in for the guest.
TEST_F(PoolDaemon, StaleCleanupKillsTheDeadDaemonsGuests) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t daemon = ::fork();
  if (daemon == 0) {
    ::setsid();
    const pid_t guest = ::fork();
    if (guest == 0) {
      char name[] = "qemu-system-fake";
      char seconds[] = "60";
      char* argv[] = {name, seconds, nullptr};
      ::execv("/bin/sleep", argv);
      ::_exit(127);
    }
    (void)!::write(pipe_fds[1], &guest, sizeof guest);
    ::_exit(0);  // dies without stopping its guest
  }
  pid_t guest = 0;
  ASSERT_EQ(::read(pipe_fds[0], &guest, sizeof guest), static_cast<ssize_t>(sizeof guest));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_EQ(::waitpid(daemon, nullptr, 0), daemon);
  // The exec has happened once the name shows in its command line.
  for (int i = 0; i < 500; ++i) {
    std::ifstream in("/proc/" + std::to_string(guest) + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find("qemu-system-fake") != std::string::npos) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(process_alive(guest));
  ASSERT_TRUE(write_daemon_info(run_dir_, info_for(daemon)));
  auto stopped = stop_daemon(run_dir_, 5s);
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_NE(stopped->find("killed 1 QEMU process"), std::string::npos) << *stopped;
  // Reaped by init (or a subreaper) once killed.
  for (int i = 0; i < 500 && process_alive(guest); ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(process_alive(guest));
}

TEST_F(PoolDaemon, StopTerminatesARunningDaemonAndRemovesItsFiles) {
  const pid_t child = fork_daemon();
  auto client = DaemonClient::connect(daemon_socket_path(run_dir_), 5s);
  ASSERT_TRUE(client);
  EXPECT_EQ((*client)->execute(two_slot_request()).regs[0], 102u);
  auto stopped = stop_daemon(run_dir_, 30s);
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_NE(stopped->find("stopped guest pool daemon " + std::to_string(child)), std::string::npos)
      << *stopped;
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(std::filesystem::exists(daemon_info_path(run_dir_)));
  EXPECT_EQ(probe_daemon(run_dir_, 1s).state, DaemonProbe::State::Absent);
}

TEST_F(PoolDaemon, DaemonDyingMidRunIsAClearFailure) {
  const pid_t child = fork_daemon();
  auto client = DaemonClient::connect(daemon_socket_path(run_dir_), 5s);
  ASSERT_TRUE(client);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const KernelResponse r = (*client)->execute(two_slot_request());
  EXPECT_EQ(r.verdict, KernelVerdict::Failed);
  EXPECT_NE(r.log.find("guest pool daemon"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("closed"), std::string::npos) << r.log;
  EXPECT_EQ(probe_daemon(run_dir_, 1s).state, DaemonProbe::State::Stale);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
