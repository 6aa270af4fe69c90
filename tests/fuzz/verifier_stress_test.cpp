#include "fuzz/verifier_stress.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fuzz/case_source.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/verifier_mutate.hpp"
#include "oracle/engine.hpp"
#include "tests/fuzz/form_count.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/program/validate.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::fuzz {
namespace {

using testing::count_forms;
using testing::FormCounts;

GeneratedCase from_seed(uint64_t seed, const VerifierStressOptions& opt = {},
                        StressPatterns* patterns = nullptr) {
  ByteSource src(seed);
  return generate_verifier_stress(src, opt, patterns);
}

std::string why_invalid(const vm::Program& p) {
  auto v = vm::validate(p, oracle::default_helpers());
  return v ? std::string() : v.error().message;
}

oracle::Engine& interp() {
  static auto e = std::move(oracle::make_engine("interp")).value();
  return *e;
}

VerifierStressOptions with(isa::IsaVersion v, double doubt = VerifierStressOptions{}.doubt_rate) {
  VerifierStressOptions opt;
  opt.isa_version = v;
  opt.doubt_rate = doubt;
  return opt;
}

TEST(VerifierStress, EveryProgramIsValidForOurValidatorAndHoldsOnlyFormsOfItsIsaVersion) {
  for (auto version : {isa::IsaVersion::V3, isa::IsaVersion::V4}) {
    for (uint64_t seed = 0; seed < 300; ++seed) {
      const GeneratedCase c = from_seed(seed, with(version));
      ASSERT_EQ(why_invalid(c.program), "") << "seed " << seed;
      ASSERT_GE(c.memory.size(), 16u);
      ASSERT_LE(c.memory.size(), kMaxGeneratedMemory);
      ASSERT_LE(c.program.slots.size(), VerifierStressOptions{}.max_instructions);
      FormCounts counts{};
      count_forms(c.program, counts);
      for (std::size_t f = 0; f < counts.size(); ++f) {
        if (counts[f] == 0) continue;
        const isa::FormInfo& fi = isa::all_forms()[f];
        ASSERT_LE(static_cast<int>(fi.version), static_cast<int>(version)) << fi.name << " seed " << seed;
      }
    }
  }
}

TEST(VerifierStress, TheSameSeedGivesTheSameCaseAndPatterns) {
  for (uint64_t seed : {1u, 77u, 4242u}) {
    StressPatterns pa = 0, pb = 0;
    const GeneratedCase a = from_seed(seed, {}, &pa);
    const GeneratedCase b = from_seed(seed, {}, &pb);
    EXPECT_EQ(a.program.slots, b.program.slots);
    EXPECT_EQ(a.memory, b.memory);
    EXPECT_EQ(pa, pb);
  }
  EXPECT_NE(from_seed(1).program.slots, from_seed(2).program.slots);
}

TEST(VerifierStress, EveryPatternAppearsAndProgramsMixSeveral) {
  StressPatterns seen = 0;
  std::size_t total_patterns = 0;
  constexpr uint64_t kPrograms = 300;
  for (uint64_t seed = 0; seed < kPrograms; ++seed) {
    StressPatterns p = 0;
    from_seed(seed, {}, &p);
    seen |= p;
    total_patterns += static_cast<std::size_t>(__builtin_popcount(p));
  }
  for (std::size_t i = 0; i < kNumStressPatterns; ++i) {
    EXPECT_TRUE(seen & (StressPatterns{1} << i)) << stress_pattern_name(static_cast<StressPattern>(i));
  }
  EXPECT_GE(total_patterns / kPrograms, 6u);
}

// Without deliberate doubt every access is in bounds by construction: our
// VM runs every program to its exit, within the generated budget.
TEST(VerifierStress, WithoutDoubtEveryProgramRunsToItsExitInOurVm) {
  for (auto version : {isa::IsaVersion::V3, isa::IsaVersion::V4}) {
    for (uint64_t seed = 0; seed < 300; ++seed) {
      const GeneratedCase c = from_seed(seed, with(version, 0.0));
      const oracle::Outcome o = interp().run(c.program, engine_input(c));
      ASSERT_TRUE(o.ok()) << "seed " << seed << ": " << o.load_error << vm::describe(o.error) << "\n"
                          << text::disassemble(c.program.slots, {.pc_prefix = true});
      ASSERT_LE(o.instructions, kGeneratedInstructionBudget) << "seed " << seed;
    }
  }
}

// A map program holds one array map and the map-value pattern; in our VM
// its lookups reach the values (some runs change their contents through
// the value pointer), and without a map program neither appears.
TEST(VerifierStress, MapProgramsLookUpTheirArrayMapAndWriteThroughTheValuePointer) {
  VerifierStressOptions opt = with(isa::IsaVersion::V3, 0.0);
  opt.map_program_rate = 1.0;
  opt.hash_program_rate = 0.0;
  int with_pattern = 0, changed = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    StressPatterns p = 0;
    const GeneratedCase c = from_seed(seed, opt, &p);
    ASSERT_EQ(c.program.maps.size(), 1u) << "seed " << seed;
    const vm::MapDef& m = c.program.maps[0];
    EXPECT_EQ(m.type, vm::MapType::Array);
    EXPECT_EQ(m.value_size % 8, 0u) << "our stride is the kernel's";
    EXPECT_EQ(m.initial_values.size(), std::size_t{m.value_size} * m.max_entries);
    if ((p & (StressPatterns{1} << static_cast<unsigned>(StressPattern::MapValue))) == 0) continue;
    ++with_pattern;
    const oracle::Outcome o = interp().run(c.program, engine_input(c));
    ASSERT_TRUE(o.ok()) << "seed " << seed << ": " << vm::describe(o.error);
    ASSERT_EQ(o.maps.size(), 1u);
    std::vector<uint8_t> after;
    for (const vm::MapEntry& e : o.maps[0].entries)
      after.insert(after.end(), e.value.begin(), e.value.end());
    changed += after != m.initial_values ? 1 : 0;
  }
  EXPECT_GE(with_pattern, 100);
  EXPECT_GE(changed, 20);
  opt.map_program_rate = 0.0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    StressPatterns p = 0;
    EXPECT_TRUE(from_seed(seed, opt, &p).program.maps.empty());
    EXPECT_EQ(p & (StressPatterns{1} << static_cast<unsigned>(StressPattern::MapValue)), 0u);
  }
}

