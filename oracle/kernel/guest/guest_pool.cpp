#include "oracle/kernel/guest/guest_pool.hpp"

#include <thread>

#include "oracle/kernel/guest/guest_finding.hpp"

namespace bpfdiff::oracle::kernel::guest {

Result<std::unique_ptr<GuestPool>> GuestPool::start(std::shared_ptr<const Vmm> vmm, PoolConfig config) {
  if (config.guests == 0) return make_error("a guest pool needs at least one guest");
  std::unique_ptr<GuestPool> pool(new GuestPool(std::move(vmm), std::move(config)));
  std::vector<Result<void>> booted(pool->config_.guests, Result<void>{});
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < pool->config_.guests; ++i) {
    pool->guests_.push_back(std::make_unique<GuestMachine>(
        *pool->vmm_, GuestPaths{pool->config_.work_dir + "/guest-" + std::to_string(i)},
        pool->config_.timeouts));
  }
  for (std::size_t i = 0; i < pool->guests_.size(); ++i)
    threads.emplace_back([&, i] { booted[i] = pool->guests_[i]->boot(); });
  for (auto& t : threads)
    t.join();
  std::string errors;
  for (std::size_t i = 0; i < pool->guests_.size(); ++i) {
    if (booted[i]) {
      pool->idle_.push_back(pool->guests_[i].get());
      if (pool->release_.empty()) {
        pool->release_ = pool->guests_[i]->hello().kernel_release;
        pool->counters_.agent_notes = pool->guests_[i]->hello().agent_notes;
      }
    } else {
      errors += "guest " + std::to_string(i) + ": " + booted[i].error().message + "\n";
      ++pool->counters_.retired;
    }
  }
  pool->live_ = pool->idle_.size();
  pool->guest_stats_.resize(pool->guests_.size());
  for (const auto& g : pool->guests_)
    pool->record_stats(g.get());
  if (pool->live_ == 0) return make_error("no guest booted (" + pool->vmm_->describe() + "):\n" + errors);
  return pool;
}

GuestPool::~GuestPool() {
  for (auto& g : guests_)
    g->stop();
}

GuestMachine* GuestPool::acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !idle_.empty() || live_ == 0; });
  if (idle_.empty()) return nullptr;
  GuestMachine* g = idle_.back();
  idle_.pop_back();
  return g;
}

void GuestPool::release(GuestMachine* guest) {
  {
    std::lock_guard lock(mutex_);
    record_stats(guest);
    if (guest->healthy()) {
      idle_.push_back(guest);
    } else {
      --live_;
      ++counters_.retired;
    }
  }
  available_.notify_all();
}

std::string GuestPool::handle_failure(GuestMachine& guest, const KernelRequest& request,
                                      const GuestFailure& failure) {
  // The finding first: if recovery (or this host) dies next, it is on disk.
  auto written = write_guest_finding(config_.findings_dir, request, failure, guest.hello().kernel_release);
  std::string where = written ? *written : "NOT WRITTEN: " + written.error().message;
  {
    std::lock_guard lock(mutex_);
    ++counters_.failures;
    counters_.findings.push_back(where);
  }
  bring_back(guest);
  return where;
}

void GuestPool::bring_back(GuestMachine& guest) {
  for (int attempt = 0; attempt < kMaxRecoveryAttempts && !guest.healthy(); ++attempt) {
    (void)guest.recover();  // an unhealthy guest after the last attempt is retired by release()
  }
}

void GuestPool::abandon_from(Clock::time_point when) {
  abandon_at_.store(when.time_since_epoch().count());
}

KernelResponse GuestPool::execute(const KernelRequest& request) {
  KernelResponse out;
  out.verdict = KernelVerdict::Failed;
  out.kernel_release = release_;
  const Clock::time_point abandon = abandon_at();
  if (Clock::now() >= abandon) {
    std::lock_guard lock(mutex_);
    ++counters_.abandoned;
    out.log = std::string(kAbandonedPrefix) + std::string(kAbandonedAtDeadline) +
              ": the request came after the pool's abandon time and was not run";
    return out;
  }
  GuestMachine* guest = acquire();
  if (guest == nullptr) {
    out.log = "guest failure: no guest of the pool is running any more (" + vmm_->describe() + ")";
    return out;
  }
  auto result = guest->execute(request, abandon);
  {
    std::lock_guard lock(mutex_);
    ++counters_.requests;
  }
  if (auto* response = std::get_if<KernelResponse>(&result)) {
    out = std::move(*response);
  } else {
    out = answer_failure(*guest, request, std::get<GuestFailure>(result));
  }
  release(guest);
  return out;
}

