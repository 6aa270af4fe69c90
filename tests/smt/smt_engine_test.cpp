// The smt engine: runs loop-free ALU/JMP programs on the model with the full
// observable state the interpreter reports, and refuses everything else with
// a message that says so.
#include "oracle/smt/smt_engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "oracle/compare.hpp"
#include "oracle/smt/bpf_model.hpp"
#include "vm/isa/encode.hpp"

namespace bpfdiff::oracle {
namespace {

using isa::encode;
using isa::Form;

vm::Program program(std::vector<isa::RawInsn> slots) {
  vm::Program p;
  p.slots = std::move(slots);
  return p;
}

void append_lddw(std::vector<isa::RawInsn>& slots, uint8_t reg, uint64_t value) {
  const auto pair = isa::encode_lddw_imm64(reg, value);
  slots.push_back(pair[0]);
  slots.push_back(pair[1]);
}

Outcome run_on(const std::string& engine, const vm::Program& p, const EngineInput& in = {}) {
  auto e = make_engine(engine);
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  if (!e.ok()) return {};
  return (*e)->run(p, in);
}

// Full-state agreement with the interpreter, every field.
void expect_same_as_interp(const vm::Program& p, const EngineInput& in, const std::string& what) {
  const Outcome interp = run_on("interp", p, in);
  const Outcome smt = run_on("smt", p, in);
  ASSERT_TRUE(smt.loaded) << what << ": " << smt.load_error;
  const auto diffs = compare(interp, smt, CompareRules::everything());
  for (const Difference& d : diffs)
    ADD_FAILURE() << what << ": " << to_string(d);
}

TEST(SmtEngine, IsMadeByNameButIsNotAnEngineEveryFuzzerIterates) {
  auto e = make_engine("smt");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ((*e)->name(), "smt");
  const auto names = engine_names();
  EXPECT_EQ(std::find(names.begin(), names.end(), "smt"), names.end());
  const auto all = all_engine_names();
  EXPECT_NE(std::find(all.begin(), all.end(), "smt"), all.end());
}

TEST(SmtEngine, RunsAStraightLineProgram) {
  // mov r1, 5; add r1, 3; lsh r1, 60; mov r0, r1; arsh r0, 62; exit
  const auto p = program({encode(Form::mov_imm, 1, 0, 0, 5), encode(Form::add_imm, 1, 0, 0, 3),
                          encode(Form::lsh_imm, 1, 0, 0, 60), encode(Form::mov_reg, 0, 1),
                          encode(Form::arsh_imm, 0, 0, 0, 62), encode(Form::exit)});
  const Outcome o = run_on("smt", p);
  ASSERT_TRUE(o.ok()) << o.load_error;
  EXPECT_EQ(o.regs[1], uint64_t{8} << 60);
  EXPECT_EQ(o.regs[0], ~uint64_t{0} - 1);  // -2^63 >> 62 arithmetic is -2
  EXPECT_EQ(o.instructions, 6u);
  expect_same_as_interp(p, {}, "straight line");
}

TEST(SmtEngine, FollowsForwardJumpsBothWays) {
  for (uint64_t x : {uint64_t{0}, uint64_t{7}, ~uint64_t{0}}) {
    std::vector<isa::RawInsn> slots;
    append_lddw(slots, 1, x);
    // if r1 s> 3 goto +2; mov r0, 1; exit; mov r0, 2; exit
    slots.push_back(encode(Form::jsgt_imm, 1, 0, 2, 3));
    slots.push_back(encode(Form::mov_imm, 0, 0, 0, 1));
    slots.push_back(encode(Form::exit));
    slots.push_back(encode(Form::mov_imm, 0, 0, 0, 2));
    slots.push_back(encode(Form::exit));
    const Outcome o = run_on("smt", program(slots));
    ASSERT_TRUE(o.ok()) << o.load_error;
    EXPECT_EQ(o.regs[0], x == 7 ? 2u : 1u) << x;
    expect_same_as_interp(program(slots), {}, "jsgt");
  }
}

TEST(SmtEngine, StartsFromTheInterpretersRegistersAndStack) {
  const auto p = program({encode(Form::mov_reg, 0, 1), encode(Form::exit)});
  EngineInput in;
  in.memory = {1, 2, 3, 4, 5};
  const Outcome o = run_on("smt", p, in);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.regs[2], 5u);
  EXPECT_EQ(o.memory, in.memory);
  expect_same_as_interp(p, in, "memory mode");
  in.mode = vm::RunMode::NoData;
  expect_same_as_interp(p, in, "no data");
}

TEST(SmtEngine, StopsAtTheSamePcAsTheInterpreterWhenTheBudgetRunsOut) {
  const auto p = program({encode(Form::mov_imm, 0, 0, 0, 1), encode(Form::add_imm, 0, 0, 0, 1),
                          encode(Form::add_imm, 0, 0, 0, 1), encode(Form::exit)});
  EngineInput in;
  in.limits.instruction_budget = 2;
  const Outcome o = run_on("smt", p, in);
  ASSERT_TRUE(o.loaded);
  EXPECT_EQ(o.error.kind, vm::ErrorKind::BudgetExhausted);
  EXPECT_EQ(o.error.pc, 2u);
  expect_same_as_interp(p, in, "budget");
}

// Every modelled form on boundary operands, as `lddw r1, A; lddw r2, B;
// insn; exit` (jumps: taken or not shows in r0), agrees with the interpreter.
TEST(SmtEngine, EveryModelledFormAgreesWithTheInterpreterOnBoundaryValues) {
  const std::array<uint64_t, 9> values = {0, 1, 31, 32, 63, 64, uint64_t{1} << 63, ~uint64_t{0}, 0x80000000};
  const std::array<int32_t, 5> imms = {0, 1, -1, 32, INT32_MIN};
  for (Form f : smt::covered_forms()) {
    const isa::FormInfo& fi = isa::info(f);
    const bool jump = fi.sem.family == isa::Family::Jump;
    const bool long_jump = fi.syntax == isa::Syntax::LongOffset;
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::vector<isa::RawInsn> slots;
      append_lddw(slots, 1, values[i]);
      append_lddw(slots, 2, values[(i * 5 + 3) % values.size()]);
      const int32_t imm = fi.rules.imm == isa::ValueRule::Any ? imms[i % imms.size()] : 0;
      if (jump) {
        slots.push_back(encode(f, fi.rules.dst == isa::RegRule::Zero ? 0 : 1,
                               fi.sem.source == isa::Source::Reg ? 2 : 0, long_jump ? 0 : 1,
                               long_jump ? 1 : imm));
        slots.push_back(encode(Form::mov_imm, 0, 0, 0, 1));
      } else {
        slots.push_back(encode(f, 1, fi.rules.src == isa::RegRule::Zero ? 0 : 2, 0, imm));
      }
      slots.push_back(encode(Form::exit));
      expect_same_as_interp(program(slots), {}, std::string(fi.name) + " #" + std::to_string(i));
    }
  }
}

