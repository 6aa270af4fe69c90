#pragma once
// What the standard helpers work on besides registers and memory: the maps,
// the trace_printk sink, the deterministic clock and random generator, and
// the tail-call count. One per engine instance; maps persist across runs,
// the rest starts afresh with each run.
#include <cstdint>
#include <string>
#include <vector>

#include "vm/runtime/map_store.hpp"

namespace bpfdiff::vm {

struct HelperEnv {
  MapStore maps;
  std::vector<std::string> trace;  // one entry per bpf_trace_printk call of the current run
  uint64_t random_state = 0;
  uint64_t clock_ns = 0;
  uint32_t tail_calls = 0;  // taken this run, at most kMaxTailCalls

  // Called by engines before each run: same seed, same clock readings and
  // random numbers, in every engine.
  void start_run(uint64_t seed) {
    trace.clear();
    tail_calls = 0;
    random_state = seed;
    // The clock starts one second after boot plus the seed (in ns, so that
    // seeds give distinct readings) and advances 1 us per reading.
    clock_ns = 1'000'000'000 + (seed & ((uint64_t{1} << 40) - 1));
  }

  // splitmix64: small, fast and the same everywhere.
  uint64_t next_random() {
    uint64_t z = (random_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

}  // namespace bpfdiff::vm
