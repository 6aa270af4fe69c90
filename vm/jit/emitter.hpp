#pragma once
// Labels over the x86 assembler, with branch relaxation. The lowering emits
// the program once; every jump to a label is written in its near (rel32)
// form with a placeholder displacement and recorded. finish() then picks
// each jump's size -- all start short, and a jump whose displacement does
// not fit rel8 becomes near, until none changes (growing a jump only
// lengthens the jumps that span it, so this settles on the smallest layout
// where every short jump fits) -- and writes the final code: the bytes
// between jumps copied, each jump and call re-encoded with its final
// displacement, every label moved by what the jumps before it shrank.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "vm/jit/x86/assembler.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::jit {

class Emitter {
 public:
  using Label = uint32_t;

  Emitter() = default;
  // Emits into `buffer`'s storage (see x86::Assembler's constructor).
  explicit Emitter(std::vector<uint8_t> buffer) : a(std::move(buffer)) {}

  x86::Assembler a;

  Label new_label() {
    offsets_.push_back(-1);
    return static_cast<Label>(offsets_.size() - 1);
  }
  void bind(Label l) { offsets_[l] = static_cast<int64_t>(a.size()); }
  void reserve(std::size_t labels, std::size_t branches) {
    offsets_.reserve(labels);
    branches_.reserve(branches);
  }

  void jcc(x86::Cond cc, Label l) { branch(Branch::Kind::Jcc, cc, l); }
  void jmp(Label l) { branch(Branch::Kind::Jmp, x86::Cond::e, l); }
  void call(Label l) { branch(Branch::Kind::Call, x86::Cond::e, l); }

  struct Laid {
    std::vector<uint8_t> code;
    std::vector<int64_t> labels;  // final offset of each label, -1 if never bound
    std::vector<uint8_t> spare;   // the emission buffer, for reuse
  };
  // Relaxes the jumps and returns the final code (written into `into`'s
  // storage), or the assembler's first error, or an error if a jump targets
  // a label never bound.
  Result<Laid> finish(std::vector<uint8_t> into = {}) &&;

 private:
  struct Branch {
    enum class Kind : uint8_t { Jcc, Jmp, Call };
    uint32_t site;  // offset of its near form in a.code()
    Label target;
    Kind kind;
    x86::Cond cc;
  };
  void branch(Branch::Kind kind, x86::Cond cc, Label l);

  std::vector<int64_t> offsets_;  // in a.code(), where every jump is near
  std::vector<Branch> branches_;  // in emission order, so by site
};

}  // namespace bpfdiff::jit
