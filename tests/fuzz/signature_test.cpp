// Signatures: what deduplicates findings. A planted bug (tests/fuzz/
// planted_engine.hpp) gives a divergence whose signature must name the
// engines, the field and the form of the wrong instruction, whatever else the
// program does.
#include "fuzz/signature.hpp"

#include <gtest/gtest.h>

#include "fuzz/differential.hpp"
#include "fuzz/program_edit.hpp"
#include "oracle/interp_engine.hpp"
#include "planted_engine.hpp"
#include "vm/isa/encode.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::encode;
using isa::Form;

vm::Program program_of(std::vector<isa::RawInsn> slots) {
  vm::Program p;
  p.slots = std::move(slots);
  return p;
}

oracle::EngineInput input_with_budget(uint64_t budget) {
  oracle::EngineInput in;
  in.limits.instruction_budget = budget;
  return in;
}

// r0 = -1 (low half signed negative, unsigned huge); jsgt32 r0, r3 (= 0) is
// not taken when signed, taken when (wrongly) unsigned.
vm::Program signed_compare_program() {
  return program_of({encode(Form::mov_imm, 3, 0, 0, 0), encode(Form::mov_imm, 0, 0, 0, -1),
                     encode(Form::add_imm, 4, 0, 0, 7), encode(Form::jsgt32_reg, 0, 3, 1),
                     encode(Form::mov_imm, 0, 0, 0, 5), encode(Form::exit)});
}

TEST(Signature, FieldsDropIndexesButKeepRegisterNumbers) {
  EXPECT_EQ(normalize_field("memory[12]"), "memory");
  EXPECT_EQ(normalize_field("stack[500]"), "stack");
  EXPECT_EQ(normalize_field("helper_calls[0]"), "helper_calls");
  EXPECT_EQ(normalize_field("r3"), "r3");
  EXPECT_EQ(normalize_field("error.kind"), "error.kind");
}

TEST(Signature, TitleAndKeyNameEnginesFieldAndForm) {
  const Signature s{"interp", "jit+blind", "r0", "add32_imm", 7};
  EXPECT_EQ(s.title(), "divergence interp vs jit+blind: r0 at add32_imm");
  EXPECT_EQ(s.key(), "interp-vs-jit+blind.r0.add32_imm");
}

TEST(Signature, TitlesParseBackWithoutThePc) {
  const Signature s{"interp", "jit-bmi2", "error.kind", "ldxdw", 3};
  const auto parsed = parse_divergence_title(s.title());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, s);
  EXPECT_FALSE(parsed->pc);
  EXPECT_FALSE(parse_divergence_title("interp: budget overrun"));
  EXPECT_FALSE(parse_divergence_title("divergence interp vs : r0 at x"));
}

TEST(Signature, EqualityIgnoresThePc) {
  EXPECT_EQ((Signature{"a", "b", "r0", "exit", 1}), (Signature{"a", "b", "r0", "exit", 9}));
  EXPECT_NE((Signature{"a", "b", "r0", "exit", 1}), (Signature{"a", "b", "r1", "exit", 1}));
}

TEST(Signature, APlantedBugIsNamedByTheFormOfTheWrongInstruction) {
  oracle::InterpEngine interp(oracle::default_helpers());
  testing::PlantedEngine planted(Form::jsgt32_reg, Form::jgt32_reg);
  const auto s = divergence_signature(signed_compare_program(), input_with_budget(100), interp, planted);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->reference, "interp");
  EXPECT_EQ(s->engine, "planted");
  EXPECT_EQ(s->field, "next_pc");  // the jump went the other way
  EXPECT_EQ(s->form, "jsgt32_reg");
  EXPECT_EQ(s->pc, 3u);
}

TEST(Signature, EnginesThatAgreeHaveNoSignature) {
  oracle::InterpEngine interp(oracle::default_helpers());
  testing::PlantedEngine planted(Form::jsgt32_reg, Form::jgt32_reg);
  // Both operands non-negative: signed and unsigned agree.
  vm::Program p = signed_compare_program();
  p.slots[1].imm = 1;
  EXPECT_FALSE(divergence_signature(p, input_with_budget(100), interp, planted));
}

TEST(Signature, ARejectionDiffersBeforeExecution) {
  oracle::InterpEngine interp(oracle::default_helpers());
  // The planted engine turns exit into an unknown opcode: it rejects what interp runs.
  class Rejecting final : public oracle::Engine {
   public:
    Rejecting() : Engine(oracle::default_helpers()) {}
    std::string_view name() const override { return "rejecting"; }

   protected:
    Result<std::unique_ptr<oracle::Executor>> prepare_with(const vm::Program&, const vm::ExecLimits&,
                                                           const vm::HelperRegistry&) override {
      return make_error("rejected");
    }
  } rejecting;
  const auto s = divergence_signature(signed_compare_program(), input_with_budget(100), interp, rejecting);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->field, "load");
  EXPECT_EQ(s->form, kBeforeExecution);
}

TEST(Signature, FirstSignatureTakesTheFirstEngineThatDisagrees) {
  oracle::InterpEngine interp(oracle::default_helpers());
  oracle::InterpEngine same(oracle::default_helpers());
  testing::PlantedEngine planted(Form::jsgt32_reg, Form::jgt32_reg);
  const auto s = first_signature(signed_compare_program(), input_with_budget(100), interp, {&same, &planted});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->engine, "planted");
}

TEST(Signature, TheRealEnginesAgreeOnTheExampleProgram) {
  EXPECT_FALSE(find_signature(signed_compare_program(), input_with_budget(100)));
}

TEST(Signature, SplittingGivesEveryStraightLineInstructionItsOwnBlock) {
  const auto lddw = isa::encode_lddw_imm64(2, 0x1'0000'0001);
  const vm::Program p = program_of({encode(Form::mov_imm, 0, 0, 0, 1), lddw[0], lddw[1],
                                    encode(Form::jeq_imm, 0, 0, 1, 1), encode(Form::add_imm, 0, 0, 0, 2),
                                    encode(Form::add32_imm, 0, 0, 0, 3), encode(Form::exit)});
  const auto split = split_into_single_instruction_blocks(p);
  ASSERT_TRUE(split);
  // mov, ja, lddw(2), ja, jeq, add, ja, add32, ja, exit
  ASSERT_EQ(split->program.slots.size(), 11u);
  EXPECT_EQ(split->origin[1], kInsertedSlot);
  EXPECT_EQ(split->origin[2], 1u);
  EXPECT_EQ(split->program.slots[5].off, 2);  // jeq still reaches add32 (now at 8)
  auto loaded = vm::validate(split->program, oracle::default_helpers());
  ASSERT_TRUE(loaded) << loaded.error().message;
  const jit::BlockInfo blocks = jit::analyse_blocks(*loaded);
  for (std::size_t pc = 0; pc < loaded->insns.size(); ++pc) {
    if (blocks.leader[pc]) {
      EXPECT_LE(blocks.block_length[pc], 2u) << "block at " << pc;
    }
  }
  // Same behaviour: the inserted jumps only cost instructions.
  oracle::InterpEngine interp(oracle::default_helpers());
  const oracle::Outcome a = interp.run(p, input_with_budget(100));
  const oracle::Outcome b = interp.run(split->program, input_with_budget(100));
  EXPECT_EQ(a.regs, b.regs);
}

}  // namespace
}  // namespace bpfdiff::fuzz
