#include "fuzz/generator.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "fuzz/differential.hpp"
#include "oracle/engine.hpp"
#include "tests/fuzz/form_count.hpp"
#include "vm/program/maps.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::fuzz {
namespace {

using testing::count_forms;
using testing::FormCounts;

GeneratedCase from_seed(uint64_t seed, const GeneratorOptions& opt = {}) {
  ByteSource src(seed);
  return generate(src, opt);
}

std::string why_invalid(const vm::Program& p) {
  auto v = vm::validate(p, oracle::default_helpers());
  return v ? std::string() : v.error().message;
}

oracle::Engine& interp() {
  static auto e = std::move(oracle::make_engine("interp")).value();
  return *e;
}

TEST(Generator, EveryProgramOfTenThousandSeedsIsValid) {
  std::size_t invalid = 0;
  for (uint64_t seed = 0; seed < 10'000; ++seed) {
    const GeneratedCase c = from_seed(seed);
    const std::string why = why_invalid(c.program);
    if (!why.empty() && ++invalid <= 5) ADD_FAILURE() << "seed " << seed << ": " << why;
  }
  EXPECT_EQ(invalid, 0u);
}

TEST(Generator, EveryIsaVersionAndSizeGivesValidProgramsOfThatVersion) {
  for (auto version : {isa::IsaVersion::V1, isa::IsaVersion::V2, isa::IsaVersion::V3, isa::IsaVersion::V4}) {
    for (std::size_t max : {std::size_t{1}, std::size_t{16}, std::size_t{64}, std::size_t{512}}) {
      GeneratorOptions opt;
      opt.isa_version = version;
      opt.max_instructions = max;
      opt.loop_rate = 0.2;
      opt.call_rate = 0.2;
      for (uint64_t seed = 0; seed < 300; ++seed) {
        const GeneratedCase c = from_seed(seed, opt);
        ASSERT_EQ(why_invalid(c.program), "") << "seed " << seed << " max " << max;
        ASSERT_LE(c.program.slots.size(), std::max(max, kMinGeneratedSlots));
        ASSERT_LE(c.memory.size(), kMaxGeneratedMemory);
        FormCounts counts{};
        count_forms(c.program, counts);
        for (std::size_t f = 0; f < counts.size(); ++f) {
          if (counts[f] == 0) continue;
          ASSERT_LE(static_cast<int>(isa::all_forms()[f].version), static_cast<int>(version))
              << isa::all_forms()[f].name << " in a v" << static_cast<int>(version) << " program";
        }
      }
    }
  }
}

TEST(Generator, AnyFuzzerBytesGiveAValidProgram) {
  ByteSource lengths(uint64_t{99});
  for (int i = 0; i < 2'000; ++i) {
    std::vector<uint8_t> bytes(lengths.below(600));
    for (auto& b : bytes)
      b = lengths.byte();
    ByteSource src(bytes);
    const GeneratedCase c = generate(src);
    ASSERT_EQ(why_invalid(c.program), "") << "input " << i << " of " << bytes.size() << " bytes";
  }
  ByteSource empty(std::span<const uint8_t>{});
  EXPECT_EQ(why_invalid(generate(empty).program), "");
}

TEST(Generator, SameSeedSameCase) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const GeneratedCase a = from_seed(seed);
    const GeneratedCase b = from_seed(seed);
    ASSERT_EQ(a.program.slots, b.program.slots);
    ASSERT_EQ(a.memory, b.memory);
  }
  EXPECT_NE(from_seed(1).program.slots, from_seed(2).program.slots);
}

