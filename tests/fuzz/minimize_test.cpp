// The minimizer, against a synthetic predicate (to pin down each pass) and
// against a planted engine bug (the way `bpfdiff minimize` uses it: keep the
// signature, shrink everything else).
#include "fuzz/minimize.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "fuzz/byte_source.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/program_edit.hpp"
#include "fuzz/signature.hpp"
#include "oracle/interp_engine.hpp"
#include "planted_engine.hpp"
#include "vm/isa/encode.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::encode;
using isa::Form;

bool has_form(const vm::Program& p, Form form) {
  for (const std::size_t pc : instruction_starts(p.slots)) {
    if (isa::find_form(p.slots[pc]) == form) return true;
  }
  return false;
}

TEST(Minimize, KeepsOnlyWhatThePredicateNeeds) {
  MinimizeCase c;
  for (int i = 0; i < 40; ++i)
    c.program.slots.push_back(encode(Form::mov_imm, static_cast<uint8_t>(i % 10), 0, 0, i));
  c.program.slots[17] = encode(Form::xor_imm, 4, 0, 0, 1234);
  c.program.slots.push_back(encode(Form::exit));
  c.memory.assign(64, 0xab);
  const auto fails = [](const MinimizeCase& x) { return has_form(x.program, Form::xor_imm); };
  MinimizeStats stats;
  const MinimizeCase out = minimize(c, fails, {}, &stats);
  EXPECT_EQ(out.program.slots.size(), 1u);
  EXPECT_EQ(out.program.slots[0], encode(Form::xor_imm, 0, 0, 0, 0));  // operands toward 0
  EXPECT_TRUE(out.memory.empty());
  EXPECT_GT(stats.accepted, 0u);
  EXPECT_FALSE(stats.hit_test_limit);
}

// A program array names a slot: removing code before it moves the slot
// with the code, so the minimized program still tail-calls its target.
TEST(Minimize, ProgramArraysKeepNamingTheCodeTheyNamedAsSlotsAreRemoved) {
  MinimizeCase c;
  for (int i = 0; i < 20; ++i)
    c.program.slots.push_back(encode(Form::mov_imm, 7, 0, 0, i));
  c.program.slots.push_back(encode(Form::exit));
  const auto target = static_cast<uint32_t>(c.program.slots.size());
  c.program.slots.push_back(encode(Form::xor_imm, 4, 0, 0, 1234));
  c.program.slots.push_back(encode(Form::exit));
  vm::MapDef progs;
  progs.type = vm::MapType::ProgArray;
  progs.value_size = 4;
  progs.max_entries = 2;
  progs.prog_entries = {{0, 0}, {1, target}};
  c.program.maps = {progs};
  // Fails while the array's index 1 names an xor.
  const auto fails = [](const MinimizeCase& x) {
    if (x.program.maps.size() != 1 || x.program.maps[0].prog_entries.size() != 2) return false;
    const uint32_t slot = x.program.maps[0].prog_entries[1].second;
    return slot < x.program.slots.size() && isa::find_form(x.program.slots[slot]) == Form::xor_imm;
  };
  const MinimizeCase out = minimize(c, fails);
  ASSERT_TRUE(fails(out));
  EXPECT_LE(out.program.slots.size(), 2u) << "the movs before the target went";
  EXPECT_EQ(out.program.maps[0].prog_entries[0].second, 0u);
}

TEST(Minimize, ShrinksImmediatesTowardZeroAsFarAsThePredicateAllows) {
  MinimizeCase c;
  c.program.slots = {encode(Form::mov_imm, 0, 0, 0, 1'000'000), encode(Form::exit)};
  const auto fails = [](const MinimizeCase& x) {
    return !x.program.slots.empty() && x.program.slots[0].imm >= 1000;
  };
  const MinimizeCase out = minimize(c, fails);
  EXPECT_GE(out.program.slots[0].imm, 1000);
  EXPECT_LT(out.program.slots[0].imm, 2000);  // halving stops within a factor of two
}

TEST(Minimize, ShrinksMemoryToTheBytesThatMatter) {
  MinimizeCase c;
  c.program.slots = {encode(Form::exit)};
  c.memory.assign(200, 0x11);
  const auto fails = [](const MinimizeCase& x) { return x.memory.size() > 5 && x.memory[5] == 0x11; };
  const MinimizeCase out = minimize(c, fails);
  EXPECT_GE(out.memory.size(), 6u);
  EXPECT_LE(out.memory.size(), 12u);
  EXPECT_EQ(std::count(out.memory.begin(), out.memory.end(), 0x11), 1);
}

TEST(Minimize, StopsAtTheTestLimit) {
  MinimizeCase c;
  c.program.slots.assign(100, encode(Form::mov_imm, 1, 0, 0, 5));
  c.program.slots.push_back(encode(Form::exit));
  std::size_t calls = 0;
  const auto fails = [&calls](const MinimizeCase&) {
    ++calls;
    return false;
  };
  MinimizeOptions options;
  options.max_tests = 10;
  MinimizeStats stats;
  minimize(c, fails, options, &stats);
  EXPECT_EQ(calls, 10u);
  EXPECT_TRUE(stats.hit_test_limit);
}

// A generated program that trips the planted signed-compare bug, shrunk
// while its signature stays the same, ends up as the handful of
// instructions that bug needs.
TEST(Minimize, APlantedDivergenceShrinksToATinyProgramWithTheSameSignature) {
  oracle::InterpEngine interp(oracle::default_helpers());
  testing::PlantedEngine planted(Form::jsgt32_reg, Form::jgt32_reg);
  oracle::EngineInput input;
  input.limits.instruction_budget = kGeneratedInstructionBudget;

  std::optional<GeneratedCase> found;
  std::optional<Signature> signature;
  for (uint64_t seed = 0; seed < 5'000 && !found; ++seed) {
    ByteSource src(seed);
    GeneratorOptions options;
    options.max_instructions = 64;
    GeneratedCase c = generate(src, options);
    if (!has_form(c.program, Form::jsgt32_reg)) continue;
    input.memory = c.memory;
    signature = divergence_signature(c.program, input, interp, planted);
    if (signature && signature->form == "jsgt32_reg") found = std::move(c);
  }
  ASSERT_TRUE(found) << "no generated program trips the planted bug";
  const std::size_t before = found->program.slots.size();

  const auto same_signature = [&](const MinimizeCase& x) {
    oracle::EngineInput in = input;
    in.memory = x.memory;
    const auto s = divergence_signature(x.program, in, interp, planted);
    return s && *s == *signature;
  };
  MinimizeStats stats;
  const MinimizeCase out = minimize({found->program, found->memory}, same_signature, {}, &stats);
  const std::string listing = text::disassemble(out.program.slots);
  EXPECT_TRUE(same_signature(out));
  EXPECT_TRUE(has_form(out.program, Form::jsgt32_reg)) << listing;
  // Something to compare, the jump, a place for each branch to end.
  EXPECT_LE(out.program.slots.size(), 6u) << "from " << before << " slots:\n" << listing;
  EXPECT_LT(out.program.slots.size(), before);
  EXPECT_TRUE(out.memory.empty());
}

}  // namespace
}  // namespace bpfdiff::fuzz
