#pragma once
// SIGINT and SIGTERM handled, for as long as a campaign runs, by a function
// that only sets its stop flag, so that the campaign ends its current item
// and writes its findings, state and report before it returns; the handlers
// that were there before come back afterwards.
#include <signal.h>

namespace bpfdiff::fuzz {

class ScopedStopSignals {
 public:
  // `handler` must be async-signal-safe (store to a std::atomic<bool>).
  explicit ScopedStopSignals(void (*handler)(int));
  ~ScopedStopSignals();
  ScopedStopSignals(const ScopedStopSignals&) = delete;
  ScopedStopSignals& operator=(const ScopedStopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace bpfdiff::fuzz
