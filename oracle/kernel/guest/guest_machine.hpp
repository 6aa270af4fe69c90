#pragma once
// One guest of the pool: its VMM process, the agent connection, and what it
// takes to tell a healthy guest from one that panicked, oopsed, hung or died.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>

#include "oracle/kernel/guest/agent_client.hpp"
#include "oracle/kernel/guest/child_process.hpp"
#include "oracle/kernel/guest/kernel_log.hpp"
#include "oracle/kernel/guest/vmm.hpp"

namespace bpfdiff::oracle::kernel::guest {

struct GuestTimeouts {
  std::chrono::milliseconds boot{
      90'000};  // cold boot to the first hello (TCG: 2-4 s; slack for loaded hosts)
  std::chrono::milliseconds restore{30'000};   // snapshot restore to the first hello
  std::chrono::milliseconds snapshot{60'000};  // saving the snapshot after boot
  // One request: load + run in the guest. The agent heartbeats while it
  // works (protocol.hpp, Busy), so this is the longest silence allowed, and
  // `request_limit` bounds a request that keeps the guest busy: the verifier
  // stops at 1M processed instructions, a few seconds natively, ten times
  // that under TCG. A request still busy at the limit is abandoned (not
  // judged, never a finding: GuestFailureKind::Abandoned).
  std::chrono::milliseconds request{20'000};
  std::chrono::milliseconds request_limit{600'000};
};

enum class GuestFailureKind {
  Panic,     // the kernel panicked (pvpanic exit status, or "Kernel panic" on the console)
  Oops,      // the kernel log shows an oops, BUG, WARNING or sanitizer report (see `report`)
  Hang,      // no reply before the request deadline
  Died,      // the VMM exited or the channel broke without a panic
  Protocol,  // the agent answered with something that is not the answer
  // Not a failure of the kernel: the request was given up on while its guest
  // was not shown broken (busy past the request limit, or the caller's
  // abandon time came). The guest is stopped and must be recovered; the
  // program is not judged.
  Abandoned,
};
const char* guest_failure_name(GuestFailureKind kind);

struct GuestFailure {
  GuestFailureKind kind = GuestFailureKind::Died;
  std::string detail;
  std::string console;                     // the console output since the last healthy request
  std::optional<int> exit_status;          // of the VMM, when it exited
  std::optional<KernelResponse> response;  // when the agent answered (oops after a reply)
  std::optional<KernelReport> report;      // the most telling report in `console`, if any
};
// The failure's one-word class: the kernel report's kind for an oops
// ("kasan", "ubsan", "oops", "warning", "lockup", "trace"), else the kind's
// name. Findings and the campaign's signatures are named by it.
std::string guest_failure_label(const GuestFailure& failure);

struct GuestStats {
  uint64_t cold_boots = 0;
  uint64_t restores = 0;
  uint64_t requests = 0;
  uint64_t failures = 0;
  uint64_t abandoned = 0;      // requests given up on (GuestFailureKind::Abandoned)
  double last_boot_ms = 0;     // spawn to first hello
  double last_restore_ms = 0;  // spawn of the restore to first hello
  double snapshot_ms = 0;      // saving the snapshot
};

class GuestMachine {
 public:
  GuestMachine(const Vmm& vmm, GuestPaths paths, GuestTimeouts timeouts);
  ~GuestMachine();
  GuestMachine(const GuestMachine&) = delete;
  GuestMachine& operator=(const GuestMachine&) = delete;

  // Cold boot to the first hello, then a snapshot when the VMM supports it.
  Result<void> boot();
  // After a failure: restore the snapshot (fast), else boot cold.
  Result<void> recover();
  // Runs one request. A failure leaves the guest stopped; recover() next.
  // Unanswered at `abandon_at`, the request is Abandoned (unless the guest
  // turns out to have panicked, oopsed or died meanwhile).
  std::variant<KernelResponse, GuestFailure> execute(const KernelRequest& request,
                                                     Clock::time_point abandon_at = Clock::time_point::max());
  // Runs `requests` in order, pipelined once the agent has shown that it
  // reads the kernel's messages after each request (so a report in them
  // is exactly that request's), one at a time until then. Each response
  // goes to `on_response(index, response)` as it arrives. When request i
  // breaks the guest (or is abandoned), the responses of 0..i-1 have been
  // handed over, the failure comes back with i, and i+1.. never ran; the
  // guest is then stopped (recover() next).
  std::optional<std::pair<std::size_t, GuestFailure>> execute_batch(
      std::span<const KernelRequest> requests, Clock::time_point abandon_at,
      const std::function<void(std::size_t, KernelResponse&&)>& on_response);
  // Test only: makes the guest panic or hang, then reports the failure that
  // follows as execute() would.
  std::variant<bool, GuestFailure> inject_fault(FaultKind kind);
  void stop();

  bool healthy() const { return client_ != nullptr; }
  bool has_snapshot() const { return has_snapshot_; }
  const HelloInfo& hello() const { return hello_; }
  const GuestStats& stats() const { return stats_; }
  const GuestPaths& paths() const { return paths_; }

 private:
  Result<void> start(bool from_snapshot);
  GuestFailure classify(const std::string& error, ReplyStatus status);
  std::string take_console();  // console output since the last call

  const Vmm& vmm_;
  GuestPaths paths_;
  GuestTimeouts timeouts_;
  ChildProcess process_;
  int fd_ = -1;
  std::unique_ptr<AgentClient> client_;
  HelloInfo hello_;
  bool has_snapshot_ = false;
  // The agent has answered with the kernel's messages of its request
  // (KernelResponse::kernel_messages_read): requests may be pipelined.
  bool agent_reads_kernel_messages_ = false;
  uint64_t console_offset_ = 0;
  GuestStats stats_;
};

}  // namespace bpfdiff::oracle::kernel::guest
