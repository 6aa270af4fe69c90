#pragma once
// The guest pool daemon's life cycle as a library: serving a started pool
// (`bpfdiff guest serve`), starting that in the background and waiting until
// it answers (`guest start`), and measuring a pool (`guest measure`). The
// command line only parses options and prints what these return.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel/guest/pool_daemon.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

// Fails when a daemon already serves `run_dir`; else creates the directory.
// Call before booting the pool that is to serve there.
Result<void> claim_daemon_run_dir(const std::string& run_dir);

struct ServedPool {
  uint64_t connections = 0;
  PoolStats stats;  // when the daemon stopped
};

// Serves `service`'s pool on the socket of `run_dir` until SIGTERM, SIGINT or
// SIGHUP (block_termination_signals() must have run first), recording itself
// in pool.json meanwhile; `on_serving` is told once the socket listens. Its
// own record is removed at the end, never a second daemon's that replaced it.
Result<ServedPool> serve_pool_daemon(GuestService& service, const std::string& run_dir,
                                     const std::function<void(const DaemonInfo&)>& on_serving);

// Runs `args` (argv[0] is a name; this executable is what runs) detached: its
// own session, stdin from /dev/null, stdout and stderr to the run
// directory's daemon.log. Returns the probe of the daemon once the child
// answers a hello on `run_dir`'s socket; fails with the end of the log when
// it exits first or does not answer within `limit` (then it is terminated).
Result<DaemonProbe> spawn_pool_daemon(const std::vector<std::string>& args, const std::string& run_dir,
                                      std::chrono::milliseconds limit);

struct PoolMeasurement {
  double jit_programs_per_s = 0;
  double interp_programs_per_s = 0;
  double panic_recovery_ms = 0;
  double restore_ms = 0;
  Result<std::string> panic_finding = std::string();  // the finding of the planted panic
  // The last throughput request that did not give the expected answer.
  std::optional<KernelResponse> unexpected;
};

// Programs per second through the pool (kernel JIT, then its interpreter),
// `requests` each, then the time to recover from a panic planted on purpose
// (the pool must allow faults: kFaultsAllowedArg).
PoolMeasurement measure_pool(GuestPool& pool, uint64_t requests);

}  // namespace bpfdiff::oracle::kernel::guest
