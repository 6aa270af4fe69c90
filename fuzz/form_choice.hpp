#pragma once
// Building blocks both program generators (generator.hpp, kernel_friendly.hpp)
// choose and emit with: the forms of an ISA version that a mode emits, the
// conditional jumps among them, the count-down loop (its counter, its
// initialisation, its back edge), a conditional jump's second operand,
// forward labels placed a few steps later, and in-bounds offsets.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/program_builder.hpp"
#include "fuzz/values.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {

// Whether `form` exists in `version` (its info(form).version is not later).
bool form_in_version(isa::Form form, isa::IsaVersion version);

// The forms of `version` for which `emits` holds, in table order.
std::vector<isa::Form> forms_of_version(isa::IsaVersion version, bool (*emits)(isa::Form));

struct BranchForms {
  std::vector<isa::Form> cond_jumps;  // every conditional jump among the forms
  // The immediate ones (ne, gt, sgt, ge, sge in either width) that close a
  // count-down loop: taken while the counter is still positive.
  std::vector<isa::Form> loop_closers;
};
BranchForms branch_forms(std::span<const isa::Form> forms);

// The count-down loop's counter: one of r6..r9 (calls preserve them, so a
// call in the body cannot clobber it) for which `usable` holds, starting at a
// random one; nothing when none is.
template <class Usable>
std::optional<uint8_t> pick_loop_counter(ByteSource& src, Usable&& usable) {
  auto r = static_cast<uint8_t>(6 + src.below(4));
  for (int i = 0; i < 4 && !usable(r); ++i)
    r = static_cast<uint8_t>(6 + (r - 6 + 1) % 4);
  if (!usable(r)) return std::nullopt;
  return r;
}

// How the counter is set: mov32 now and then where the version has it, else mov.
isa::Form loop_counter_init(ByteSource& src, isa::IsaVersion version);

// The back edge: the counter decremented (sub 1 or add -1, 64 or 32 bits),
// then a closer from `loop_closers` jumping to `head` while it is positive.
void emit_loop_back_edge(ProgramBuilder& b, ByteSource& src, std::span<const isa::Form> loop_closers,
                         uint8_t counter, ProgramBuilder::Label head);

// The second operand of a conditional jump: a register from `draw_reg` for
// the register forms, an immediate from draw_imm for the others.
struct JumpOperand {
  uint8_t reg = 0;
  int32_t imm = 0;
};
template <class DrawReg>
JumpOperand draw_jump_operand(ByteSource& src, isa::Form form, DrawReg&& draw_reg) {
  if (isa::info(form).sem.source == isa::Source::Reg) return {draw_reg(), 0};
  return {0, draw_imm(src)};
}

// Where an access goes: [base + off].
struct MemRef {
  uint8_t base;
  int16_t off;
};

// An offset in [lo, hi] (lo aligned): a multiple of `n` from lo when
// `aligned`, else any; lo when the range is empty.
int64_t draw_offset(ByteSource& src, int64_t lo, int64_t hi, unsigned n, bool aligned);

// Forward jumps waiting for their label: each is placed after a number of
// steps at the nesting depth it was made in, or when that depth ends.
// `Extra` rides along (the kernel-friendly generator keeps the register
// state the jump leaves, to meet it with the state at the label).
template <class Extra = std::monostate>
class ForwardLabels {
 public:
  struct Entry {
    ProgramBuilder::Label label;
    uint32_t steps_left;
    int depth;
    Extra extra;
  };

  void add(ProgramBuilder::Label label, uint32_t steps, int depth, Extra extra = {}) {
    entries_.push_back({label, steps, depth, std::move(extra)});
  }

  // One step done at `depth`: place(entry) for each label now due, in order.
  template <class Place>
  void tick(int depth, Place&& place) {
    take_if([depth](Entry& e) { return e.depth == depth && --e.steps_left == 0; }, place);
  }

  // `depth` ends: place(entry) for each of its labels.
  template <class Place>
  void flush(int depth, Place&& place) {
    take_if([depth](const Entry& e) { return e.depth == depth; }, place);
  }

 private:
  template <class Due, class Place>
  void take_if(Due&& due, Place& place) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (due(*it)) {
        place(*it);
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::vector<Entry> entries_;
};

}  // namespace bpfdiff::fuzz
