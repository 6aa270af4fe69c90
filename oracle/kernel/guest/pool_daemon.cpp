#include "oracle/kernel/guest/pool_daemon.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace bpfdiff::oracle::kernel::guest {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path))
    return make_error("socket path too long for a unix socket (" + std::to_string(path.size()) +
                      " bytes, at most " + std::to_string(sizeof(addr.sun_path) - 1) + "): " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// pid reuse: a stale record may name a pid that now belongs to someone else,
// who must not get our SIGTERM. The daemon is `bpfdiff guest serve ...`.
bool looks_like_daemon(pid_t pid) {
  const std::string cmdline = read_whole("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.find(std::string("guest\0serve", 11)) != std::string::npos;
}

}  // namespace

std::size_t kill_orphaned_guests(pid_t daemon_pid) {
  if (daemon_pid <= 0) return 0;
  std::size_t killed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_whole(entry.path().string() + "/stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    // After ") ": state, ppid, pgrp.
    std::istringstream fields(stat.substr(paren + 1));
    std::string state;
    long ppid = 0;
    long pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp) || pgrp != daemon_pid) continue;
    const std::string cmdline = read_whole(entry.path().string() + "/cmdline");
    if (cmdline.find("qemu-system") == std::string::npos) continue;
    if (::kill(static_cast<pid_t>(std::stol(name)), SIGKILL) == 0) ++killed;
  }
  return killed;
}

std::string daemon_run_dir(const std::string& image_dir) {
  return image_dir + "/run";
}
std::string daemon_socket_path(const std::string& run_dir) {
  return run_dir + "/pool.sock";
}
std::string daemon_info_path(const std::string& run_dir) {
  return run_dir + "/pool.json";
}
std::string daemon_log_path(const std::string& run_dir) {
  return run_dir + "/daemon.log";
}

Result<void> write_daemon_info(const std::string& run_dir, const DaemonInfo& info) {
  nlohmann::ordered_json j;
  j["pid"] = info.pid;
  j["socket"] = info.socket;
  j["guests"] = info.guests;
  j["kernel_release"] = info.kernel_release;
  j["accel"] = info.accel;
  j["started_unix"] = info.started_unix;
  j["boot_ms"] = info.boot_ms;
  const std::string final_path = daemon_info_path(run_dir);
  const std::string temp_path = final_path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp_path, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out.flush()) return make_error("cannot write " + temp_path);
  }
  std::error_code ec;
  std::filesystem::rename(temp_path, final_path, ec);
  if (ec) return make_error("cannot rename " + temp_path + " to " + final_path + ": " + ec.message());
  return {};
}

Result<DaemonInfo> read_daemon_info(const std::string& run_dir) {
  const std::string path = daemon_info_path(run_dir);
  if (!std::filesystem::exists(path)) return make_error("no " + path);
  auto j = nlohmann::json::parse(read_whole(path), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(path + " is not a JSON object");
  DaemonInfo info;
  try {
    info.pid = j.at("pid").get<pid_t>();
    info.socket = j.at("socket").get<std::string>();
    info.guests = j.value("guests", std::size_t{0});
    info.kernel_release = j.value("kernel_release", std::string());
    info.accel = j.value("accel", std::string());
    info.started_unix = j.value("started_unix", int64_t{0});
    info.boot_ms = j.value("boot_ms", 0.0);
  } catch (const nlohmann::json::exception& e) {
    return make_error(path + ": " + e.what());
  }
  if (info.pid <= 0) return make_error(path + ": pid " + std::to_string(info.pid) + " is not a process id");
  return info;
}

void remove_daemon_files(const std::string& run_dir) {
  std::error_code ec;
  std::filesystem::remove(daemon_info_path(run_dir), ec);
  std::filesystem::remove(daemon_socket_path(run_dir), ec);
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0) return errno == EPERM;
  // A zombie (our own exited child not reaped yet) is dead for our purposes.
  const std::string stat = read_whole("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  return !(paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z');
}

Result<int> connect_unix(const std::string& path) {
  auto addr = unix_address(path);
  if (!addr) return addr.error();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("socket: " + errno_text());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    return make_error("cannot connect to " + path + ": " + why);
  }
  return fd;
}

DaemonProbe probe_daemon(const std::string& run_dir, std::chrono::milliseconds hello_timeout) {
  DaemonProbe probe;
  if (!std::filesystem::exists(daemon_info_path(run_dir))) return probe;
  probe.state = DaemonProbe::State::Stale;
  auto info = read_daemon_info(run_dir);
  if (!info) {
    probe.why = info.error().message;
    return probe;
  }
  probe.info = *info;
  if (!process_alive(info->pid)) {
    probe.why = "daemon process " + std::to_string(info->pid) + " is not running";
    return probe;
  }
  auto fd = connect_unix(info->socket);
  if (!fd) {
    probe.why = fd.error().message;
    return probe;
  }
  AgentClient client(*fd);
  auto hello = client.hello(Clock::now() + hello_timeout);
  ::close(*fd);
  if (!hello.ok()) {
    probe.why = std::string("the daemon did not answer a hello: ") + reply_status_name(hello.status) +
                (hello.error.empty() ? "" : ": " + hello.error);
    return probe;
  }
  probe.state = DaemonProbe::State::Running;
  probe.hello = hello.value;
  return probe;
}

