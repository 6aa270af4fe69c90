#include "fuzz/loop_free.hpp"

#include <algorithm>
#include <vector>

#include "fuzz/generator.hpp"
#include "fuzz/values.hpp"
#include "vm/isa/encode.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {
namespace {

// The ALU, byte-order and jump forms, in table order.
const std::vector<isa::Form>& pure_forms() {
  static const std::vector<isa::Form> forms = [] {
    std::vector<isa::Form> out;
    for (const isa::FormInfo& fi : isa::all_forms()) {
      const isa::Family f = fi.sem.family;
      if (f == isa::Family::Alu || f == isa::Family::Endian || f == isa::Family::Jump) out.push_back(fi.form);
    }
    return out;
  }();
  return forms;
}

uint8_t pick_register(ByteSource& src, isa::RegRule rule) {
  switch (rule) {
    case isa::RegRule::Zero:
      return 0;
    case isa::RegRule::Readable:
      return static_cast<uint8_t>(src.below(11));  // r10 too: its value is an address, a fine operand
    case isa::RegRule::Writable:
      return static_cast<uint8_t>(src.below(10));
  }
  return 0;
}

// Body instruction `i` of `n`: a jump may land anywhere after itself up to
// the exit that follows the body (index n).
isa::RawInsn body_insn(ByteSource& src, std::size_t i, std::size_t n) {
  const isa::Form form = src.pick(std::span<const isa::Form>(pure_forms()));
  const isa::FormInfo& fi = isa::info(form);
  const uint8_t dst = pick_register(src, fi.rules.dst);
  const uint8_t reg = fi.disc == isa::Disc::Src ? 0 : pick_register(src, fi.rules.src);
  int32_t imm = fi.rules.imm == isa::ValueRule::Any ? draw_imm(src) : 0;
  int16_t off = 0;
  if (fi.sem.family == isa::Family::Jump) {
    // Lands at i + 1 + forward, at most n.
    const auto forward = static_cast<int32_t>(src.range(0, static_cast<int64_t>(n - 1 - i)));
    if (fi.syntax == isa::Syntax::LongOffset) {
      imm = forward;
    } else {
      off = static_cast<int16_t>(forward);
    }
  }
  return isa::encode(form, dst, reg, off, imm);
}

}  // namespace

LoopFreeCase generate_loop_free(ByteSource& src, std::size_t max_body) {
  LoopFreeCase c;
  std::vector<isa::RawInsn>& slots = c.program.slots;
  for (uint8_t r = 0; r < 10; ++r) {
    const auto pair = isa::encode_lddw_imm64(r, draw_value(src));
    slots.push_back(pair[0]);
    slots.push_back(pair[1]);
  }
  const std::size_t n = src.range(1, static_cast<int64_t>(std::min(max_body, kMaxLoopFreeBody)));
  // n body instructions then exit: the body's jumps count in instructions,
  // and all of them are one slot, so a forward distance is also an offset.
  for (std::size_t i = 0; i < n; ++i)
    slots.push_back(body_insn(src, i, n));
  slots.push_back(isa::encode(isa::Form::exit));

  c.input.memory.resize(src.below(17));
  for (uint8_t& b : c.input.memory)
    b = src.byte();
  c.input.limits.instruction_budget = kGeneratedInstructionBudget;
  if (src.chance(0.1)) c.input.limits.instruction_budget = static_cast<uint64_t>(src.range(1, 10 + n));
  return c;
}

}  // namespace bpfdiff::fuzz
