#include "fuzz/campaign/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

extern char** environ;

namespace bpfdiff::cli {
namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<Subprocess> Subprocess::start(const std::vector<std::string>& argv, const std::string& log_path,
                                     const Environment& extra_env, bool discard_stderr) {
  if (argv.empty()) return make_error("no command to run");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (discard_stderr) {
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own group, so stopping it also stops what it forks (libFuzzer -fork, afl-fuzz helpers).
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    bool overridden = false;
    for (const auto& [k, v] : extra_env)
      overridden = overridden || entry.rfind(k + "=", 0) == 0;
    if (!overridden) env_storage.push_back(entry);
  }
  for (const auto& [k, v] : extra_env)
    env_storage.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& e : env_storage)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  std::vector<std::string> argv_storage = argv;
  for (std::string& a : argv_storage)
    args.push_back(a.data());
  args.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return make_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return Subprocess(pid);
}

Subprocess::Subprocess(Subprocess&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !status_) stop();
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !status_) stop();
}

std::optional<int> Subprocess::poll() {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) status_ = decode_status(status);
  return status_;
}

int Subprocess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  if (poll()) return *status_;
  ::kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!poll() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!status_) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = decode_status(status);
  }
  return *status_;
}

Result<Completed> run_to_completion(const std::vector<std::string>& argv, const std::string& scratch_log,
                                    std::chrono::seconds timeout, const Environment& extra_env,
                                    bool discard_stderr) {
  ::unlink(scratch_log.c_str());
  auto p = Subprocess::start(argv, scratch_log, extra_env, discard_stderr);
  if (!p) return p.error();
  Completed out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!p->poll()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      out.timed_out = true;
      p->stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  out.exit_code = p->poll().value_or(-1);
  std::size_t offset = 0;
  out.output = read_new_bytes(scratch_log, offset);
  ::unlink(scratch_log.c_str());
  return out;
}

std::string read_new_bytes(const std::string& path, std::size_t& offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  if (size <= offset) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string data(size - offset, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  offset += static_cast<std::size_t>(in.gcount());
  data.resize(static_cast<std::size_t>(in.gcount()));
  return data;
}

}  // namespace bpfdiff::cli
