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
  void bind(Label l) {
    offsets_[l] = static_cast<int64_t>(a.size());
    if (known(l)) shrink_ = previous_[l] - offsets_[l];
  }

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
  // Where `l` is in this pass: exact when it is already bound (a backward
  // jump); ahead, its previous offset less what the code before here has
  // shrunk since the previous pass. Code only shrinks from pass to pass, so
  // the estimate is an upper bound and a short jump chosen with it still
  // fits; without it each pass would shorten only the jumps that the
  // previous pass's shrinking brought in range, and long programs would
  // need a pass per link of such chains. The last pass moves no label, so
  // there every target is exact.
  Choice choose(Label l, std::size_t short_len, std::size_t near_len) const {
    int64_t target = 0;
    if (l < offsets_.size() && offsets_[l] >= 0) {
      target = offsets_[l];
    } else if (known(l)) {
      target = previous_[l] - shrink_;
    } else {
      return {x86::JumpSize::Near, 0};
    }
    const int64_t short_disp = target - static_cast<int64_t>(a.size() + short_len);
    if (!all_near_ && x86::fits_rel8(short_disp))
      return {x86::JumpSize::Short, static_cast<int32_t>(short_disp)};
    return {x86::JumpSize::Near, static_cast<int32_t>(target - static_cast<int64_t>(a.size() + near_len))};
  }

  const std::vector<int64_t>& previous_;
  bool all_near_;
  std::vector<int64_t> offsets_;
  int64_t shrink_ = 0;  // previous offset minus this pass's, at the last label bound
};

}  // namespace bpfdiff::jit
