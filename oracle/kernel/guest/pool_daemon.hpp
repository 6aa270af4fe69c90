#pragma once
// A guest pool shared between processes: `bpfdiff guest start` runs one
// GuestService in a detached daemon that serves the agent protocol on a unix
// socket, so many short `bpfdiff run|diff --engine kernel-qemu` commands reuse
// booted guests instead of paying a boot (5-10 s under TCG) each. The daemon
// speaks the same protocol as a guest's agent (serve() from agent.hpp), so
// the client side is the existing AgentClient.
//
// Its run directory (next to the image: <image>/run) holds pool.sock and
// pool.json, which records who serves there.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "oracle/kernel/guest/agent.hpp"
#include "oracle/kernel/guest/agent_client.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

struct DaemonInfo {
  pid_t pid = 0;
  std::string socket;
  std::size_t guests = 0;
  std::string kernel_release;
  std::string accel;
  int64_t started_unix = 0;  // seconds since the epoch
  double boot_ms = 0;
};

std::string daemon_run_dir(const std::string& image_dir);
std::string daemon_socket_path(const std::string& run_dir);
std::string daemon_info_path(const std::string& run_dir);
std::string daemon_log_path(const std::string& run_dir);

// Atomic (written to a temporary file, then renamed), so a reader never sees
// half a record.
Result<void> write_daemon_info(const std::string& run_dir, const DaemonInfo& info);
Result<DaemonInfo> read_daemon_info(const std::string& run_dir);
// Removes pool.json and pool.sock (not the log: it tells why a daemon died).
void remove_daemon_files(const std::string& run_dir);

bool process_alive(pid_t pid);
// A connected stream socket to `path`, close-on-exec.
Result<int> connect_unix(const std::string& path);

// What the run directory says about a daemon.
struct DaemonProbe {
  enum class State {
    Absent,   // no pool.json
    Running,  // its process lives and its socket answers a hello of our protocol version
    Stale,    // pool.json from a daemon that is dead or does not answer; `why` says which
  };
  State state = State::Absent;
  DaemonInfo info;
  HelloInfo hello;
  std::string why;
};
DaemonProbe probe_daemon(const std::string& run_dir, std::chrono::milliseconds hello_timeout);

// A daemon killed outright (SIGKILL, OOM) cannot stop its QEMU children; they
// stay in its process group (`guest start` makes it a session leader, so the
// group id is its pid). Kills the QEMU processes of that group; call only once
// `daemon_pid` is known dead. Returns how many were killed.
std::size_t kill_orphaned_guests(pid_t daemon_pid);

// Stops the daemon of `run_dir` (SIGTERM, waits up to `wait` for it to exit)
// and removes its files; a stale record is just removed. Returns a sentence
// for the user: what was stopped or cleaned, or that nothing ran.
Result<std::string> stop_daemon(const std::string& run_dir, std::chrono::milliseconds wait);

// The daemon's accept loop: every connection is served by serve() (one
// thread each), with `execute` running the request on the pool.
class PoolDaemonServer {
 public:
  // Binds and listens on `socket_path`, replacing a leftover socket file.
  static Result<std::unique_ptr<PoolDaemonServer>> listen(const std::string& socket_path);
  ~PoolDaemonServer();  // stops, joins the connections, removes the socket file

  // Accepts until stop(). Returns the number of connections served.
  uint64_t run(const AgentConfig& config, const ExecuteFn& execute);
  // Thread-safe: wakes run() and ends every open connection.
  void stop();

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  explicit PoolDaemonServer(int fd, std::string path) : listen_fd_(fd), path_(std::move(path)) {}
  void reap(bool all);

  int listen_fd_;
  std::string path_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and the threads it
// starts afterwards; call first thing in the daemon, before the pool's threads.
void block_termination_signals();
// Runs `server` until one of those signals arrives.
uint64_t run_until_terminated(PoolDaemonServer& server, const AgentConfig& config, const ExecuteFn& execute);

// The client side used by the kernel-qemu engines: requests go to the daemon,
// one at a time per client. A daemon that dies mid-request is reported as a
// Failed response naming the daemon, never waited on forever.
class DaemonClient {
 public:
  static Result<std::unique_ptr<DaemonClient>> connect(const std::string& socket_path,
                                                       std::chrono::milliseconds hello_timeout);
  ~DaemonClient();
  KernelResponse execute(const KernelRequest& request);
  const HelloInfo& hello() const { return hello_; }

  // Bounds one request's silence: the pool itself gives up on a guest after
  // its request timeout and then recovers it, and the daemon heartbeats
  // while the pool works (it serves with the agent's loop), so this only
  // fires when the daemon itself hangs. kRequestLimit bounds a busy request
  // beyond the pool's own limit.
  static constexpr std::chrono::seconds kRequestDeadline{300};
  static constexpr std::chrono::seconds kRequestLimit{1200};

 private:
  DaemonClient(int fd, std::string path) : fd_(fd), path_(std::move(path)), client_(fd) {}
  int fd_;
  std::string path_;
  AgentClient client_;
  HelloInfo hello_;
  std::mutex mutex_;
  bool broken_ = false;
  std::string broken_why_;
};

}  // namespace bpfdiff::oracle::kernel::guest