// Every form a valid program can hold appears: the generatable ones as
// steps, and the non-generatable call_helper and lddw map forms from the
// helper-call step and map-value accesses (they need set-up and declared
// maps). Only lddw_btf_var (BTF exists only in a kernel) never does.
TEST(Generator, EveryFormButBtfVariablesAppearsAcrossSeeds) {
  FormCounts counts{};
  for (uint64_t seed = 0; seed < 3'000; ++seed)
    count_forms(from_seed(seed).program, counts);
  std::vector<std::string> missing, excluded;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    const std::size_t count = counts[static_cast<std::size_t>(fi.form)];
    if (!generatable(fi.form)) excluded.emplace_back(fi.name);
    if (fi.form == isa::Form::lddw_btf_var) {
      EXPECT_EQ(count, 0u);
    } else if (count == 0) {
      missing.emplace_back(fi.name);
    }
  }
  EXPECT_TRUE(missing.empty()) << "never generated: " << ::testing::PrintToString(missing);
  EXPECT_EQ(excluded, (std::vector<std::string>{"call_helper", "lddw_map_fd", "lddw_map_value",
                                                "lddw_btf_var", "lddw_map_idx", "lddw_map_idx_value"}));
  EXPECT_EQ(generatable_forms(isa::IsaVersion::V4).size(), isa::kNumForms - 6);
}

// The helper ids a program calls, from its call_helper slots.
std::set<uint32_t> helpers_called(const vm::Program& p) {
  std::set<uint32_t> ids;
  for (std::size_t pc = 0; pc < p.slots.size();) {
    const auto form = isa::find_form(p.slots[pc]);
    if (*form == isa::Form::call_helper) ids.insert(static_cast<uint32_t>(p.slots[pc].imm));
    pc += isa::info(*form).slots;
  }
  return ids;
}

TEST(Generator, CallsEveryStandardHelperOnEveryKindOfMap) {
  std::set<uint32_t> ids;
  std::set<vm::MapType> types;
  std::size_t with_maps = 0, with_initial_values = 0, with_programs = 0;
  for (uint64_t seed = 0; seed < 1'000; ++seed) {
    const GeneratedCase c = from_seed(seed);
    const std::set<uint32_t> called = helpers_called(c.program);
    ids.insert(called.begin(), called.end());
    if (!c.program.maps.empty()) ++with_maps;
    for (const vm::MapDef& m : c.program.maps) {
      types.insert(m.type);
      if (!m.initial_values.empty()) ++with_initial_values;
      if (!m.prog_entries.empty()) ++with_programs;
    }
  }
  const std::span<const uint32_t> all = generated_helper_ids();
  EXPECT_EQ(ids, std::set<uint32_t>(all.begin(), all.end()));
  EXPECT_EQ(types, (std::set<vm::MapType>{vm::MapType::Array, vm::MapType::Hash, vm::MapType::ProgArray}));
  EXPECT_GT(with_maps, 500u);
  EXPECT_GT(with_initial_values, 0u);
  EXPECT_GT(with_programs, 0u);
}

TEST(Generator, NoHelperRateMeansNoHelperCallsAndNoMaps) {
  GeneratorOptions opt;
  opt.helper_rate = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const GeneratedCase c = from_seed(seed, opt);
    ASSERT_TRUE(c.program.maps.empty());
    ASSERT_TRUE(helpers_called(c.program).empty());
  }
}

struct RunStats {
  std::size_t runs = 0;
  std::size_t ok = 0;
  std::size_t budget = 0;
  std::size_t memory = 0;  // MemoryRead or MemoryWrite
  std::size_t other = 0;   // call errors
  std::size_t helper_failed = 0;
  std::size_t with_helper_calls = 0;  // runs that called a helper
  std::size_t with_loop = 0;
  std::size_t with_call = 0;
};

bool has_backward_jump(const vm::Program& p) {
  for (std::size_t pc = 0; pc < p.slots.size();) {
    const auto form = isa::find_form(p.slots[pc]);
    const isa::FormInfo& fi = isa::info(*form);
    if (fi.sem.family == isa::Family::Jump) {
      const bool long_jump = fi.sem.cond == isa::JmpCond::Always && fi.sem.width == isa::Width::W32;
      if ((long_jump ? p.slots[pc].imm : p.slots[pc].off) < 0) return true;
    }
    pc += fi.slots;
  }
  return false;
}

