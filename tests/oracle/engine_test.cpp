#include "oracle/engine.hpp"

#include <gtest/gtest.h>

#include "oracle/shared_validation.hpp"

#include "vm/isa/encode.hpp"

namespace bpfdiff::oracle {
namespace {

using isa::encode;
using isa::Form;

uint64_t add_args(vm::HelperCall& call) {
  return call.args[0] + call.args[1];
}

vm::Program program(std::vector<isa::RawInsn> slots) {
  vm::Program p;
  p.slots = std::move(slots);
  return p;
}

TEST(Engines, EveryListedEngineIsConstructible) {
  for (const std::string& name : engine_names()) {
    auto e = make_engine(name);
    ASSERT_TRUE(e.ok()) << name << ": " << e.error().message;
    EXPECT_EQ((*e)->name(), name);
  }
}

TEST(Engines, UnknownEngineNamesTheAvailableOnes) {
  auto e = make_engine("nope");
  ASSERT_FALSE(e.ok());
  // Kernel engines follow ours in the list (more may follow them).
  EXPECT_EQ(e.error().message.rfind("unknown engine 'nope' (available: interp, jit, jit-bmi2, jit+blind, "
                                    "jit+blind-bmi2, smt, kernel-host",
                                    0),
            0u)
      << e.error().message;
}

// Smoke test: each engine really runs a program and reports full state.
TEST(Engines, EachEngineRunsAndReportsFullState) {
  // stxb [r1+1], 0x7f; mov r3, 3; mov r0, 42; exit
  const auto p = program({encode(Form::stb, 1, 0, 1, 0x7f), encode(Form::mov_imm, 3, 0, 0, 3),
                          encode(Form::mov_imm, 0, 0, 0, 42), encode(Form::exit)});
  EngineInput in;
  in.memory = {0, 0, 0};
  for (const std::string& name : engine_names()) {
    auto e = make_engine(name);
    ASSERT_TRUE(e.ok());
    const Outcome o = (*e)->run(p, in);
    ASSERT_TRUE(o.ok()) << name;
    EXPECT_EQ(o.engine, name);
    EXPECT_EQ(o.regs[0], 42u);
    EXPECT_EQ(o.regs[3], 3u);
    EXPECT_EQ(o.memory, (std::vector<uint8_t>{0, 0x7f, 0}));
    EXPECT_EQ(o.instructions, 4u);
    EXPECT_EQ(o.stack.size(), in.limits.max_call_depth * vm::kStackFrameBytes);
    EXPECT_EQ(in.memory, (std::vector<uint8_t>{0, 0, 0})) << "the caller's input is never modified";
  }
}

TEST(Engines, RejectedProgramIsAnOutcomeNotACrash) {
  auto e = make_engine("interp");
  ASSERT_TRUE(e.ok());
  const Outcome o = (*e)->run(program({isa::RawInsn{0xff, 0, 0, 0, 0}}), {});
  EXPECT_FALSE(o.loaded);
  EXPECT_EQ(o.load_error, "pc 0: opcode: unknown opcode 0xff");
}

TEST(Engines, HelperCallsAreRecordedWithArgumentsAndResult) {
  vm::HelperRegistry helpers;
  helpers.add({7, "add_args", &add_args, nullptr});
  auto e = make_engine("interp", helpers);
  ASSERT_TRUE(e.ok());
  const auto p = program({encode(Form::mov_imm, 1, 0, 0, 40), encode(Form::mov_imm, 2, 0, 0, 2),
                          encode(Form::call_helper, 0, 0, 0, 7), encode(Form::exit)});
  const Outcome o = (*e)->run(p, {});
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o.helper_calls.size(), 1u);
  EXPECT_EQ(o.helper_calls[0].pc, 2u);
  EXPECT_EQ(o.helper_calls[0].helper, 7u);
  EXPECT_EQ(o.helper_calls[0].args[0], 40u);
  EXPECT_EQ(o.helper_calls[0].args[1], 2u);
  EXPECT_EQ(o.helper_calls[0].result, 42u);
  EXPECT_EQ(o.regs[0], 42u);
}

TEST(SharedValidation, EnginesInScopeShareOneValidationOfTheSameProgram) {
  const auto p = program({encode(Form::mov_imm, 0, 0, 0, 1), encode(Form::exit)});
  const vm::HelperRegistry& helpers = default_helpers();
  const SharedValidation share(p);
  auto first = timed_validate(p, helpers);
  EXPECT_EQ(share.reused(), 0u) << "a scope starts with no validation";
  auto second = timed_validate(p, helpers);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(share.reused(), 1u);
  EXPECT_NE(first->program, second->program) << "each engine owns its copy";
  EXPECT_EQ(second->program->insns.size(), first->program->insns.size());
  EXPECT_EQ(second->program->source.slots.size(), 2u);
  EXPECT_EQ(second->ns, first->ns);
  // Another program object, even an equal one, and a registry with other
  // helper ids validate afresh.
  const vm::Program copy = p;
  EXPECT_TRUE(timed_validate(copy, helpers).ok());
  vm::HelperRegistry fewer;
  EXPECT_TRUE(timed_validate(p, fewer).ok());
  EXPECT_EQ(share.reused(), 1u);
}

TEST(SharedValidation, ARejectionIsSharedAndHelperIdsDecide) {
  // call 7: valid only where helper 7 exists.
  const auto p = program({encode(Form::call_helper, 0, 0, 0, 7), encode(Form::exit)});
  vm::HelperRegistry with7;
  with7.add({7, "add_args", &add_args, nullptr});
  const vm::HelperRegistry none;
  const SharedValidation share(p);
  auto rejected = timed_validate(p, none);
  ASSERT_FALSE(rejected.ok());
  auto again = timed_validate(p, none);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(share.reused(), 1u);
  EXPECT_EQ(again.error().message, rejected.error().message);
  EXPECT_TRUE(timed_validate(p, with7).ok())
      << "other helper ids: validated afresh, not the shared rejection";
  EXPECT_EQ(share.reused(), 1u);
}

TEST(SharedValidation, EveryEngineAgreesInsideAScope) {
  const auto p =
      program({encode(Form::stb, 1, 0, 1, 0x7f), encode(Form::mov_imm, 0, 0, 0, 42), encode(Form::exit)});
  EngineInput in;
  in.memory = {0, 0, 0};
  const SharedValidation share(p);
  for (const std::string& name : engine_names()) {
    auto e = make_engine(name);
    ASSERT_TRUE(e.ok());
    const Outcome o = (*e)->run(p, in);
    ASSERT_TRUE(o.ok()) << name;
    EXPECT_EQ(o.regs[0], 42u) << name;
    EXPECT_EQ(o.memory, (std::vector<uint8_t>{0, 0x7f, 0})) << name;
  }
  EXPECT_EQ(share.reused(), engine_names().size() - 1);
}

}  // namespace
}  // namespace bpfdiff::oracle