// A hash map program holds an empty hash map (after the array map, when it
// has one) and the hash-map pattern: keys of every size, written in stores
// of varied widths; in our VM its updates fill the map and its checked
// lookups run to the exit; unchecked lookups that miss fault, as the kernel
// must refuse them; without a hash map program the pattern never appears.
TEST(VerifierStress, HashMapProgramsUpdateLookUpAndDeleteTheirHashMap) {
  VerifierStressOptions opt = with(isa::IsaVersion::V4, 0.0);
  opt.hash_program_rate = 1.0;
  const auto has = [](StressPatterns p, StressPattern which) {
    return (p & (StressPatterns{1} << static_cast<unsigned>(which))) != 0;
  };
  int with_pattern = 0, filled = 0, updates = 0, deletes = 0, lookups = 0, variable_keys = 0;
  std::set<uint32_t> key_sizes;
  std::set<isa::Form> key_stores;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    StressPatterns p = 0;
    const GeneratedCase c = from_seed(seed, opt, &p);
    ASSERT_EQ(why_invalid(c.program), "") << "seed " << seed;
    ASSERT_FALSE(c.program.maps.empty());
    const vm::MapDef& h = c.program.maps.back();
    ASSERT_EQ(h.type, vm::MapType::Hash) << "seed " << seed;
    EXPECT_TRUE(h.initial_values.empty());
    EXPECT_EQ(c.program.maps.size(), has(p, StressPattern::MapValue) ? 2u : c.program.maps.size());
    key_sizes.insert(h.key_size);
    for (std::size_t pc = 0; pc < c.program.slots.size(); ++pc) {
      const isa::RawInsn& i = c.program.slots[pc];
      const auto form = isa::find_form(i);
      if (!form) continue;
      // A key at a variable offset: r2 = fp; r2 += scalar, or scalar r2 += fp.
      if (*form == isa::Form::add_reg && i.dst == 2 && pc > 0) {
        const isa::RawInsn& before = c.program.slots[pc - 1];
        variable_keys += (before.opcode == 0xbf && before.dst == 2 && before.src == 10) || i.src == 10;
      }
      if (*form == isa::Form::call_helper) {
        updates += i.imm == 2;
        deletes += i.imm == 3;
        lookups += i.imm == 1;
      }
      // Stores into the key area, fp-104 .. fp-89.
      static const std::set<isa::Form> kStores = {isa::Form::stb,  isa::Form::sth,  isa::Form::stw,
                                                  isa::Form::stdw, isa::Form::stxb, isa::Form::stxh,
                                                  isa::Form::stxw, isa::Form::stxdw};
      if (i.dst == 10 && i.off >= -104 && i.off < -88 && kStores.count(*form) != 0) key_stores.insert(*form);
    }
    if (!has(p, StressPattern::HashMap)) continue;
    ++with_pattern;
    const oracle::Outcome o = interp().run(c.program, engine_input(c));
    ASSERT_TRUE(o.ok()) << "seed " << seed << ": " << vm::describe(o.error);
    ASSERT_EQ(o.maps.size(), c.program.maps.size());
    filled += o.maps.back().entries.empty() ? 0 : 1;
  }
  EXPECT_GE(with_pattern, 100);
  EXPECT_GE(filled, 50);
  EXPECT_GT(updates, 0);
  EXPECT_GT(deletes, 0);
  EXPECT_GT(lookups, updates);
  EXPECT_GT(variable_keys, 0);
  EXPECT_EQ(key_sizes.size(), 6u);
  EXPECT_GE(key_stores.size(), 6u) << "stb/sth/stw/stdw and stx of the unknown key";

  // Unchecked lookups (doubt): some miss and fault in our VM.
  opt.doubt_rate = 1e-9;
  opt.hash_unchecked_rate = 1.0;
  int faults = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const GeneratedCase c = from_seed(seed, opt);
    faults += interp().run(c.program, engine_input(c)).ok() ? 0 : 1;
  }
  EXPECT_GT(faults, 0);

  opt.hash_program_rate = 0.0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    StressPatterns p = 0;
    const GeneratedCase c = from_seed(seed, opt, &p);
    EXPECT_FALSE(has(p, StressPattern::HashMap));
    for (const vm::MapDef& m : c.program.maps)
      EXPECT_NE(m.type, vm::MapType::Hash);
  }
}

