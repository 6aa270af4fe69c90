// The elf_gen fuzz target's cases (fuzz/elf_gen_case.hpp): decisions make a
// generated ELF object that loads back as written, whose programs mostly
// load and run (a target whose every program is rejected would test only
// the validator), every program in every run mode, and a loader that reads
// the object back differently is caught.
#include "fuzz/elf_gen_case.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fuzz/differential.hpp"
#include "oracle/interp_engine.hpp"

namespace bpfdiff::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(ElfGenCase, TheSameDecisionsMakeTheSameObject) {
  ByteSource a(1), b(1);
  auto first = generate_elf_gen_case(a);
  auto second = generate_elf_gen_case(b);
  ASSERT_EQ(first.ok(), second.ok());
  if (!first) GTEST_SKIP() << "seed 1 makes no object: " << first.error().message;
  EXPECT_EQ(first->object.bytes, second->object.bytes);
  EXPECT_EQ(first->cases.size(), second->cases.size());
}

// Every program runs first in its own case's input, then in each other mode
// on the same bytes and limits.
TEST(ElfGenCase, EveryProgramRunsInItsOwnModeThenInEachOther) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    ByteSource src(seed);
    auto c = generate_elf_gen_case(src);
    if (!c) continue;
    auto loaded = load_generated_object(c->object);
    ASSERT_TRUE(loaded.ok()) << "seed " << seed << ": " << loaded.error().message;
    auto runs = elf_gen_runs(*c, *loaded);
    ASSERT_TRUE(runs.ok()) << runs.error().message;
    ASSERT_EQ(runs->size(), c->cases.size() * all_run_modes().size());
    for (std::size_t k = 0; k < c->cases.size(); ++k) {
      const std::size_t first = k * all_run_modes().size();
      const ElfGenRun& own = (*runs)[first];
      EXPECT_TRUE(own.own_mode);
      EXPECT_EQ(own.index, k);
      EXPECT_EQ(own.entry, c->object.entry_names[k]);
      EXPECT_EQ(own.input.mode, c->cases[k].input.mode);
      EXPECT_EQ(own.input.limits.instruction_budget, c->cases[k].input.limits.instruction_budget);
      std::set<vm::RunMode> modes;
      for (std::size_t r = first; r < first + all_run_modes().size(); ++r) {
        modes.insert((*runs)[r].input.mode);
        EXPECT_EQ((*runs)[r].input.memory, own.input.memory);
        EXPECT_EQ((*runs)[r].input.limits.max_call_depth, own.input.limits.max_call_depth);
        EXPECT_EQ((*runs)[r].own_mode, r == first);
      }
      EXPECT_EQ(modes.size(), all_run_modes().size()) << "seed " << seed;
    }
  }
}

// The seeds of corpus/fuzz/elf_gen and seeded decisions: objects load back
// as written, most programs load and run on the interpreter, every mode is
// some program's own, and the engines agree on every run.
TEST(ElfGenCase, ObjectsLoadBackAndTheirProgramsRunAlikeOnEveryEngine) {
  std::vector<std::vector<uint8_t>> inputs;
  for (const auto& entry : fs::directory_iterator(BPFDIFF_ELF_GEN_SEED_DIR))
    inputs.push_back(file_bytes(entry.path()));
  ASSERT_GE(inputs.size(), 8u) << "the target's seeds";
  std::size_t objects = 0, programs = 0, runs_loaded = 0, runs_total = 0, several = 0, with_maps = 0;
  // Own-mode runs that reach their exit, and that run past a few instructions
  // (the generator ends many runs with a fault or a budget on purpose).
  std::size_t own_completed = 0, own_ran = 0;
  std::set<vm::RunMode> own_modes;
  oracle::InterpEngine interp(oracle::default_helpers());
  const auto check = [&](ByteSource& src, const std::string& what) {
    auto c = generate_elf_gen_case(src);
    if (!c) return;
    ++objects;
    if (c->cases.size() > 1) ++several;
    auto loaded = load_generated_object(c->object);
    ASSERT_TRUE(loaded.ok()) << what << ": " << loaded.error().message;
    if (!loaded->program.maps.empty()) ++with_maps;
    auto runs = elf_gen_runs(*c, *loaded);
    ASSERT_TRUE(runs.ok()) << what << ": " << runs.error().message;
    programs += c->cases.size();
    for (const ElfGenRun& run : *runs) {
      if (run.own_mode) own_modes.insert(run.input.mode);
      ++runs_total;
      const oracle::Outcome o = interp.run(run.program, run.input);
      if (o.loaded) ++runs_loaded;
      if (run.own_mode && o.ok()) ++own_completed;
      if (run.own_mode && o.instructions >= 10) ++own_ran;
      const auto d = find_divergence(run.program, run.input);
      EXPECT_FALSE(d) << what << ", " << run.entry << ": " << d->title();
    }
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    ByteSource src(inputs[i]);
    check(src, "seed file " + std::to_string(i));
  }
  for (uint64_t seed = 0; seed < 24; ++seed) {
    ByteSource src(seed);
    check(src, "seed " + std::to_string(seed));
  }
  EXPECT_GE(objects, inputs.size()) << "every seed file makes an object";
  EXPECT_GT(several, objects / 4);
  EXPECT_GT(with_maps, objects / 4);
  EXPECT_GT(runs_loaded * 10, runs_total * 9) << runs_loaded << " of " << runs_total << " runs load";
  EXPECT_GT(own_ran * 2, programs) << own_ran << " of " << programs << " run 10 instructions or more";
  EXPECT_GT(own_completed * 8, programs) << own_completed << " of " << programs << " reach their exit";
  EXPECT_EQ(own_modes.size(), all_run_modes().size());
  std::cerr << objects << " objects, " << programs << " programs (in their own mode " << own_ran
            << " run 10 instructions or more, " << own_completed << " reach their exit), " << runs_loaded
            << " of " << runs_total << " runs loaded\n";
}

// A loader that reads back another program than was written is a finding:
// here the object is told to expect one instruction other than it holds.
TEST(ElfGenCase, AnObjectReadBackDifferentlyIsCaught) {
  std::optional<ElfGenCase> c;
  for (uint64_t seed = 0; !c; ++seed) {
    ByteSource s(seed);
    if (auto g = generate_elf_gen_case(s)) c = std::move(g).value();
  }
  ASSERT_TRUE(load_generated_object(c->object).ok());
  c->object.expected.slots.front().imm ^= 1;
  auto loaded = load_generated_object(c->object);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("reads back differently (an ELF loader bug)"), std::string::npos)
      << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("slot 0"), std::string::npos) << loaded.error().message;
}

}  // namespace
}  // namespace bpfdiff::fuzz
