// The corpus scheduler of coverage-guided kernel campaigns
// (fuzz/corpus_scheduler.hpp): weights by what an entry found, what its
// mutants found and what it and its mutants cost; slow programs left out; the mutant share
// following what each source finds; eviction when full; and the kernel mix
// drawing its mutants from it. Costs are given, never measured.
#include "fuzz/corpus_scheduler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "fuzz/kernel_mix.hpp"
#include "vm/isa/encode.hpp"

namespace bpfdiff::fuzz {
namespace {

GeneratedCase program_returning(int32_t value) {
  GeneratedCase c;
  c.program.slots = {isa::encode(isa::Form::mov_imm, 0, 0, 0, value), isa::encode(isa::Form::exit)};
  return c;
}

// `n` fresh programs of `cost` seconds that find nothing: a typical cost.
void warm_up(CorpusScheduler& s, int n, double cost) {
  for (int i = 0; i < n; ++i)
    EXPECT_FALSE(s.record(program_returning(i), std::nullopt, 0, cost).has_value());
}

// A fresh program that joins the corpus: its entry.
CorpusScheduler::EntryId admit(CorpusScheduler& s, int32_t value, std::size_t edges, double cost) {
  const auto id = s.record(program_returning(value), std::nullopt, edges, cost);
  EXPECT_TRUE(id.has_value());
  return id.value_or(0);
}

TEST(CorpusScheduler, ACheapEntryIsMutatedFarMoreOftenThanASlowOneThatFoundAsMuch) {
  CorpusScheduler s;
  warm_up(s, 20, 1.0);
  EXPECT_DOUBLE_EQ(s.typical_cost(), 1.0);
  const auto cheap = admit(s, 100, 4, 0.25);
  const auto slow = admit(s, 101, 4, 6.0);
  // 4 times cheaper than typical against 6 times dearer; found after 20 and 21 programs.
  const double expected = (4.0 / (1.0 / 6.0)) * std::log2(22.0) / std::log2(23.0);
  EXPECT_NEAR(s.weight(cheap) / s.weight(slow), expected, 1e-9);
  ByteSource src(uint64_t{7});
  std::map<CorpusScheduler::EntryId, int> picks;
  for (int i = 0; i < 1000; ++i)
    ++picks[s.pick(src).value()];
  EXPECT_GT(picks[cheap], 900);
  EXPECT_GT(picks[slow], 0);  // never ruled out
}

TEST(CorpusScheduler, AProgramFarSlowerThanTheTypicalOneDoesNotJoinEvenWithNewEdges) {
  CorpusScheduler s;
  // No typical cost yet: a slow first program is kept.
  EXPECT_TRUE(s.record(program_returning(1), std::nullopt, 3, 50.0).has_value());
  warm_up(s, 30, 1.0);
  EXPECT_FALSE(s.record(program_returning(2), std::nullopt, 3, 8.5).has_value());  // over 8 typical programs
  EXPECT_EQ(s.too_slow(), 1u);
  EXPECT_TRUE(s.record(program_returning(3), std::nullopt, 3, 7.5).has_value());
  EXPECT_FALSE(s.record(program_returning(4), std::nullopt, 0, 0.1).has_value());  // cheap, but found nothing
  EXPECT_EQ(s.size(), 2u);
}

TEST(CorpusScheduler, EdgesFoundLateWeighMoreThanTheSameEdgesFoundFirst) {
  CorpusScheduler s;
  const auto first = admit(s, 1, 5, 1.0);
  warm_up(s, 998, 1.0);
  const auto late = admit(s, 2, 5, 1.0);  // after 999 programs
  EXPECT_NEAR(s.weight(late) / s.weight(first), std::log2(1001.0) / std::log2(2.0), 1e-9);
  // More edges weigh more, but only logarithmically.
  const auto many = admit(s, 3, 63, 1.0);
  EXPECT_NEAR(s.weight(many) / s.weight(late), (6.0 / std::log2(6.0)) * std::log2(1002.0) / std::log2(1001.0),
              1e-9);
}

TEST(CorpusScheduler, MutantsThatFindEdgesKeepTheirParentInFavourAndBarrenOnesLetItFade) {
  CorpusScheduler s;
  warm_up(s, 20, 1.0);
  const auto barren = admit(s, 1, 2, 1.0);
  const auto fruitful = admit(s, 2, 2, 1.0);
  const double barren_before = s.weight(barren);
  const double fruitful_before = s.weight(fruitful);
  for (int i = 0; i < 8; ++i)
    s.record(program_returning(10 + i), barren, 0, 1.0);
  s.record(program_returning(30), fruitful, 5, 1.0);                    // joins the corpus itself as well
  EXPECT_NEAR(s.weight(barren) / barren_before, 1.0 / 3.0, 1e-9);       // 1 / (1 + 8/4)
  EXPECT_NEAR(s.weight(fruitful) / fruitful_before, 6.0 / 1.25, 1e-9);  // (1 + 5) / (1 + 1/4)
}

TEST(CorpusScheduler, AQuickEntryWhoseMutantsAreSlowFallsOutOfFavour) {
  CorpusScheduler s;
  warm_up(s, 20, 1.0);
  const auto steady = admit(s, 1, 2, 1.0);
  const auto treacherous = admit(s, 2, 2, 1.0);
  const double before = s.weight(treacherous);
  EXPECT_NEAR(s.weight(steady) / before, std::log2(22.0) / std::log2(23.0), 1e-9);
  // One mutant each, neither finding anything: the steady one's as quick as
  // the typical program, the other's a 31-second verifier walk.
  s.record(program_returning(10), steady, 0, 1.0);
  s.record(program_returning(11), treacherous, 0, 31.0);
  EXPECT_NEAR(s.typical_cost(), 1.0, 1e-9);  // one slow program does not move the median
  // Mean time of entry and mutants: 1 s against (1 + 31) / 2 = 16 s, clamped to 1/8 of typical.
  EXPECT_NEAR(s.weight(treacherous) / before, (1.0 / 1.25) / 8.0, 1e-9);
  EXPECT_NEAR(s.weight(steady) / s.weight(treacherous), 8.0 * std::log2(22.0) / std::log2(23.0), 1e-9);
  // Quick mutants afterwards bring it back: (1 + 31 + 14 * 1) / 16 = 2.875 s.
  for (int i = 0; i < 14; ++i)
    s.record(program_returning(20 + i), treacherous, 0, 1.0);
  EXPECT_NEAR(s.weight(treacherous) / before, (1.0 / (1.0 + 15.0 / 4.0)) / 2.875, 1e-9);
}

TEST(CorpusScheduler, TheMutantShareFollowsWhichSourceFindsEdgesWithinItsBounds) {
  CorpusSchedulerOptions o;
  o.min_mutant_share = 0.1;
  o.max_mutant_share = 0.7;
  CorpusScheduler s(o);
  EXPECT_EQ(s.mutant_share(), 0.0);  // nothing to mutate yet
  const auto parent = admit(s, 1, 50, 1.0);
  for (int i = 0; i < 50; ++i)  // fresh programs find edges by the dozen, mutants nothing
    s.record(program_returning(100 + i), i % 2 ? std::optional(parent) : std::nullopt, i % 2 ? 0 : 20, 1.0);
  EXPECT_DOUBLE_EQ(s.mutant_share(), 0.1);
  for (int i = 0; i < 2000; ++i)  // the generators saturate; mutants still find some
    s.record(program_returning(1000 + i), i % 2 ? std::optional(parent) : std::nullopt, i % 2 ? 1 : 0, 1.0);
  EXPECT_DOUBLE_EQ(s.mutant_share(), 0.7);
  // In between, the share is the mutants' part of the edges per second.
  CorpusScheduler even(o);
  const auto p = admit(even, 1, 1, 1.0);
  for (int i = 0; i < 1000; ++i)
    even.record(program_returning(10 + i), i % 2 ? std::optional(p) : std::nullopt, 1, 1.0);
  EXPECT_NEAR(even.mutant_share(), 0.5, 0.01);
}

TEST(CorpusScheduler, WhenFullTheEntryWorthLeastGivesWay) {
  CorpusSchedulerOptions o;
  o.capacity = 2;
  CorpusScheduler s(o);
  warm_up(s, 20, 1.0);
  const auto dear = admit(s, 1, 2, 4.0);
  const auto cheap = admit(s, 2, 2, 0.5);
  const auto newcomer = admit(s, 3, 2, 1.0);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.program(dear), nullptr);
  ASSERT_NE(s.program(cheap), nullptr);
  ASSERT_NE(s.program(newcomer), nullptr);
  EXPECT_EQ(s.program(newcomer)->program.slots, program_returning(3).program.slots);
  // A mutant of the evicted entry still counts towards the mutants' rate.
  EXPECT_FALSE(s.record(program_returning(4), dear, 0, 1.0).has_value());
  EXPECT_EQ(s.weight(dear), 0.0);
}

TEST(CorpusScheduler, TheSameRecordsGiveTheSamePicks) {
  const auto run = [] {
    CorpusScheduler s;
    for (int i = 0; i < 40; ++i)
      s.record(program_returning(i), std::nullopt, static_cast<std::size_t>(i % 5), 0.1 * (1 + i % 7));
    ByteSource src(uint64_t{3});
    std::vector<CorpusScheduler::EntryId> picks;
    for (int i = 0; i < 50; ++i)
      picks.push_back(s.pick(src).value());
    return picks;
  };
  EXPECT_EQ(run(), run());
}

TEST(KernelCaseMixScheduled, MutantsComeFromTheCoveredProgramsOnceOneJoined) {
  KernelMixOptions o;
  o.isa_version = isa::IsaVersion::V4;
  o.verifier_stress_share = 1;
  o.mutate_rate = 0;
  o.coverage_scheduled = true;
  auto mix = KernelCaseMix::create(o).value();
  for (uint64_t seed = 0; seed < 50; ++seed)
    EXPECT_NE(mix.next(seed).origin, CaseOrigin::Mutant);  // nothing covered yet
  const KernelCaseMix::Drawn first = mix.next(1000);
  ASSERT_TRUE(mix.covered(first, 10, 1.0));
  ASSERT_NE(mix.scheduler(), nullptr);
  EXPECT_EQ(mix.scheduler()->size(), 1u);
  int mutants = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    const KernelCaseMix::Drawn d = mix.next(seed);
    if (d.origin != CaseOrigin::Mutant) {
      EXPECT_FALSE(d.parent.has_value());
      continue;
    }
    ++mutants;
    ASSERT_TRUE(d.parent.has_value());
    EXPECT_EQ(mix.scheduler()->program(*d.parent)->program.slots, first.c.program.slots);
  }
  // The share is what the rates say (about 15% here), bounded by [0.1, 0.7].
  const double share = mix.scheduler()->mutant_share();
  EXPECT_GE(share, 0.1);
  EXPECT_LE(share, 0.7);
  EXPECT_GT(mutants, 400 * share / 2);
  EXPECT_LT(mutants, 400 * share * 2);
  // Without scheduling, covered() keeps nothing and there is no scheduler.
  o.coverage_scheduled = false;
  auto plain = KernelCaseMix::create(o).value();
  EXPECT_FALSE(plain.covered(first, 10, 1.0));
  EXPECT_EQ(plain.scheduler(), nullptr);
}

}  // namespace
}  // namespace bpfdiff::fuzz