// Lookups of a run that return a value before the run has updated the map
// (only a starting entry can be found then).
int lookups_hitting_before_any_update(const GeneratedCase& c) {
  auto loaded = vm::validate(c.program, oracle::default_helpers());
  EXPECT_TRUE(loaded.ok());
  if (!loaded) return 0;
  vm::Interpreter interp(*loaded, oracle::default_helpers());
  std::vector<uint8_t> memory = c.memory;
  int hits = 0;
  bool after_lookup = false, updated = false;
  interp.run_traced(vm::RunInput{vm::RunMode::Memory, memory}, [&](uint32_t pc, const auto& regs) {
    if (after_lookup && !updated && regs[0] != 0) ++hits;
    const isa::RawInsn& i = c.program.slots[pc];
    const bool helper = i.opcode == 0x85 && i.src == 0;
    after_lookup = helper && i.imm == 1;
    updated = updated || (helper && i.imm == 2);
  });
  return hits;
}

// At hash_seeded_rate the hash map starts with 1 to max_entries distinct
// entries whose keys are ones the programs store (a number below
// max_entries + 2, zeros after it), so lookups find them before any update
// put something there; without seeding no lookup can.
TEST(VerifierStress, SeededHashMapsHoldKeysTheProgramsStoreSoLookupsHit) {
  VerifierStressOptions opt = with(isa::IsaVersion::V4, 0.0);
  opt.map_program_rate = 0.0;  // no array map: every lookup is of the hash map
  opt.hash_program_rate = 1.0;
  opt.hash_seeded_rate = 1.0;
  int early_hits = 0, full = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const GeneratedCase c = from_seed(seed, opt);
    ASSERT_EQ(why_invalid(c.program), "") << "seed " << seed;
    const vm::MapDef& h = c.program.maps.back();
    ASSERT_EQ(h.type, vm::MapType::Hash);
    ASSERT_FALSE(h.initial_entries.empty()) << "seed " << seed;
    ASSERT_LE(h.initial_entries.size(), h.max_entries);
    full += h.initial_entries.size() == h.max_entries ? 1 : 0;
    for (const vm::MapEntry& e : h.initial_entries) {
      ASSERT_EQ(e.key.size(), h.key_size);
      ASSERT_EQ(e.value.size(), h.value_size);
      EXPECT_LT(e.key[0], h.max_entries + 2);
      for (std::size_t b = 1; b < e.key.size(); ++b)
        EXPECT_EQ(e.key[b], 0) << "seed " << seed;
    }
    early_hits += lookups_hitting_before_any_update(c) > 0 ? 1 : 0;
  }
  EXPECT_GE(early_hits, 30) << "of 200 programs";
  EXPECT_GT(full, 20) << "some start full: their inserts fail with E2BIG";

  opt.hash_seeded_rate = 0.0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const GeneratedCase c = from_seed(seed, opt);
    EXPECT_TRUE(c.program.maps.back().initial_entries.empty());
    EXPECT_EQ(lookups_hitting_before_any_update(c), 0) << "seed " << seed;
  }
  // The same input decodes to the same program either way: only the map differs.
  VerifierStressOptions seeded = opt;
  seeded.hash_seeded_rate = 1.0;
  for (uint64_t seed = 0; seed < 50; ++seed)
    EXPECT_EQ(from_seed(seed, opt).program.slots, from_seed(seed, seeded).program.slots);
}

