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
};

// "jit", "jit+blind", "jit-bmi2", "jit+blind-bmi2": the engine name of an option set.
std::string engine_name(const JitOptions& options);

// Every option set, in a fixed order (the differential harness runs each).
std::vector<JitOptions> all_option_sets();

// The option set whose engine_name is `name`.
std::optional<JitOptions> options_named(std::string_view name);

}  // namespace bpfdiff::jit
