#pragma once
// The standard helpers, numbered as in Linux, with real implementations over
// HelperCall::env: map lookup/update/delete for array and hash maps,
// ktime_get_ns and get_prandom_u32 (deterministic under the run's seed),
// trace_printk (the kernel's format subset, output to HelperEnv::trace) and
// tail_call over program arrays. Garbage arguments give HelperFailed (a
// pointer or map handle that is not valid) or the error value the kernel
// returns; they never reach host memory unchecked.
#include <cstdint>

#include "vm/runtime/helpers.hpp"

namespace bpfdiff::vm {

enum class HelperId : uint32_t {
  MapLookupElem = 1,
  MapUpdateElem = 2,
  MapDeleteElem = 3,
  KtimeGetNs = 5,
  TracePrintk = 6,
  GetPrandomU32 = 7,
  TailCall = 12,
};

// Registers every standard helper in `registry`.
void add_standard_helpers(HelperRegistry& registry);

// A registry with exactly the standard helpers.
const HelperRegistry& standard_helpers();

}  // namespace bpfdiff::vm
