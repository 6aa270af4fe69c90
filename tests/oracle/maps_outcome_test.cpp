// Outcomes carry the maps after the run and the trace_printk output; the
// comparison rules name the first differing map entry or message, and every
// engine of ours agrees on a program using maps, helpers and a tail call.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "oracle/compare.hpp"
#include "oracle/engine.hpp"
#include "vm/isa/encode.hpp"

namespace bpfdiff::oracle {
namespace {

using isa::encode;
using isa::Form;

Outcome with_map(uint8_t value_byte, std::vector<std::string> trace = {}) {
  Outcome o;
  o.loaded = true;
  vm::MapSnapshot m;
  m.name = "counts";
  m.type = vm::MapType::Hash;
  m.entries.push_back({{1, 0, 0, 0}, {value_byte, 0}});
  o.maps = {m};
  o.trace = std::move(trace);
  o.maps_observed = true;
  o.trace_observed = true;
  return o;
}

std::vector<std::string> fields(const std::vector<Difference>& diffs) {
  std::vector<std::string> out;
  for (const auto& d : diffs)
    out.push_back(d.field);
  return out;
}

TEST(CompareMaps, FirstDifferingEntryByteIsNamed) {
  EXPECT_TRUE(compare(with_map(3), with_map(3), {}).empty());
  const auto d = compare(with_map(3), with_map(4), {});
  ASSERT_EQ(fields(d), std::vector<std::string>{"maps[0].entries[0].value[0]"});
  EXPECT_EQ(d[0].left, "0x3");
  EXPECT_EQ(d[0].right, "0x4");
  CompareRules no_maps;
  no_maps.maps = false;
  EXPECT_TRUE(compare(with_map(3), with_map(4), no_maps).empty());
}

TEST(CompareMaps, MissingEntriesAreASizeDifference) {
  Outcome b = with_map(3);
  b.maps[0].entries.push_back({{2, 0, 0, 0}, {0, 0}});
  EXPECT_EQ(fields(compare(with_map(3), b, {})), std::vector<std::string>{"maps[0].entries.size"});
}

TEST(CompareTrace, FirstDifferingMessageIsQuoted) {
  const auto d = compare(with_map(1, {"a", "b"}), with_map(1, {"a", "c"}), {});
  ASSERT_EQ(fields(d), std::vector<std::string>{"trace[1]"});
  EXPECT_EQ(d[0].left, "\"b\"");
  EXPECT_EQ(fields(compare(with_map(1, {"a"}), with_map(1, {}), {})), std::vector<std::string>{"trace.size"});
  CompareRules no_trace;
  no_trace.trace = false;
  EXPECT_TRUE(compare(with_map(1, {"a"}), with_map(1, {}), no_trace).empty());
}

TEST(CompareMaps, WhatOneEngineCannotObserveIsNotADifference) {
  Outcome blind = with_map(9, {"x"});
  blind.maps_observed = false;
  blind.trace_observed = false;
  EXPECT_TRUE(compare(with_map(3), blind, {}).empty());
}

TEST(CompareMetadata, IsPartOfTheMemoryRule) {
  Outcome a = with_map(1), b = with_map(1);
  a.metadata = {1, 2};
  b.metadata = {1, 3};
  EXPECT_EQ(fields(compare(a, b, {})), std::vector<std::string>{"metadata[1]"});
}

// counter: value = lookup(array map, key 0); *value += 1; printk("%d", *value);
// then tail_call into slot 18, which returns *value * 10.
vm::Program counter_program() {
  std::vector<isa::RawInsn> s;
  auto add = [&](isa::RawInsn i) { s.push_back(i); };
  auto add2 = [&](std::array<isa::RawInsn, 2> p) {
    s.push_back(p[0]);
    s.push_back(p[1]);
  };
  add(encode(Form::stw, 10, 0, -4, 0));                       // 0
  add2(isa::encode_lddw(Form::lddw_map_idx, 1, 0, 0));        // 1, 2
  add(encode(Form::mov_reg, 2, 10));                          // 3
  add(encode(Form::add_imm, 2, 0, 0, -4));                    // 4
  add(encode(Form::call_helper, 0, 0, 0, 1));                 // 5
  add(encode(Form::jeq_imm, 0, 0, 12, 0));                    // 6: no value -> exit
  add(encode(Form::mov_reg, 6, 0));                           // 7
  add(encode(Form::ldxdw, 3, 6, 0));                          // 8
  add(encode(Form::add_imm, 3, 0, 0, 1));                     // 9
  add(encode(Form::stxdw, 6, 3, 0));                          // 10
  add2(isa::encode_lddw(Form::lddw_map_idx_value, 1, 1, 0));  // 11, 12: "%d\0" in .rodata
  add(encode(Form::mov_imm, 2, 0, 0, 3));                     // 13
  add(encode(Form::call_helper, 0, 0, 0, 6));                 // 14
  add2(isa::encode_lddw(Form::lddw_map_idx, 2, 2, 0));        // 15, 16
  add(encode(Form::mov_imm, 3, 0, 0, 0));                     // 17
  add(encode(Form::call_helper, 0, 0, 0, 12));                // 18
  add(encode(Form::exit));                                    // 19
  add(encode(Form::ldxdw, 0, 6, 0));                          // 20: the tail-call target
  add(encode(Form::mul_imm, 0, 0, 0, 10));                    // 21
  add(encode(Form::exit));                                    // 22
  vm::Program p;
  p.slots = std::move(s);
  vm::MapDef counts;
  counts.name = "counts";
  counts.type = vm::MapType::Array;
  counts.value_size = 8;
  counts.max_entries = 1;
  vm::MapDef rodata = counts;
  rodata.name = ".rodata";
  rodata.value_size = 3;
  rodata.initial_values = {'%', 'd', 0};
  rodata.read_only = true;
  vm::MapDef jmp = counts;
  jmp.name = "jmp";
  jmp.type = vm::MapType::ProgArray;
  jmp.value_size = 4;
  jmp.prog_entries = {{0, 20}};
  p.maps = {counts, rodata, jmp};
  return p;
}

TEST(EngineOutcome, CarriesMapsAndTraceAndStartsFromInitialMaps) {
  auto e = make_engine("interp");
  ASSERT_TRUE(e.ok());
  const vm::Program p = counter_program();
  for (int run = 0; run < 2; ++run) {  // each Engine::run starts from the initial contents
    const Outcome o = (*e)->run(p, {});
    ASSERT_TRUE(o.ok()) << o.load_error << vm::describe(o.error);
    EXPECT_EQ(o.regs[0], 10u);
    EXPECT_TRUE(o.maps_observed && o.trace_observed);
    EXPECT_EQ(o.trace, std::vector<std::string>{"1"});
    ASSERT_EQ(o.maps.size(), 3u);
    EXPECT_EQ(o.maps[0].entries[0].value, (std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 0}));
  }
}

TEST(EngineOutcome, EveryEngineAgreesOnMapsHelpersAndTailCalls) {
  auto reference = make_engine("interp");
  ASSERT_TRUE(reference.ok());
  const vm::Program p = counter_program();
  const Outcome want = (*reference)->run(p, {});
  for (const std::string& name : engine_names()) {
    auto e = make_engine(name);
    ASSERT_TRUE(e.ok()) << name;
    const Outcome got = (*e)->run(p, {});
    const auto diffs = compare(want, got, CompareRules::everything());
    EXPECT_TRUE(diffs.empty()) << name << ": " << to_string(diffs.front());
  }
}

TEST(EngineOutcome, RerunsCarryTheMapsUntilTheyAreResetOnEveryEngine) {
  const vm::Program p = counter_program();
  const Engine::LaterRun reruns[] = {
      {Engine::Rerun::Carry, {}}, {Engine::Rerun::ResetMaps, {}}, {Engine::Rerun::Carry, {}}};
  for (const std::string& name : engine_names()) {
    auto e = make_engine(name);
    ASSERT_TRUE(e.ok()) << name;
    const std::vector<Outcome> runs = (*e)->run_repeatedly(p, {}, reruns);
    ASSERT_EQ(runs.size(), 4u) << name;
    // The counter the program increments (r0 = counter * 10): 1, 2, then 1
    // again after the reset, and 2 after a carried run.
    const uint64_t want[] = {1, 2, 1, 2};
    for (std::size_t i = 0; i < runs.size(); ++i) {
      ASSERT_TRUE(runs[i].ok()) << name << " run " << i << ": " << vm::describe(runs[i].error);
      EXPECT_EQ(runs[i].regs[0], 10 * want[i]) << name << " run " << i;
      ASSERT_EQ(runs[i].maps.size(), 3u);
      EXPECT_EQ(runs[i].maps[0].entries[0].value[0], want[i]) << name << " run " << i;
      EXPECT_EQ(runs[i].trace, std::vector<std::string>{std::to_string(want[i])}) << name << " run " << i;
      // Each outcome holds the helper calls of its own run only.
      EXPECT_EQ(runs[i].helper_calls.size(), runs[0].helper_calls.size()) << name << " run " << i;
    }
  }
}

TEST(EngineOutcome, ARejectedProgramIsOneOutcomeHoweverManyReruns) {
  auto e = make_engine("jit");
  ASSERT_TRUE(e.ok());
  vm::Program p;
  p.slots = {encode(Form::mov_imm, 0, 0, 0, 1)};  // falls off the end
  const Engine::LaterRun reruns[] = {{Engine::Rerun::Carry, {}}};
  const std::vector<Outcome> runs = (*e)->run_repeatedly(p, {}, reruns);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_FALSE(runs[0].loaded);
  EXPECT_FALSE(runs[0].load_error.empty());
}

TEST(EngineOutcome, PacketModeInputReachesTheProgram) {
  // r0 = ctx->data_end - ctx->data
  auto e = make_engine("interp");
  ASSERT_TRUE(e.ok());
  vm::Program p;
  p.slots = {encode(Form::ldxw, 2, 1, 0), encode(Form::ldxw, 0, 1, 4), encode(Form::sub_reg, 0, 2),
             encode(Form::exit)};
  EngineInput in;
  in.mode = vm::RunMode::Packet;
  in.memory.assign(42, 0);
  const Outcome o = (*e)->run(p, in);
  ASSERT_TRUE(o.ok()) << vm::describe(o.error);
  EXPECT_EQ(o.regs[0], 42u);
}

}  // namespace
}  // namespace bpfdiff::oracle
