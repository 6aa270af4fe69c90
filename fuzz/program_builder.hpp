#pragma once
// Slots with symbolic targets: generators emit jumps, calls and `lddw code`
// against labels and place the labels later; finish() patches every offset.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vm/isa/encode.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {

class ProgramBuilder {
 public:
  using Label = uint32_t;

  std::size_t size() const { return slots_.size(); }

  Label new_label();
  // Binds `label` to the next slot emitted.
  void place(Label label);
  bool placed(Label label) const { return positions_[label] != kUnplaced; }

  void emit(const isa::RawInsn& insn) { slots_.push_back(insn); }
  void emit(const std::array<isa::RawInsn, 2>& lddw) {
    slots_.push_back(lddw[0]);
    slots_.push_back(lddw[1]);
  }
  void emit_lddw(uint8_t dst, uint64_t value) { emit(isa::encode_lddw_imm64(dst, value)); }

  // `dst = r10 + off`, a frame address: mov, then add.
  void emit_frame_address(uint8_t dst, int32_t off) {
    emit(isa::encode(isa::Form::mov_reg, dst, isa::kFramePointer));
    emit(isa::encode(isa::Form::add_imm, dst, 0, 0, off));
  }
  // `call` of helper `id` (Linux numbering).
  void emit_helper_call(uint32_t id) {
    emit(isa::encode(isa::Form::call_helper, 0, 0, 0, static_cast<int32_t>(id)));
  }
  // A jump form (ja, gotol or conditional) to `label`; the target goes into
  // off, or imm for gotol.
  void emit_jump(isa::Form form, uint8_t dst, uint8_t src, int32_t imm, Label label);
  // `call local` to the function starting at `label`.
  void emit_call(Label label);
  // `lddw dst, code(label)`: the address of the function starting at `label`.
  void emit_code_address(uint8_t dst, Label label);

  // Resolves every reference; every referenced label must be placed and every
  // off-relative target must fit in 16 bits (the generators keep jumps short).
  std::vector<isa::RawInsn> finish() &&;

 private:
  static constexpr std::size_t kUnplaced = ~std::size_t{0};
  enum class Field : uint8_t { Off, Imm };
  struct Fixup {
    std::size_t slot;
    Label label;
    Field field;
  };

  std::vector<isa::RawInsn> slots_;
  std::vector<std::size_t> positions_;
  std::vector<Fixup> fixups_;
};

}  // namespace bpfdiff::fuzz
