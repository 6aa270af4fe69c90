#pragma once
// Editing a program's slots without breaking its control flow. Jumps, local
// calls and `lddw code` hold pc-relative targets, so removing or inserting a
// slot silently retargets every one that crosses it; these edits repair them
// so each still reaches the instruction it reached before -- or, when that
// instruction was removed, the one that now stands where it was. The
// minimizer deletes instructions with them and the signature code inserts
// block breaks with them.
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "vm/isa/raw.hpp"

namespace bpfdiff::fuzz {

// Where a slot keeps its pc-relative target, if it has one: jumps in off
// (gotol in imm), `call local` and `lddw code` in imm.
enum class TargetField : uint8_t { None, Off, Imm };
TargetField target_field(const isa::RawInsn& insn);

// The slot index of every instruction: lddw's second slot is data, not an
// instruction. Slots of unknown opcodes count as one-slot instructions.
std::vector<std::size_t> instruction_starts(std::span<const isa::RawInsn> slots);

// Slots [begin, end) removed. Targets inside the removed range now reach the
// slot that follows it. Nothing when a repaired target does not fit its field.
std::optional<std::vector<isa::RawInsn>> remove_slots(std::span<const isa::RawInsn> slots, std::size_t begin,
                                                      std::size_t end);

// `inserted` placed before slot `at` (at == size appends). Targets keep
// reaching their old instruction, so a jump to `at` skips the inserted slots.
std::optional<std::vector<isa::RawInsn>> insert_slots(std::span<const isa::RawInsn> slots, std::size_t at,
                                                      std::span<const isa::RawInsn> inserted);

// The general edit both are made of: `edited` lists the new program's slots,
// `origin[i]` the old index of edited[i] or kInsertedSlot. Kept slots must
// stay in their old order. Targets of kept slots are re-aimed at the new
// position of their old target (the next kept slot when it was removed);
// inserted slots are taken as they are.
inline constexpr std::size_t kInsertedSlot = ~std::size_t{0};
std::optional<std::vector<isa::RawInsn>> retarget(std::span<const isa::RawInsn> old_slots,
                                                  std::vector<isa::RawInsn> edited,
                                                  std::span<const std::size_t> origin);

}  // namespace bpfdiff::fuzz
