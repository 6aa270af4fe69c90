// The program mix of kernel runs (fuzz/kernel_mix.hpp): the shares the
// options promise, determinism per seed, mutants only of accepted programs,
// the interp_vs_kernel input layout, and mutants that never make a clock or
// random number observable.
#include "fuzz/kernel_mix.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "fuzz/raw_input.hpp"
#include "fuzz/verifier_mutate.hpp"
#include "fuzz/verifier_stress.hpp"
#include "vm/isa/encode.hpp"
#include "vm/isa/raw.hpp"

namespace bpfdiff::fuzz {
namespace {

std::map<CaseOrigin, int> origins_of(KernelCaseMix& mix, int count) {
  std::map<CaseOrigin, int> out;
  for (int seed = 0; seed < count; ++seed)
    ++out[mix.next(static_cast<uint64_t>(seed)).origin];
  return out;
}

KernelMixOptions mix_options(double share, double mutate) {
  KernelMixOptions o;
  o.isa_version = isa::IsaVersion::V4;
  o.verifier_stress_share = share;
  o.mutate_rate = mutate;
  return o;
}

TEST(KernelCaseMix, TheShareDecidesTheGeneratorAndMutantsWaitForAnAcceptedProgram) {
  auto none = KernelCaseMix::create(mix_options(0, 0.5)).value();
  EXPECT_EQ(origins_of(none, 100)[CaseOrigin::KernelFriendly], 100);

  auto all = KernelCaseMix::create(mix_options(1, 0.5)).value();
  EXPECT_EQ(origins_of(all, 100)[CaseOrigin::VerifierStress], 100) << "no mutant before an acceptance";
  ByteSource src(5);
  all.accepted(generate_verifier_stress(src, {}));
  const auto after = origins_of(all, 400);
  EXPECT_GT(after.at(CaseOrigin::Mutant), 120);
  EXPECT_GT(after.at(CaseOrigin::VerifierStress), 120);
  EXPECT_EQ(after.count(CaseOrigin::KernelFriendly), 0u);

  auto half = KernelCaseMix::create(mix_options(0.5, 0)).value();
  const auto mixed = origins_of(half, 400);
  EXPECT_GT(mixed.at(CaseOrigin::KernelFriendly), 140);
  EXPECT_GT(mixed.at(CaseOrigin::VerifierStress), 140);
  EXPECT_EQ(mixed.count(CaseOrigin::Mutant), 0u);
}

TEST(KernelCaseMix, TheSameSeedGivesTheSameProgramFromTheSameSource) {
  auto a = KernelCaseMix::create(mix_options(0.5, 0)).value();
  auto b = KernelCaseMix::create(mix_options(0.5, 0)).value();
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const auto x = a.next(seed);
    const auto y = b.next(seed);
    EXPECT_EQ(x.origin, y.origin);
    EXPECT_EQ(x.c.program.slots, y.c.program.slots);
    EXPECT_EQ(x.c.memory, y.c.memory);
  }
}

TEST(KernelCaseMix, RefusesSharesOutsideZeroToOne) {
  EXPECT_FALSE(KernelCaseMix::create(mix_options(1.5, 0)));
  EXPECT_FALSE(KernelCaseMix::create(mix_options(0.5, -1)));
}

TEST(KernelTargetLayout, TheFirstByteChoosesRawOrTheGenerator) {
  EXPECT_FALSE(kernel_target_case({}, isa::IsaVersion::V4));
  std::map<CaseOrigin, int> seen;
  for (int first = 0; first < 8; first += 2) {
    std::vector<uint8_t> bytes(300);
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<uint8_t>(i * 37 + 11);
    bytes[0] = static_cast<uint8_t>(first);
    const auto c = kernel_target_case(bytes, isa::IsaVersion::V4).value();
    ++seen[c.origin];
    EXPECT_EQ(c.budget, kGeneratedInstructionBudget);
    const auto again = kernel_target_case(bytes, isa::IsaVersion::V4).value();
    EXPECT_EQ(again.c.program.slots, c.c.program.slots) << "the input alone decides the program";
  }
  EXPECT_EQ(seen[CaseOrigin::KernelFriendly], 1);
  EXPECT_EQ(seen[CaseOrigin::VerifierStress], 2);
  EXPECT_EQ(seen[CaseOrigin::Mutant], 1);

  const std::vector<isa::RawInsn> program = {isa::encode(isa::Form::mov_imm, 0, 0, 0, 7),
                                             isa::encode(isa::Form::exit, 0, 0, 0, 0)};
  std::vector<uint8_t> raw = {1};
  const auto joined = join_raw_input(isa::encode_slots(program), std::vector<uint8_t>{9, 8});
  raw.insert(raw.end(), joined.begin(), joined.end());
  const auto c = kernel_target_case(raw, isa::IsaVersion::V4).value();
  EXPECT_EQ(c.origin, CaseOrigin::Raw);
  EXPECT_EQ(c.c.program.slots, program);
  EXPECT_EQ(c.c.memory, (std::vector<uint8_t>{9, 8}));
  EXPECT_EQ(c.budget, kRawInputInstructionBudget);
}

TEST(VerifierMutate, NeverEditsTheReductionOfAHelperResult) {
  // call get_prandom_u32; r0 &= 0; r1 = 3; r1 += 4; exit: only the and
  // hides the random number; every other ALU slot is fair game.
  const std::vector<isa::RawInsn> slots = {
      isa::encode(isa::Form::call_helper, 0, 0, 0, 7), isa::encode(isa::Form::and_imm, 0, 0, 0, 0),
      isa::encode(isa::Form::mov_imm, 1, 0, 0, 3), isa::encode(isa::Form::add_imm, 1, 0, 0, 4),
      isa::encode(isa::Form::exit, 0, 0, 0, 0)};
  vm::Program p;
  p.slots = slots;
  int edited = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    ByteSource src(seed);
    const vm::Program m = mutate_for_verifier(p, src, isa::IsaVersion::V4, 3);
    ASSERT_EQ(m.slots[1], slots[1]) << "seed " << seed;
    edited += m.slots != slots ? 1 : 0;
  }
  EXPECT_GT(edited, 250);
}