TEST(SmtEngine, RejectsMemoryCallsLoopsAndAddressesAsUnsupported) {
  struct Case {
    std::vector<isa::RawInsn> slots;
    std::string message;
  };
  std::vector<isa::RawInsn> with_code_addr;
  const auto code = isa::encode_lddw(Form::lddw_code, 1, 2, 0);  // the function at pc 3
  with_code_addr = {code[0], code[1], encode(Form::exit), encode(Form::exit)};
  const std::vector<Case> cases = {
      {{encode(Form::ldxw, 0, 10, -4), encode(Form::exit)},
       "unsupported by smt: pc 0: ldxw (load) (the smt engine runs loop-free ALU, byte-order and jump "
       "programs "
       "without memory or calls)"},
      {{encode(Form::stw, 10, 0, -4, 1), encode(Form::exit)}, "unsupported by smt: pc 0: stw (store-imm)"},
      {{encode(Form::call_local, 0, 0, 0, 1), encode(Form::exit), encode(Form::exit)},
       "unsupported by smt: pc 0: call local (call)"},
      {{encode(Form::mov_imm, 0, 0, 0, 3), encode(Form::sub_imm, 0, 0, 0, 1),
        encode(Form::jne_imm, 0, 0, -2, 0), encode(Form::exit)},
       "unsupported by smt: pc 2: backward jump to pc 1"},
      {with_code_addr, "unsupported by smt: pc 0: lddw of an address or map"},
  };
  for (const Case& c : cases) {
    const Outcome o = run_on("smt", program(c.slots));
    EXPECT_FALSE(o.loaded);
    EXPECT_EQ(o.load_error.rfind(c.message, 0), 0u) << o.load_error;
  }
}

TEST(SmtEngine, InvalidProgramsFailValidationFirst) {
  const Outcome o = run_on("smt", program({isa::RawInsn{0xff, 0, 0, 0, 0}}));
  EXPECT_FALSE(o.loaded);
  EXPECT_EQ(o.load_error, "pc 0: opcode: unknown opcode 0xff");
}

}  // namespace
}  // namespace bpfdiff::oracle
