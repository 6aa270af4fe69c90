#include "oracle/kernel/guest/daemon_control.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace bpfdiff::oracle::kernel::guest {
namespace {

using Ms = std::chrono::duration<double, std::milli>;

std::string tail_of(const std::string& path, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return content.size() > bytes ? content.substr(content.size() - bytes) : content;
}

// Programs per second through the pool: a short ALU program with memory, so
// each request is a load, a run and the state coming back.
double throughput(GuestPool& pool, uint64_t requests, uint32_t flags,
                  std::optional<KernelResponse>& unexpected) {
  KernelRequest r;
  r.flags = flags;
  r.program = {
      {0xb7, 0, 0, 0, 7}, {0x07, 0, 0, 0, 35}, {0x61, 3, 1, 0, 0}, {0x0f, 0, 3, 0, 0}, {0x95, 0, 0, 0, 0}};
  r.memory = {1, 0, 0, 0, 0, 0, 0, 0};
  const auto began = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < requests; ++i) {
    const KernelResponse resp = pool.execute(r);
    if (resp.verdict != KernelVerdict::Accepted || resp.regs[0] != 43) {
      unexpected = resp;
      return 0;
    }
  }
  return static_cast<double>(requests) /
         std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
}

}  // namespace

Result<void> claim_daemon_run_dir(const std::string& run_dir) {
  if (probe_daemon(run_dir, std::chrono::milliseconds(2000)).state == DaemonProbe::State::Running)
    return make_error("a guest pool daemon already serves " + run_dir);
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  return {};
}

Result<ServedPool> serve_pool_daemon(GuestService& service, const std::string& run_dir,
                                     const std::function<void(const DaemonInfo&)>& on_serving) {
  GuestPool& pool = service.pool();
  auto server = PoolDaemonServer::listen(daemon_socket_path(run_dir));
  if (!server) return server.error();
  DaemonInfo info;
  info.pid = ::getpid();
  info.socket = daemon_socket_path(run_dir);
  info.guests = pool.live_guests();
  info.kernel_release = pool.kernel_release();
  info.accel = service.accel_used();
  info.started_unix = static_cast<int64_t>(std::time(nullptr));
  info.boot_ms = pool.stats().last_boot_ms;
  if (auto written = write_daemon_info(run_dir, info); !written) return written.error();
  if (on_serving) on_serving(info);
  AgentConfig config;
  config.hello.kernel_release = pool.kernel_release();
  config.hello.agent_notes = pool.stats().agent_notes;
  ServedPool served;
  served.connections = run_until_terminated(
      **server, config, [&pool](const KernelRequest& request) { return pool.execute(request); });
  server->reset();
  // Only our own record: a second daemon may have replaced it meanwhile.
  if (auto recorded = read_daemon_info(run_dir); recorded && recorded->pid == ::getpid())
    remove_daemon_files(run_dir);
  served.stats = pool.stats();
  return served;
}

Result<DaemonProbe> spawn_pool_daemon(const std::vector<std::string>& args, const std::string& run_dir,
                                      std::chrono::milliseconds limit) {
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  if (ec) return make_error("cannot create " + run_dir + ": " + ec.message());
  const std::string log = daemon_log_path(run_dir);
  std::vector<std::string> argv_strings = args;
  const auto began = std::chrono::steady_clock::now();
  const pid_t child = ::fork();
  if (child < 0) return make_error("fork failed");
  if (child == 0) {
    ::setsid();
    const int null_fd = ::open("/dev/null", O_RDONLY);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : argv_strings)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  const auto deadline = began + limit;
  for (;;) {
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child)
      return make_error("the daemon exited before serving; the end of " + log + ":\n" + tail_of(log, 2000));
    DaemonProbe probe = probe_daemon(run_dir, std::chrono::milliseconds(2000));
    if (probe.state == DaemonProbe::State::Running && probe.info.pid == child) return probe;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(child, SIGTERM);
      return make_error("the daemon did not answer within " +
                        std::to_string(std::chrono::duration_cast<std::chrono::minutes>(limit).count()) +
                        " minutes; the end of " + log + ":\n" + tail_of(log, 2000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

PoolMeasurement measure_pool(GuestPool& pool, uint64_t requests) {
  PoolMeasurement m;
  m.jit_programs_per_s = throughput(pool, requests, 0, m.unexpected);
  m.interp_programs_per_s = throughput(pool, requests, kJitDisable, m.unexpected);
  const auto began = std::chrono::steady_clock::now();
  m.panic_finding = pool.inject_fault(FaultKind::Panic);
  m.panic_recovery_ms = Ms(std::chrono::steady_clock::now() - began).count();
  m.restore_ms = pool.stats().last_restore_ms;
  return m;
}

}  // namespace bpfdiff::oracle::kernel::guest
