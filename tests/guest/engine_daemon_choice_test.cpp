// Which pool the kernel-qemu engines use: a pool daemon of the configured
// image when it answers (here a fake daemon in this process, over a real unix
// socket), else their own pool, which needs the image (absent in the temporary
// directory, so the fallback shows as "unavailable"). Each test runs in its
// own process (gtest_discover_tests), since the engines' configuration is
// process-wide.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "oracle/engine.hpp"
#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel/guest/pool_daemon.hpp"

namespace bpfdiff {
namespace {

namespace guest = oracle::kernel::guest;
using namespace std::chrono_literals;

oracle::kernel::KernelResponse fake_pool(const oracle::kernel::KernelRequest& request) {
  oracle::kernel::KernelResponse r;
  r.verdict = oracle::kernel::KernelVerdict::Accepted;
  r.regs[0] = request.program.size() + 100;
  r.memory = request.memory;
  r.kernel_release = "fake-daemon";
  return r;
}

class EngineDaemonChoice : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "bpfdiff-choice-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    image_dir_ = pattern;
    run_dir_ = guest::daemon_run_dir(image_dir_);
    std::filesystem::create_directories(run_dir_);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (loop_.joinable()) loop_.join();
    server_.reset();
    std::filesystem::remove_all(image_dir_);
  }
  void configure(bool use_daemon) {
    guest::GuestServiceOptions o = guest::shared_guest_service_options();
    o.image_dir = image_dir_;
    o.use_daemon = use_daemon;
    ASSERT_TRUE(guest::configure_shared_guest_service(o));
  }
  void start_fake_daemon() {
    auto server = guest::PoolDaemonServer::listen(guest::daemon_socket_path(run_dir_));
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    guest::DaemonInfo info;
    info.pid = ::getpid();
    info.socket = guest::daemon_socket_path(run_dir_);
    info.guests = 1;
    ASSERT_TRUE(guest::write_daemon_info(run_dir_, info));
    config_.hello.kernel_release = "fake-daemon";
    loop_ = std::thread([this] { server_->run(config_, fake_pool); });
  }
  static vm::Program two_slots() {
    vm::Program p;
    p.slots = {{0xb7, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}};
    return p;
  }

  std::string image_dir_;
  std::string run_dir_;
  std::unique_ptr<guest::PoolDaemonServer> server_;
  guest::AgentConfig config_;
  std::thread loop_;
};

TEST_F(EngineDaemonChoice, RunningDaemonServesBothEngines) {
  start_fake_daemon();
  configure(true);
  for (const char* name : {"kernel-qemu", "kernel-qemu-interp"}) {
    auto engine = oracle::make_engine(name);
    ASSERT_TRUE(engine) << engine.error().message;
    oracle::EngineInput input;
    input.memory = {1, 2, 3, 4};
    const oracle::Outcome out = (*engine)->run(two_slots(), input);
    ASSERT_TRUE(out.ok()) << out.load_error;
    EXPECT_EQ(out.regs[0], 102u) << name;
  }
}

TEST_F(EngineDaemonChoice, NoDaemonMeansOwnPool) {
  configure(true);
  auto engine = oracle::make_engine("kernel-qemu");
  ASSERT_FALSE(engine);
  // The process tried its own pool: the image is what is missing.
  EXPECT_NE(engine.error().message.find("kernel-qemu unavailable"), std::string::npos)
      << engine.error().message;
}

TEST_F(EngineDaemonChoice, DaemonIgnoredWhenDisabled) {
  start_fake_daemon();
  configure(false);
  EXPECT_FALSE(oracle::make_engine("kernel-qemu"));
}

TEST_F(EngineDaemonChoice, StaleRecordFallsBackToOwnPool) {
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  guest::DaemonInfo info;
  info.pid = dead;
  info.socket = guest::daemon_socket_path(run_dir_);
  ASSERT_TRUE(guest::write_daemon_info(run_dir_, info));
  configure(true);
  ::testing::internal::CaptureStderr();
  auto engine = oracle::make_engine("kernel-qemu");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(engine);
  EXPECT_NE(err.find("not usable"), std::string::npos) << err;
}

}  // namespace
}  // namespace bpfdiff
