#pragma once
// Labels over the x86 assembler for multi-pass layout. Code is emitted
// several times; a jump picks its short or near form from where its target
// was in the previous pass, and passes repeat until no label moves. The
// last pass therefore reproduces the previous one exactly, which
// Compiler checks label by label before trusting the code.
#include <cstdint>
#include <vector>

#include "vm/jit/x86/assembler.hpp"

namespace bpfdiff::jit {

class Emitter {
 public:
  using Label = uint32_t;

  // `previous` holds the label offsets of the last pass (empty in the first).
  // `all_near` forces rel32 everywhere, the fallback if passes do not settle.
  Emitter(const std::vector<int64_t>& previous, bool all_near) : previous_(previous), all_near_(all_near) {}

  x86::Assembler a;

  Label new_label() {
    offsets_.push_back(-1);
    return static_cast<Label>(offsets_.size() - 1);
  }
  void bind(Label l) { offsets_[l] = static_cast<int64_t>(a.size()); }

  void jcc(x86::Cond cc, Label l) {
    const auto [size, disp] =
        choose(l, x86::jcc_length(x86::JumpSize::Short), x86::jcc_length(x86::JumpSize::Near));
    a.jcc(cc, size, disp);
  }
  void jmp(Label l) {
    const auto [size, disp] =
        choose(l, x86::jmp_length(x86::JumpSize::Short), x86::jmp_length(x86::JumpSize::Near));
    a.jmp(size, disp);
  }
  void call(Label l) {
    const int64_t target = known(l) ? previous_[l] : 0;
    a.call(static_cast<int32_t>(target - static_cast<int64_t>(a.size() + x86::kCallRel32Length)));
  }

  const std::vector<int64_t>& offsets() const { return offsets_; }

 private:
  bool known(Label l) const { return l < previous_.size() && previous_[l] >= 0; }

  struct Choice {
    x86::JumpSize size;
    int32_t disp;
  };
  Choice choose(Label l, std::size_t short_len, std::size_t near_len) const {
    if (!known(l)) return {x86::JumpSize::Near, 0};
    const int64_t target = previous_[l];
    const int64_t short_disp = target - static_cast<int64_t>(a.size() + short_len);
    if (!all_near_ && x86::fits_rel8(short_disp))
      return {x86::JumpSize::Short, static_cast<int32_t>(short_disp)};
    return {x86::JumpSize::Near, static_cast<int32_t>(target - static_cast<int64_t>(a.size() + near_len))};
  }

  const std::vector<int64_t>& previous_;
  bool all_near_;
  std::vector<int64_t> offsets_;
};

}  // namespace bpfdiff::jit