RunStats run_many(const GeneratorOptions& opt, uint64_t seeds) {
  RunStats s;
  for (uint64_t seed = 0; seed < seeds; ++seed) {
    const GeneratedCase c = from_seed(seed, opt);
    const oracle::Outcome o = interp().run(c.program, engine_input(c));
    EXPECT_TRUE(o.loaded) << o.load_error;
    ++s.runs;
    if (has_backward_jump(c.program)) ++s.with_loop;
    FormCounts counts{};
    count_forms(c.program, counts);
    if (counts[static_cast<std::size_t>(isa::Form::call_local)] +
            counts[static_cast<std::size_t>(isa::Form::callx)] >
        0)
      ++s.with_call;
    if (!o.helper_calls.empty()) ++s.with_helper_calls;
    if (o.error.kind == vm::ErrorKind::HelperFailed) ++s.helper_failed;
    switch (o.error.kind) {
      case vm::ErrorKind::None:
        ++s.ok;
        break;
      case vm::ErrorKind::BudgetExhausted:
        ++s.budget;
        break;
      case vm::ErrorKind::MemoryRead:
      case vm::ErrorKind::MemoryWrite:
        ++s.memory;
        break;
      case vm::ErrorKind::CallDepthExceeded:
      case vm::ErrorKind::BadCallTarget:
      case vm::ErrorKind::UnknownHelper:
      case vm::ErrorKind::HelperFailed:
        ++s.other;
        break;
    }
  }
  std::printf(
      "%zu runs: %zu ok, %zu budget exhausted, %zu memory faults, %zu call errors; %zu with loops, "
      "%zu with calls\n",
      s.runs, s.ok, s.budget, s.memory, s.other, s.with_loop, s.with_call);
  return s;
}

TEST(Generator, LoopsMostlyFinishWithinTheBudgetAndSomeExhaustIt) {
  GeneratorOptions opt;
  opt.out_of_bounds_rate = 0;
  opt.helper_rate = 0;  // tail calls restart the program: loops alone here
  const RunStats s = run_many(opt, 2'000);
  RecordProperty("budget_exhausted", static_cast<int>(s.budget));
  EXPECT_GT(s.with_loop, s.runs / 4) << "loops are common";
  EXPECT_GT(s.with_call, s.runs / 4) << "calls are common";
  EXPECT_GT(s.budget, 0u) << "some unbounded loops hit the budget";
  EXPECT_LT(s.budget, s.runs * 15 / 100) << "most programs finish";
  EXPECT_GT(s.ok, s.runs * 7 / 10);
}

TEST(Generator, InBoundsAccessesNeverFaultWhenTheOutOfBoundsRateIsZero) {
  GeneratorOptions opt;
  opt.out_of_bounds_rate = 0;
  opt.max_instructions = 128;
  EXPECT_EQ(run_many(opt, 2'000).memory, 0u);
}

TEST(Generator, OutOfBoundsRateControlsMemoryFaults) {
  GeneratorOptions opt;
  opt.loop_rate = 0;    // every access runs at most once per call
  opt.helper_rate = 0;  // and no invalid helper argument ends a run first
  opt.out_of_bounds_rate = 1.0;
  const RunStats all = run_many(opt, 1'000);
  opt.out_of_bounds_rate = 0.05;
  const RunStats some = run_many(opt, 1'000);
  // About 8 accesses per program: with every one aimed outside, nearly every
  // program faults; at 5 %, about a third, well short of every program.
  EXPECT_GT(all.memory, all.runs * 6 / 10);
  EXPECT_GT(some.memory, some.runs / 20);
  EXPECT_LT(some.memory, some.runs / 2);
}

// Valid arguments never make a helper fail (lookups that miss return null,
// updates of a full map an error code); invalid ones are answered with a
// fault (HelperFailed) or an error code, and both happen.
TEST(Generator, InvalidHelperArgumentsAreTheOnlyHelperFailures) {
  GeneratorOptions opt;
  opt.helper_rate = 0.3;
  opt.out_of_bounds_rate = 0;
  opt.bad_argument_rate = 0;
  const RunStats valid = run_many(opt, 1'000);
  EXPECT_GT(valid.with_helper_calls, valid.runs / 2);
  EXPECT_EQ(valid.helper_failed, 0u);
  EXPECT_EQ(valid.memory, 0u) << "in-bounds accesses through looked-up values and map_value";
  opt.bad_argument_rate = 1.0;
  const RunStats invalid = run_many(opt, 1'000);
  EXPECT_GT(invalid.helper_failed, invalid.runs / 4);
}

}  // namespace
}  // namespace bpfdiff::fuzz
