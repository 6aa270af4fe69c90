#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfdiff::jit {

struct JitOptions {
  // XOR every program-supplied immediate with a random key at compile time
  // and undo it at run time, so no attacker-chosen constant appears in the
  // executable code (JIT spraying defence).
  bool constant_blinding = false;
  // Use shlx/shrx/sarx for shifts by a register when the CPU has BMI2.
  bool bmi2 = true;
  // The blinding key is derived from this (the run's seed, where there is
  // one), so a blinded compile, like every run, reproduces from its seed.
  uint64_t blinding_seed = 0;
};

// The constant-blinding key for a seed: a fixed mix of its bits, never 0
// (a zero key would blind nothing).
uint64_t blinding_key(uint64_t seed);

// "jit", "jit+blind", "jit-bmi2", "jit+blind-bmi2": the engine name of an option set.
std::string engine_name(const JitOptions& options);

// Every option set, in a fixed order (the differential harness runs each).
std::vector<JitOptions> all_option_sets();

// The option set whose engine_name is `name`.
std::optional<JitOptions> options_named(std::string_view name);

}  // namespace bpfdiff::jit
