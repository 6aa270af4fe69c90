// AFL++'s custom mutator API over fuzz/mutator: the same instruction-aware
// mutation and crossover the libFuzzer targets get through
// LLVMFuzzerCustomMutator, as a shared library afl-fuzz loads with
// AFL_CUSTOM_MUTATOR_LIBRARY. AFL++ keeps its own byte-level havoc stages
// and calls this for part of the mutations, so no byte fallback is needed.
//
// The layout is the raw one (u32 program_length | program | memory) after
// BPFDIFF_AFL_PREFIX bytes (1 for jit_decode's option byte, else 0), read
// once when afl-fuzz initialises the mutator.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "fuzz/mutator.hpp"

namespace {

struct AflMutator {
  uint64_t state = 0;
  std::size_t prefix = 0;
  std::vector<uint8_t> out;  // afl-fuzz reads the result from here until the next call
};

uint64_t next_seed(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::size_t prefix_from_environment() {
  const char* v = std::getenv("BPFDIFF_AFL_PREFIX");
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  const unsigned long n = std::strtoul(v, &end, 10);
  return *end == '\0' && n <= 64 ? n : 0;
}

}  // namespace

#define BPFDIFF_AFL_API __attribute__((visibility("default")))

extern "C" {

// afl: AFL++'s state, unused. Returns the mutator's state, or null (afl-fuzz
// then stops with an error) when memory runs out.
BPFDIFF_AFL_API void* afl_custom_init(void* /*afl*/, unsigned int seed) {
  auto* m = new (std::nothrow) AflMutator;
  if (m == nullptr) return nullptr;
  m->state = seed;
  m->prefix = prefix_from_environment();
  return m;
}

// One mutation of buf[0, buf_size) into at most max_size bytes, at *out_buf;
// with a second input (add_buf) it is sometimes a crossover of the two.
BPFDIFF_AFL_API std::size_t afl_custom_fuzz(void* data, uint8_t* buf, std::size_t buf_size, uint8_t** out_buf,
                                            uint8_t* add_buf, std::size_t add_buf_size,
                                            std::size_t max_size) {
  auto& m = *static_cast<AflMutator*>(data);
  const uint64_t seed = next_seed(m.state);
  const bpfdiff::fuzz::RawMutatorConfig config{m.prefix, nullptr};
  // Room for the layout's smallest input (prefix and length field), which
  // the mutator may grow an empty or garbage input into.
  const std::size_t room = std::max(max_size, m.prefix + 4);
  m.out.assign(std::max(room, buf_size), 0);
  std::size_t n = 0;
  if (add_buf != nullptr && add_buf_size > 0 && seed % 5 == 0) {
    n = bpfdiff::fuzz::crossover_raw_inputs(buf, buf_size, add_buf, add_buf_size, m.out.data(), room, seed,
                                            config);
  } else {
    const std::size_t size = std::min(buf_size, room);
    if (size > 0) std::memcpy(m.out.data(), buf, size);
    n = bpfdiff::fuzz::mutate_raw_input(m.out.data(), size, room, seed, config);
  }
  *out_buf = m.out.data();
  return std::min(n, max_size);
}

// Appended to the names of the queue entries this mutator produced.
BPFDIFF_AFL_API const char* afl_custom_describe(void* /*data*/, std::size_t max_description_len) {
  static constexpr char kName[] = "bpfdiff-slots";
  return max_description_len >= sizeof kName - 1 ? kName : "";
}

BPFDIFF_AFL_API void afl_custom_deinit(void* data) {
  delete static_cast<AflMutator*>(data);
}

}  // extern "C"