// With doubt some runs fault: the doubtful guards really let values through.
TEST(VerifierStress, DoubtfulGuardsLetSomeOutOfBoundsValuesThrough) {
  int faults = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const GeneratedCase c = from_seed(seed, with(isa::IsaVersion::V4, 0.5));
    faults += interp().run(c.program, engine_input(c)).ok() ? 0 : 1;
  }
  EXPECT_GT(faults, 5);
}

}  // namespace
}  // namespace bpfdiff::fuzz

namespace bpfdiff::fuzz {
namespace {

TEST(VerifierMutate, MutantsStayValidKeepTheirShapeAndDiffer) {
  int changed = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const GeneratedCase c = from_seed(seed);
    ByteSource src(seed * 7 + 1);
    const vm::Program m = mutate_for_verifier(c.program, src, isa::IsaVersion::V4, 3);
    ASSERT_EQ(why_invalid(m), "") << "seed " << seed;
    ASSERT_EQ(m.slots.size(), c.program.slots.size());
    changed += m.slots != c.program.slots ? 1 : 0;
    // Jump targets are kept: every jump's offset is unchanged.
    for (std::size_t pc = 0; pc < m.slots.size(); ++pc) {
      const auto form = isa::find_form(m.slots[pc]);
      if (form && isa::info(*form).sem.family == isa::Family::Jump) {
        ASSERT_EQ(m.slots[pc].off, c.program.slots[pc].off) << "seed " << seed << " pc " << pc;
      }
    }
  }
  EXPECT_GT(changed, 180);
}

TEST(VerifierMutate, AV3ProgramNeverGainsV4Forms) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const GeneratedCase c = from_seed(seed, with(isa::IsaVersion::V3));
    ByteSource src(seed);
    const vm::Program m = mutate_for_verifier(c.program, src, isa::IsaVersion::V3, 4);
    FormCounts counts{};
    count_forms(m, counts);
    for (std::size_t f = 0; f < counts.size(); ++f) {
      if (counts[f] == 0) continue;
      ASSERT_LE(static_cast<int>(isa::all_forms()[f].version), 3) << isa::all_forms()[f].name;
    }
  }
}

TEST(CaseSource, MutantsComeOnlyFromAcceptedCasesAtTheRequestedRate) {
  CaseSourceOptions opt;
  opt.generator = "verifier-stress";
  opt.mutate_rate = 0.5;
  auto cases = CaseSource::create(opt).value();
  EXPECT_FALSE(cases.last_was_mutant());
  for (uint64_t seed = 0; seed < 20; ++seed) {
    cases.next(seed);
    EXPECT_FALSE(cases.last_was_mutant()) << "nothing accepted yet";
  }
  cases.accepted(from_seed(99));
  int mutants = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    const GeneratedCase c = cases.next(seed);
    if (cases.last_was_mutant()) {
      ++mutants;
      EXPECT_EQ(c.memory, from_seed(99).memory);
    }
  }
  EXPECT_GT(mutants, 120);
  EXPECT_LT(mutants, 280);
  EXPECT_FALSE(CaseSource::create({"no-such-generator"}));
}

}  // namespace
}  // namespace bpfdiff::fuzz
