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

 private:
  struct Branch {
    enum class Kind : uint8_t { Jcc, Jmp, Call };
    uint32_t site;  // offset of its near form in a.code()
    Label target;
    Kind kind;
    x86::Cond cc;
  };

 public:
  // Every vector an emission and its relaxation use. A caller that compiles
  // one program after another keeps one Storage, so their capacity is reused
  // instead of allocated afresh per compilation (in the sanitizer builds
  // every fresh allocation is filled and, once freed, quarantined, so new
  // ones keep touching fresh pages).
  struct Storage {
    std::vector<uint8_t> code;      // the emission (every jump near); after finish, for reuse
    std::vector<int64_t> offsets;   // per label, in the emission
    std::vector<Branch> branches;   // in emission order, so by site
    std::vector<int64_t> labels;    // after finish: final offset per label, -1 if never bound
    std::vector<uint32_t> sites;    // relaxation: branch sites,
    std::vector<uint32_t> rank;     // branches before each label,
    std::vector<uint8_t> is_short;  // which branches are short,
    std::vector<int64_t> saved;     // bytes the short ones before each branch save
    std::vector<uint8_t> encoded;   // the final form of every branch
  };

  // Emits into `storage` (which must outlive the Emitter), starting empty.
  explicit Emitter(Storage& storage);
  Emitter(const Emitter&) = delete;
  Emitter& operator=(const Emitter&) = delete;

  x86::Assembler a;

  Label new_label() {
    s_.offsets.push_back(-1);
    return static_cast<Label>(s_.offsets.size() - 1);
  }
  void bind(Label l) { s_.offsets[l] = static_cast<int64_t>(a.size()); }
  void reserve(std::size_t labels, std::size_t branches) {
    s_.offsets.reserve(labels);
    s_.branches.reserve(branches);
  }

  void jcc(x86::Cond cc, Label l) { branch(Branch::Kind::Jcc, cc, l); }
  void jmp(Label l) { branch(Branch::Kind::Jmp, x86::Cond::e, l); }
  void call(Label l) { branch(Branch::Kind::Call, x86::Cond::e, l); }

  // Relaxes the jumps and returns the final code (written into `into`'s
  // storage), or the assembler's first error, or an error if a jump targets
  // a label never bound. The final offset of each label is then in the
  // storage's `labels`, and the emission buffer back in its `code`.
  Result<std::vector<uint8_t>> finish(std::vector<uint8_t> into = {}) &&;

 private:
  void branch(Branch::Kind kind, x86::Cond cc, Label l);

  Storage& s_;
};

}  // namespace bpfdiff::jit