Result<std::string> stop_daemon(const std::string& run_dir, std::chrono::milliseconds wait) {
  const DaemonProbe probe = probe_daemon(run_dir, std::chrono::milliseconds(2000));
  switch (probe.state) {
    case DaemonProbe::State::Absent:
      return std::string("no guest pool daemon is running (" + run_dir + ")");
    case DaemonProbe::State::Stale: {
      const pid_t pid = probe.info.pid;
      // Alive but mute: a hung daemon gets the signal too, if it is ours.
      if (process_alive(pid) && looks_like_daemon(pid)) break;
      remove_daemon_files(run_dir);
      const std::size_t orphans = process_alive(pid) ? 0 : kill_orphaned_guests(pid);
      return "removed stale files of a dead daemon (" + probe.why + ")" +
             (orphans ? "; killed " + std::to_string(orphans) + " QEMU process(es) it left behind" : "");
    }
    case DaemonProbe::State::Running:
      break;
  }
  const pid_t pid = probe.info.pid;
  if (::kill(pid, SIGTERM) != 0 && errno != ESRCH)
    return make_error("cannot signal daemon process " + std::to_string(pid) + ": " + errno_text());
  const auto deadline = Clock::now() + wait;
  while (process_alive(pid)) {
    if (Clock::now() >= deadline)
      return make_error("daemon process " + std::to_string(pid) + " did not exit within " +
                        std::to_string(wait.count()) + " ms of SIGTERM");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  remove_daemon_files(run_dir);
  return "stopped guest pool daemon " + std::to_string(pid);
}

Result<std::unique_ptr<PoolDaemonServer>> PoolDaemonServer::listen(const std::string& socket_path) {
  auto addr = unix_address(socket_path);
  if (!addr) return addr.error();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("socket: " + errno_text());
  // A socket file left by a daemon that was killed would make bind fail; the
  // caller has established that nobody serves there any more.
  ::unlink(socket_path.c_str());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0 || ::listen(fd, 16) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    return make_error("cannot listen on " + socket_path + ": " + why);
  }
  return std::unique_ptr<PoolDaemonServer>(new PoolDaemonServer(fd, socket_path));
}

PoolDaemonServer::~PoolDaemonServer() {
  stop();
  reap(true);
  ::close(listen_fd_);
  ::unlink(path_.c_str());
}

void PoolDaemonServer::reap(bool all) {
  std::vector<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (all || (*it)->done) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished) {
    if (c->thread.joinable()) c->thread.join();
    ::close(c->fd);
  }
}

uint64_t PoolDaemonServer::run(const AgentConfig& config, const ExecuteFn& execute) {
  uint64_t served = 0;
  while (!stopping_) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;  // stop() shut the socket down (EINVAL), or the socket broke
    }
    reap(false);
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    Connection* c = connection.get();
    std::lock_guard lock(mutex_);
    if (stopping_) {
      ::close(fd);
      break;
    }
    c->thread = std::thread([c, &config, &execute] {
      serve(c->fd, config, execute);
      c->done = true;
    });
    connections_.push_back(std::move(connection));
    ++served;
  }
  reap(true);
  return served;
}

void PoolDaemonServer::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  // On Linux, shutting a listening socket down wakes accept() with EINVAL;
  // shutting a connection down ends its serve() loop at the next read.
  ::shutdown(listen_fd_, SHUT_RDWR);
  for (auto& c : connections_)
    ::shutdown(c->fd, SHUT_RDWR);
}

namespace {

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void block_termination_signals() {
  const sigset_t set = termination_signals();
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

uint64_t run_until_terminated(PoolDaemonServer& server, const AgentConfig& config, const ExecuteFn& execute) {
  block_termination_signals();
  std::thread waiter([&server] {
    const sigset_t set = termination_signals();
    int signal = 0;
    ::sigwait(&set, &signal);
    server.stop();
  });
  const uint64_t served = server.run(config, execute);
  // run() only returns after stop() or a broken socket; in the latter case
  // the waiter still sits in sigwait, so wake it with one of its signals.
  if (waiter.joinable()) {
    ::pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
  }
  return served;
}

Result<std::unique_ptr<DaemonClient>> DaemonClient::connect(const std::string& socket_path,
                                                            std::chrono::milliseconds hello_timeout) {
  auto fd = connect_unix(socket_path);
  if (!fd) return fd.error();
  std::unique_ptr<DaemonClient> client(new DaemonClient(*fd, socket_path));
  auto hello = client->client_.hello(Clock::now() + hello_timeout);
  if (!hello.ok())
    return make_error("the guest pool daemon at " + socket_path + " did not answer a hello: " +
                      reply_status_name(hello.status) + (hello.error.empty() ? "" : ": " + hello.error));
  client->hello_ = hello.value;
  return client;
}

DaemonClient::~DaemonClient() {
  ::close(fd_);
}

KernelResponse DaemonClient::execute(const KernelRequest& request) {
  std::lock_guard lock(mutex_);
  KernelResponse failed;
  failed.verdict = KernelVerdict::Failed;
  failed.memory = request.memory;
  if (broken_) {
    failed.log = broken_why_;
    return failed;
  }
  const auto now = Clock::now();
  auto reply = client_.execute(request, now + kRequestDeadline, now + kRequestLimit);
  if (reply.ok()) return std::move(reply.value);
  const std::string why =
      "the guest pool daemon (" + path_ + ") failed: " + reply_status_name(reply.status) +
      (reply.error.empty() ? "" : ": " + reply.error) +
      "; see `bpfdiff guest status`, restart it with `bpfdiff guest stop` and `bpfdiff guest start`";
  failed.log = why;
  // An Error reply refuses this one request and leaves the stream in step;
  // after any other failure it is not, so the client stays broken and every
  // later request gets the same explanation at once.
  if (reply.status != ReplyStatus::AgentError) {
    broken_ = true;
    broken_why_ = why;
  }
  return failed;
}

}  // namespace bpfdiff::oracle::kernel::guest
