#include "vm/jit/options.hpp"

namespace bpfdiff::jit {

std::string engine_name(const JitOptions& options) {
  std::string name = "jit";
  if (options.constant_blinding) name += "+blind";
  if (!options.bmi2) name += "-bmi2";
  return name;
}

std::vector<JitOptions> all_option_sets() {
  std::vector<JitOptions> out;
  for (bool blind : {false, true}) {
    for (bool bmi2 : {true, false})
      out.push_back(JitOptions{blind, bmi2});
  }
  return out;
}

std::optional<JitOptions> options_named(std::string_view name) {
  for (const JitOptions& o : all_option_sets()) {
    if (engine_name(o) == name) return o;
  }
  return std::nullopt;
}

}  // namespace bpfdiff::jit