TEST(VerifierMutate, RunawayLoopMutantsAreRedrawnAndOnlyAFewKept) {
  // A loop counted down from a constant: r1 = 3; r1 -= 1; if r1 != 0 goto
  // -2; r0 = 0; exit. Edits of the constant, the decrement or the closer
  // (made negative, an increment, a 32-bit count tested as 64 bits, ...)
  // often leave a loop of billions of iterations, which the verifier walks
  // to its complexity limit.
  vm::Program p;
  p.slots = {isa::encode(isa::Form::mov_imm, 1, 0, 0, 3), isa::encode(isa::Form::sub_imm, 1, 0, 0, 1),
             isa::encode(isa::Form::jne_imm, 1, 0, -2, 0), isa::encode(isa::Form::mov_imm, 0, 0, 0, 0),
             isa::encode(isa::Form::exit, 0, 0, 0, 0)};
  GeneratedCase parent;
  parent.program = p;
  parent.memory.assign(16, 0);
  ASSERT_FALSE(runs_past_budget(parent.program, parent.memory));
  int blind = 0;
  int redrawn = 0;
  constexpr int kSeeds = 2000;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    ByteSource a(seed);
    blind += runs_past_budget(mutate_for_verifier(p, a, isa::IsaVersion::V4, 1 + a.below(3)), parent.memory);
    ByteSource b(seed);
    const GeneratedCase m = mutate_case_for_verifier(parent, b, isa::IsaVersion::V4);
    EXPECT_EQ(m.memory, parent.memory);
    EXPECT_EQ(m.program.slots.size(), p.slots.size());
    redrawn += runs_past_budget(m.program, m.memory);
  }
  // Blind edits run away often (here nearly half: every slot but the exit
  // belongs to the loop); redrawn ones a few times less, but some are kept.
  // (In generated programs, where loops are a small part, blind edits ran
  // away in 2.6% of the mutants and redrawn ones in 0.24 to 0.26%.)
  EXPECT_GT(blind, kSeeds / 10);
  EXPECT_LT(redrawn, blind / 4);
  EXPECT_GT(redrawn, 0);
}

TEST(VerifierMutate, AMutantIsTheSameForTheSameDecisions) {
  GeneratedCase parent;
  parent.program.slots = {
      isa::encode(isa::Form::mov_imm, 1, 0, 0, 3), isa::encode(isa::Form::sub_imm, 1, 0, 0, 1),
      isa::encode(isa::Form::jne_imm, 1, 0, -2, 0), isa::encode(isa::Form::mov_imm, 0, 0, 0, 0),
      isa::encode(isa::Form::exit, 0, 0, 0, 0)};
  for (uint64_t seed = 0; seed < 50; ++seed) {
    ByteSource a(seed);
    ByteSource b(seed);
    EXPECT_EQ(mutate_case_for_verifier(parent, a, isa::IsaVersion::V4).program.slots,
              mutate_case_for_verifier(parent, b, isa::IsaVersion::V4).program.slots);
  }
}

}  // namespace
}  // namespace bpfdiff::fuzz
