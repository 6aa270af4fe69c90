// Jump repair: removing or inserting slots keeps every jump, local call and
// `lddw code` on the instruction it reached before.
#include "fuzz/program_edit.hpp"

#include <gtest/gtest.h>

#include "vm/isa/encode.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::encode;
using isa::Form;
using isa::RawInsn;
using Slots = std::vector<RawInsn>;

RawInsn mov(int32_t v) {
  return encode(Form::mov_imm, 0, 0, 0, v);
}

TEST(ProgramEdit, TargetFieldFollowsTheTable) {
  EXPECT_EQ(target_field(encode(Form::ja, 0, 0, 3)), TargetField::Off);
  EXPECT_EQ(target_field(encode(Form::jsgt32_reg, 1, 2, 3)), TargetField::Off);
  EXPECT_EQ(target_field(encode(Form::gotol, 0, 0, 0, 3)), TargetField::Imm);
  EXPECT_EQ(target_field(encode(Form::call_local, 0, 0, 0, 3)), TargetField::Imm);
  EXPECT_EQ(target_field(isa::encode_lddw(Form::lddw_code, 1, 3, 0)[0]), TargetField::Imm);
  EXPECT_EQ(target_field(isa::encode_lddw(Form::lddw, 1, 3, 0)[0]), TargetField::None);
  EXPECT_EQ(target_field(mov(3)), TargetField::None);
  EXPECT_EQ(target_field(RawInsn{0xff, 0, 0, 3, 3}), TargetField::None);
}

TEST(ProgramEdit, InstructionStartsSkipTheSecondSlotOfLddw) {
  const auto lddw = isa::encode_lddw_imm64(1, 0x1234567890);
  const Slots slots = {mov(1), lddw[0], lddw[1], encode(Form::exit)};
  EXPECT_EQ(instruction_starts(slots), (std::vector<std::size_t>{0, 1, 3}));
}

TEST(ProgramEdit, RemovingSlotsBetweenAJumpAndItsTargetShortensTheJump) {
  const Slots slots = {encode(Form::ja, 0, 0, 2), mov(1), mov(2), encode(Form::exit)};
  const auto out = remove_slots(slots, 1, 2);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, (Slots{encode(Form::ja, 0, 0, 1), mov(2), encode(Form::exit)}));
}

TEST(ProgramEdit, AJumpToARemovedSlotLandsOnWhatFollowsIt) {
  const Slots slots = {encode(Form::jeq_imm, 1, 0, 1, 5), mov(1), mov(2), encode(Form::exit)};
  const auto out = remove_slots(slots, 2, 3);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, (Slots{encode(Form::jeq_imm, 1, 0, 1, 5), mov(1), encode(Form::exit)}));
}

TEST(ProgramEdit, BackwardJumpsAcrossTheEditAreRepairedToo) {
  // 0: mov  1: mov  2: mov  3: jne r0, 0, -4 (to 0)  4: exit
  const Slots slots = {mov(1), mov(2), mov(3), encode(Form::jne_imm, 0, 0, -4, 0), encode(Form::exit)};
  const auto out = remove_slots(slots, 1, 2);
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[2], encode(Form::jne_imm, 0, 0, -3, 0));
}

TEST(ProgramEdit, LocalCallsGotolAndCodeAddressesAreRepaired) {
  const auto code = isa::encode_lddw(Form::lddw_code, 2, 4, 0);  // slot 0 -> 0 + 4 + 1 = 5
  const Slots slots = {code[0],
                       code[1],
                       encode(Form::call_local, 0, 0, 0, 2),  // 2 -> 5
                       encode(Form::gotol, 0, 0, 0, 1),       // 3 -> 5
                       mov(7),
                       encode(Form::exit)};
  const auto out = remove_slots(slots, 4, 5);
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[0].imm, 3);  // -> 4, the exit
  EXPECT_EQ((*out)[2].imm, 1);
  EXPECT_EQ((*out)[3].imm, 0);
}

TEST(ProgramEdit, InsertedSlotsAreSkippedByJumpsToTheInsertionPoint) {
  const Slots slots = {encode(Form::ja, 0, 0, 1), mov(1), encode(Form::exit)};
  const Slots more = {mov(5), mov(6)};
  const auto out = insert_slots(slots, 2, more);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, (Slots{encode(Form::ja, 0, 0, 3), mov(1), mov(5), mov(6), encode(Form::exit)}));
}

TEST(ProgramEdit, TheSecondSlotOfLddwIsNeverTakenForAJump) {
  // Its imm is the high half of the value, whatever the first slot is.
  const auto lddw = isa::encode_lddw_imm64(1, 0x0000000500000000);
  const Slots slots = {lddw[0], lddw[1], mov(1), encode(Form::exit)};
  const auto out = remove_slots(slots, 2, 3);
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[1].imm, 5);
}

TEST(ProgramEdit, AnOffsetThatNoLongerFitsFailsTheEdit) {
  Slots slots = {encode(Form::ja, 0, 0, 32767)};
  slots.resize(32769, mov(0));
  slots.push_back(encode(Form::exit));
  const Slots one = {mov(1)};
  EXPECT_FALSE(insert_slots(slots, 1, one));
  EXPECT_TRUE(insert_slots(slots, 32769, one));  // after the target: the jump keeps its length
}

TEST(ProgramEdit, OutOfRangeEditsFail) {
  const Slots slots = {encode(Form::exit)};
  EXPECT_FALSE(remove_slots(slots, 1, 3));
  EXPECT_FALSE(insert_slots(slots, 2, slots));
}

}  // namespace
}  // namespace bpfdiff::fuzz
