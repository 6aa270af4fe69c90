#pragma once
// Defines libFuzzer's LLVMFuzzerCustomMutator and LLVMFuzzerCustomCrossOver
// for a raw-bytes target, over fuzz/mutator. Include it in exactly one file of
// a target, then write BPFDIFF_RAW_CUSTOM_MUTATOR(prefix_bytes) at namespace
// scope. Environment: BPFDIFF_CUSTOM_MUTATOR=0 turns it off (every call goes
// to libFuzzer's own byte mutator), so the two can be measured against each
// other on the same binary.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "fuzz/mutator.hpp"

// Weak: the replay and AFL++ builds have no libFuzzer to provide it.
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size) __attribute__((weak));

namespace bpfdiff::fuzz {
inline bool custom_mutator_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("BPFDIFF_CUSTOM_MUTATOR");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return enabled;
}
}  // namespace bpfdiff::fuzz

#define BPFDIFF_RAW_CUSTOM_MUTATOR(prefix_bytes)                                                        \
  extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,                \
                                            unsigned int seed) {                                        \
    const ::bpfdiff::fuzz::RawMutatorConfig config{(prefix_bytes), LLVMFuzzerMutate};                   \
    if (!::bpfdiff::fuzz::custom_mutator_enabled() && LLVMFuzzerMutate != nullptr)                      \
      return LLVMFuzzerMutate(data, size, max_size);                                                    \
    return ::bpfdiff::fuzz::mutate_raw_input(data, size, max_size, seed, config);                       \
  }                                                                                                     \
  extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* data1, size_t size1, const uint8_t* data2, \
                                              size_t size2, uint8_t* out, size_t max_out_size,          \
                                              unsigned int seed) {                                      \
    const ::bpfdiff::fuzz::RawMutatorConfig config{(prefix_bytes), LLVMFuzzerMutate};                   \
    return ::bpfdiff::fuzz::crossover_raw_inputs(data1, size1, data2, size2, out, max_out_size, seed,   \
                                                 config);                                               \
  }