KernelResponse GuestPool::answer_failure(GuestMachine& guest, const KernelRequest& request,
                                         const GuestFailure& failure) {
  KernelResponse out;
  out.verdict = KernelVerdict::Failed;
  out.kernel_release = release_;
  if (failure.kind == GuestFailureKind::Abandoned) {
    // Not judged and no finding: the guest was busy, not broken. Busy past
    // the request limit is the agent client's "past the limit"; otherwise
    // the abandon time came first.
    {
      std::lock_guard lock(mutex_);
      ++counters_.abandoned;
    }
    const bool too_slow = failure.detail.find("past the limit") != std::string::npos;
    bring_back(guest);
    out.log = std::string(kAbandonedPrefix) +
              std::string(too_slow ? kAbandonedTooSlow : kAbandonedAtDeadline) + ": " + failure.detail;
    return out;
  }
  const std::string where = handle_failure(guest, request, failure);
  out.log = std::string("guest failure: ") + guest_failure_label(failure) + ": " + failure.detail +
            "; finding " + where;
  return out;
}

void GuestPool::execute_batch(std::span<const KernelRequest> requests,
                              const std::function<void(std::size_t, KernelResponse&&)>& on_response) {
  std::size_t next = 0;
  while (next < requests.size()) {
    const Clock::time_point abandon = abandon_at();
    if (Clock::now() >= abandon) {
      // What execute() answers for a request that comes too late.
      for (; next < requests.size(); ++next)
        on_response(next, execute(requests[next]));
      return;
    }
    GuestMachine* guest = acquire();
    if (guest == nullptr) {
      for (; next < requests.size(); ++next)
        on_response(next, execute(requests[next]));
      return;
    }
    // A guest failure at index i ends the machine's batch there: 0..i-1
    // were answered, i is the finding (written before anything restarts),
    // and i+1.. go on, on this guest once it is back or on another one.
    const std::size_t base = next;
    auto failure =
        guest->execute_batch(requests.subspan(base), abandon, [&](std::size_t i, KernelResponse&& response) {
          {
            std::lock_guard lock(mutex_);
            ++counters_.requests;
          }
          on_response(base + i, std::move(response));
        });
    if (failure) {
      const std::size_t failed = base + failure->first;
      {
        std::lock_guard lock(mutex_);
        ++counters_.requests;
      }
      on_response(failed, answer_failure(*guest, requests[failed], failure->second));
      next = failed + 1;
    } else {
      next = requests.size();
    }
    release(guest);
  }
}

Result<std::string> GuestPool::inject_fault(FaultKind kind) {
  GuestMachine* guest = acquire();
  if (guest == nullptr) return make_error("no guest is running");
  auto result = guest->inject_fault(kind);
  Result<std::string> out = make_error("the guest survived the fault");
  if (auto* failure = std::get_if<GuestFailure>(&result)) {
    KernelRequest marker;  // no program: the fault was asked for, not caused
    out = handle_failure(*guest, marker, *failure);
  } else if (!std::get<bool>(result)) {
    out = make_error(std::string("the agent refused the fault: the kernel command line lacks ") +
                     kFaultsAllowedArg);
  }
  release(guest);
  return out;
}

void GuestPool::record_stats(const GuestMachine* guest) {
  for (std::size_t i = 0; i < guests_.size(); ++i) {
    if (guests_[i].get() == guest) guest_stats_[i] = guest->stats();
  }
}

PoolStats GuestPool::stats() const {
  std::lock_guard lock(mutex_);
  PoolStats s = counters_;
  for (const GuestStats& gs : guest_stats_) {
    s.restores += gs.restores;
    s.cold_boots += gs.cold_boots;
    if (gs.last_boot_ms > 0) s.last_boot_ms = gs.last_boot_ms;
    if (gs.last_restore_ms > 0) s.last_restore_ms = gs.last_restore_ms;
    if (gs.snapshot_ms > 0) s.snapshot_ms = gs.snapshot_ms;
  }
  return s;
}

std::size_t GuestPool::live_guests() const {
  std::lock_guard lock(mutex_);
  return live_;
}

}  // namespace bpfdiff::oracle::kernel::guest
