#include "oracle/kernel/guest/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace bpfdiff::oracle::kernel::guest {

Result<void> ChildProcess::spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  kill();
  status_.reset();
  if (argv.empty()) return make_error("spawn: empty command");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return make_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  pid_ = pid;
  return {};
}

void ChildProcess::reap(bool block) {
  if (pid_ <= 0) return;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  } else if (r < 0) {
    pid_ = -1;  // not our child any more (reaped elsewhere): treat as gone
    status_ = -1;
  }
}

bool ChildProcess::running() {
  reap(false);
  return pid_ > 0;
}

std::optional<int> ChildProcess::exit_status() {
  reap(false);
  return status_;
}

bool ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void ChildProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

Result<int> connect_unix(const std::string& path, std::chrono::steady_clock::time_point deadline,
                         ChildProcess& child) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return make_error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  std::string last_error = "never tried";
  for (;;) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
    last_error = std::strerror(errno);
    ::close(fd);
    if (!child.running())
      return make_error("the VMM exited before its socket " + path + " accepted a connection");
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error("cannot connect to " + path + ": " + last_error);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace bpfdiff::oracle::kernel::guest
