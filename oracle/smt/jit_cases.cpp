#include "oracle/smt/jit_cases.hpp"

#include <climits>
#include <set>
#include <tuple>

#include "vm/isa/raw.hpp"

namespace bpfdiff::oracle::smt {

std::string RegisterAssignment::name() const {
  return "r" + std::to_string(dst) + ",r" + std::to_string(src);
}

std::vector<RegisterAssignment> representative_assignments() {
  return {{4, 3}, {3, 4}, {0, 3}, {3, 0}, {4, 4}, {0, 0}, {5, 9}, {1, 2}};
}

std::vector<RegisterAssignment> all_assignments() {
  std::vector<RegisterAssignment> out;
  for (uint8_t d = 0; d < isa::kNumRegisters; ++d) {
    for (uint8_t s = 0; s < isa::kNumRegisters; ++s)
      out.push_back({d, s});
  }
  return out;
}

const std::vector<ImmClass>& imm_classes() {
  static const std::vector<ImmClass> classes = {
      {"0", 0}, {"1", 1}, {"-1", -1}, {"imm8", 0x5a}, {"imm32", 0x12345678}, {"INT_MIN", INT32_MIN}};
  return classes;
}

std::vector<JitCase> cases_for(isa::Form form, const std::vector<RegisterAssignment>& assignments,
                               const std::vector<ImmClass>& imms,
                               const std::vector<jit::JitOptions>& option_sets) {
  const isa::FormInfo& fi = isa::info(form);
  const bool is_jump = fi.sem.family == isa::Family::Jump;
  const bool uses_dst = fi.rules.dst != isa::RegRule::Zero;
  const bool uses_src = fi.rules.src != isa::RegRule::Zero;
  const bool uses_imm = fi.rules.imm == isa::ValueRule::Any && form != isa::Form::gotol;
  const uint8_t max_dst =
      fi.rules.dst == isa::RegRule::Writable ? isa::kFramePointer - 1 : isa::kFramePointer;
  std::set<std::tuple<uint8_t, uint8_t, int32_t>> seen;
  std::vector<JitCase> out;
  for (const jit::JitOptions& options : option_sets) {
    seen.clear();
    for (const RegisterAssignment& a : assignments) {
      if (uses_dst && a.dst > max_dst) continue;
      const uint8_t dst = uses_dst ? a.dst : 0;
      const uint8_t src = uses_src ? a.src : 0;
      std::vector<int32_t> values;
      if (uses_imm) {
        for (const ImmClass& k : imms)
          values.push_back(k.value);
      } else {
        values.push_back(0);
      }
      for (int32_t imm : values) {
        if (!seen.insert({dst, src, imm}).second) continue;
        JitCase c;
        c.form = form;
        c.dst = dst;
        c.src = src;
        c.imm = imm;
        c.options = options;
        out.push_back(c);
      }
    }
  }
  (void)is_jump;
  return out;
}

}  // namespace bpfdiff::oracle::smt
