#pragma once
// A pool of N guests serving requests from any number of threads. A request
// that breaks its guest (panic, oops, hang, death) becomes a finding on disk
// first; then the guest is restored from its snapshot (else booted cold) and
// the campaign goes on. A guest that cannot be brought back after
// kMaxRecoveryAttempts tries is retired; the pool fails only when none is left.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/kernel/guest/guest_machine.hpp"
#include "oracle/kernel/guest/vmm.hpp"

namespace bpfdiff::oracle::kernel::guest {

// The log of a request the pool gave up on without judging it: the prefix,
// then why ("deadline": the abandon time set by the caller passed, e.g. a
// campaign's end; "too slow": the guest was still busy at the request
// limit, a verifier walking to its complexity limit under TCG), then the
// detail. Verdict Failed; never a finding.
inline constexpr std::string_view kAbandonedPrefix = "guest abandoned: ";
inline constexpr std::string_view kAbandonedAtDeadline = "deadline";
inline constexpr std::string_view kAbandonedTooSlow = "too slow";

struct PoolConfig {
  std::size_t guests = 1;
  GuestTimeouts timeouts;
  std::string work_dir;      // one subdirectory per guest (sockets, console, snapshot)
  std::string findings_dir;  // where guest failures are written
};

struct PoolStats {
  uint64_t requests = 0;
  uint64_t failures = 0;    // requests that broke their guest (each one a finding)
  uint64_t abandoned = 0;   // requests given up on, not judged (kAbandonedPrefix)
  uint64_t restores = 0;    // recoveries from the snapshot
  uint64_t cold_boots = 0;  // including the initial ones
  uint64_t retired = 0;     // guests given up on
  double last_boot_ms = 0;
  double last_restore_ms = 0;
  double snapshot_ms = 0;
  std::vector<std::string> findings;  // paths, in order
  std::string agent_notes;            // what the first guest's agent or its snapshot reported at boot
};

class GuestPool {
 public:
  static constexpr int kMaxRecoveryAttempts = 3;

  // Boots every guest (in parallel); fails if none comes up.
  static Result<std::unique_ptr<GuestPool>> start(std::shared_ptr<const Vmm> vmm, PoolConfig config);
  ~GuestPool();

  // Thread-safe. A guest failure is answered with verdict Failed and a log
  // naming the failure and the finding written for it.
  KernelResponse execute(const KernelRequest& request);
  // Thread-safe. Runs `requests` in order on one guest, pipelined (see
  // GuestMachine::execute_batch), and answers each through
  // `on_response(index, response)` as execute() would, in order, as soon as
  // it is known. A guest failure is the finding of the request that was
  // running; the requests after it run on the recovered guest.
  void execute_batch(std::span<const KernelRequest> requests,
                     const std::function<void(std::size_t, KernelResponse&&)>& on_response);
  // Test only: makes one guest panic or hang and handles the failure like a
  // request's (finding, recovery). Returns the finding's path.
  Result<std::string> inject_fault(FaultKind kind);
  // From `when` on, a request in flight is abandoned (its guest restored)
  // and a new one is answered as abandoned without running: a campaign
  // ends on time whatever its guests are busy with.
  void abandon_from(Clock::time_point when);

  PoolStats stats() const;
  std::string kernel_release() const { return release_; }
  std::string describe() const { return vmm_->describe(); }
  std::size_t live_guests() const;

 private:
  GuestPool(std::shared_ptr<const Vmm> vmm, PoolConfig config)
      : vmm_(std::move(vmm)), config_(std::move(config)) {}
  GuestMachine* acquire();
  void release(GuestMachine* guest);
  // Records the failure as a finding, then brings the guest back or retires it.
  // Copies a guest's counters while it is not in use (call with mutex_ held),
  // so stats() never reads a guest another thread is driving.
  void record_stats(const GuestMachine* guest);
  std::string handle_failure(GuestMachine& guest, const KernelRequest& request, const GuestFailure& failure);
  // The answer to a request that broke its guest or was abandoned, after
  // handle_failure() or bring_back().
  KernelResponse answer_failure(GuestMachine& guest, const KernelRequest& request,
                                const GuestFailure& failure);
  void bring_back(GuestMachine& guest);
  Clock::time_point abandon_at() const { return Clock::time_point(Clock::duration(abandon_at_.load())); }

  std::shared_ptr<const Vmm> vmm_;
  PoolConfig config_;
  std::string release_;
  std::vector<std::unique_ptr<GuestMachine>> guests_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<GuestMachine*> idle_;
  std::size_t live_ = 0;
  std::vector<GuestStats> guest_stats_;
  PoolStats counters_;  // requests, failures, abandoned, retired, findings (the rest comes from the guests)
  std::atomic<Clock::rep> abandon_at_{Clock::time_point::max().time_since_epoch().count()};
};

}  // namespace bpfdiff::oracle::kernel::guest
