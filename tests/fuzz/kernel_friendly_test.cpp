#include "fuzz/kernel_friendly.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fuzz/differential.hpp"
#include "oracle/comparability.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel/program_pieces.hpp"
#include "tests/fuzz/form_count.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::fuzz {
namespace {

using testing::count_forms;
using testing::FormCounts;

GeneratedCase from_seed(uint64_t seed, const KernelFriendlyOptions& opt = {}) {
  ByteSource src(seed);
  return generate_kernel_friendly(src, opt);
}

std::string why_invalid(const vm::Program& p) {
  auto v = vm::validate(p, oracle::default_helpers());
  return v ? std::string() : v.error().message;
}

oracle::Engine& interp() {
  static auto e = std::move(oracle::make_engine("interp")).value();
  return *e;
}

KernelFriendlyOptions with_isa(isa::IsaVersion v) {
  KernelFriendlyOptions opt;
  opt.isa_version = v;
  return opt;
}

TEST(KernelFriendly, EveryProgramIsValidAndHoldsOnlyFormsOfItsIsaVersionTheKernelTakes) {
  for (auto version : {isa::IsaVersion::V3, isa::IsaVersion::V4}) {
    for (uint64_t seed = 0; seed < 400; ++seed) {
      const GeneratedCase c = from_seed(seed, with_isa(version));
      ASSERT_EQ(why_invalid(c.program), "") << "seed " << seed;
      ASSERT_LE(c.memory.size(), kMaxGeneratedMemory);
      FormCounts counts{};
      count_forms(c.program, counts);
      for (std::size_t f = 0; f < counts.size(); ++f) {
        if (counts[f] == 0) continue;
        const isa::FormInfo& fi = isa::all_forms()[f];
        ASSERT_LE(static_cast<int>(fi.version), static_cast<int>(version)) << fi.name << " seed " << seed;
        // The map lddw forms appear in programs with maps, never at random.
        const bool map_form = fi.form == isa::Form::lddw_map_fd || fi.form == isa::Form::lddw_map_idx ||
                              fi.form == isa::Form::lddw_map_value ||
                              fi.form == isa::Form::lddw_map_idx_value;
        ASSERT_TRUE(kernel_friendly(fi.form) || (map_form && !c.program.maps.empty()))
            << fi.name << " seed " << seed;
      }
    }
  }
}

TEST(KernelFriendly, TheSameSeedGivesTheSameCase) {
  for (uint64_t seed : {1u, 77u, 4242u}) {
    const GeneratedCase a = from_seed(seed);
    const GeneratedCase b = from_seed(seed);
    EXPECT_EQ(a.program.slots, b.program.slots);
    EXPECT_EQ(a.memory, b.memory);
  }
  EXPECT_NE(from_seed(1).program.slots, from_seed(2).program.slots);
}

TEST(KernelFriendly, AThousandProgramsCoverEveryFormTheModeEmits) {
  for (auto version : {isa::IsaVersion::V3, isa::IsaVersion::V4}) {
    FormCounts counts{};
    for (uint64_t seed = 0; seed < 1'000; ++seed)
      count_forms(from_seed(seed, with_isa(version)).program, counts);
    for (isa::Form f : kernel_friendly_forms(version))
      EXPECT_GT(counts[static_cast<std::size_t>(f)], 0u) << isa::info(f).name;
  }
}

TEST(KernelFriendly, TheModeLeavesOutOnlyWhatTheKernelRefusesForSyscallPrograms) {
  std::vector<std::string> left_out;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    if (!kernel_friendly(fi.form)) left_out.emplace_back(fi.name);
  }
  EXPECT_EQ(left_out, (std::vector<std::string>{"callx", "lddw_map_fd", "lddw_map_value", "lddw_btf_var",
                                                "lddw_code", "lddw_map_idx", "lddw_map_idx_value", "ldabsw",
                                                "ldabsh", "ldabsb", "ldindw", "ldindh", "ldindb"}));
}

// No deliberate out-of-bounds access, no fault of any kind, no loop that
// outlives the budget: every program runs to its exit in our interpreter.
// Nothing in it reads stack it did not write (the kernel's is not zeroed).
// Pointer bits: the generator never lets them into a value, but the check
// takes any value in our stack or input region for a pointer; the generator
// keeps its constants and memory words out of them, so only a computed
// scalar that lands there (0xffffffff + 1, a quotient, ...) flags a
// program: about 5% of them, and the flag only excuses a disagreement.
TEST(KernelFriendly, EveryProgramRunsCleanlyAndComparably) {
  std::size_t flagged = 0;
  constexpr uint64_t kPrograms = 400;
  for (uint64_t seed = 0; seed < kPrograms; ++seed) {
    const GeneratedCase c = from_seed(seed);
    const oracle::EngineInput input = engine_input(c);
    const oracle::Outcome o = interp().run(c.program, input);
    ASSERT_TRUE(o.ok()) << "seed " << seed << ": " << o.load_error << " " << vm::to_string(o.error.kind)
                        << " at pc " << o.error.pc;
    const oracle::Comparability cmp =
        oracle::check_comparability(c.program, c.memory, input.mode, input.limits);
    ASSERT_FALSE(cmp.uninitialized_stack_read) << "seed " << seed;
    flagged += cmp.pointer_bits_exposed;
  }
  EXPECT_LT(flagged * 10, kPrograms) << flagged << " programs flagged as exposing pointer bits";
}

TEST(KernelFriendly, HelperCallsAreKtimePrandomAndTheMapHelpersInProgramsWithMaps) {
  std::size_t helpers = 0, map_helpers = 0, with_maps = 0, tail_calls = 0, with_program_array = 0;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    const GeneratedCase c = from_seed(seed);
    with_maps += !c.program.maps.empty();
    const bool program_array =
        !c.program.maps.empty() && c.program.maps.back().type == vm::MapType::ProgArray;
    with_program_array += program_array;
    for (const isa::RawInsn& i : c.program.slots) {
      if (i.opcode != 0x85 || i.src != 0) continue;
      ++helpers;
      const bool map_helper = i.imm >= 1 && i.imm <= 3;
      const bool tail_call = i.imm == static_cast<int32_t>(vm::HelperId::TailCall);
      map_helpers += map_helper;
      tail_calls += tail_call;
      EXPECT_TRUE(i.imm == static_cast<int32_t>(kKtimeGetNsHelper) ||
                  i.imm == static_cast<int32_t>(kGetPrandomU32Helper) ||
                  (map_helper && !c.program.maps.empty()) || (tail_call && program_array))
          << "helper " << i.imm << " seed " << seed;
    }
  }
  // Tail calls (on by default): a share of the map programs get a program
  // array, and some of those call it.
  EXPECT_GT(with_program_array, 20u);
  EXPECT_GT(tail_calls, 10u);
  EXPECT_GT(helpers, map_helpers);
  EXPECT_GT(map_helpers, 100u);
  EXPECT_GT(with_maps, 100u) << "about a third of the programs have maps";
  EXPECT_LT(with_maps, 250u);
}

// Half the program arrays hold a tail-call target at index 1: code after
// the subprograms that the kernel runs as a program of its own, so it
// must cut cleanly (oracle/kernel/program_pieces.hpp), and some programs
// tail-call it (a run without it in the array ends differently).
TEST(KernelFriendly, HalfTheProgramArraysHoldATailCallTargetThatCutsIntoAProgramOfItsOwn) {
  std::size_t arrays = 0, with_target = 0, target_changes_the_run = 0;
  for (uint64_t seed = 0; seed < 600; ++seed) {
    const GeneratedCase c = from_seed(seed);
    if (c.program.maps.empty() || c.program.maps.back().type != vm::MapType::ProgArray) continue;
    ++arrays;
    const auto& entries = c.program.maps.back().prog_entries;
    ASSERT_FALSE(entries.empty());
    EXPECT_EQ(entries[0], (std::pair<uint32_t, uint32_t>{0, 0})) << "seed " << seed;
    if (entries.size() < 2) continue;
    ++with_target;
    ASSERT_EQ(entries[1].first, 1u);
    const uint32_t target = entries[1].second;
    ASSERT_GT(target, 0u) << "seed " << seed;
    ASSERT_LT(target, c.program.slots.size()) << "seed " << seed;
    const std::vector<uint32_t> targets{target};
    auto pieces = oracle::kernel::cut_into_pieces(c.program.slots, targets);
    ASSERT_TRUE(pieces.ok()) << "seed " << seed << ": " << pieces.error().message;
    ASSERT_EQ(pieces->size(), 2u);
    // Runs cleanly with the target, and differently without it when it is taken.
    const oracle::EngineInput input = engine_input(c);
    const oracle::Outcome with = interp().run(c.program, input);
    ASSERT_TRUE(with.ok()) << "seed " << seed << ": " << vm::to_string(with.error.kind) << " at pc "
                           << with.error.pc;
    vm::Program without = c.program;
    without.maps.back().prog_entries.resize(1);
    const oracle::Outcome o = interp().run(without, input);
    target_changes_the_run += o.regs != with.regs || o.memory != with.memory;
  }
  EXPECT_GT(arrays, 30u);
  EXPECT_GT(with_target * 4, arrays) << with_target << " of " << arrays;
  EXPECT_LT(with_target * 4, arrays * 3) << with_target << " of " << arrays;
  EXPECT_GT(target_changes_the_run, 3u) << "programs that tail-call their target";
}

TEST(KernelFriendly, RatesOfZeroTurnOffCallsHelpersAndLoops) {
  KernelFriendlyOptions opt;
  opt.call_rate = 0;
  opt.helper_rate = 0;
  opt.loop_rate = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const GeneratedCase c = from_seed(seed, opt);
    FormCounts counts{};
    count_forms(c.program, counts);
    EXPECT_EQ(counts[static_cast<std::size_t>(isa::Form::call_helper)], 0u) << seed;
    EXPECT_EQ(counts[static_cast<std::size_t>(isa::Form::call_local)], 0u) << seed;
    const oracle::Outcome o = interp().run(c.program, engine_input(c));
    ASSERT_TRUE(o.ok()) << seed;
    EXPECT_LE(o.instructions, c.program.slots.size())
        << "no loops: each slot runs at most once, seed " << seed;
  }
}

TEST(KernelFriendly, AnyFuzzerBytesGiveAValidProgramWithinItsSize) {
  ByteSource lengths(uint64_t{5});
  for (int i = 0; i < 400; ++i) {
    std::vector<uint8_t> bytes(lengths.below(800));
    for (auto& b : bytes)
      b = lengths.byte();
    ByteSource src(bytes);
    KernelFriendlyOptions opt;
    opt.max_instructions = 16 + lengths.below(256);
    const GeneratedCase c = generate_kernel_friendly(src, opt);
    ASSERT_EQ(why_invalid(c.program), "") << "input " << i;
    ASSERT_LE(c.program.slots.size(), opt.max_instructions + 8) << "input " << i;
    const oracle::Outcome o = interp().run(c.program, engine_input(c));
    ASSERT_TRUE(o.ok()) << "input " << i << ": " << o.load_error;
  }
}

TEST(KernelFriendly, TheIsaVersionFollowsTheKernelRelease) {
  EXPECT_EQ(isa_version_for_kernel("6.1.0-18-cloud-amd64"), isa::IsaVersion::V3);
  EXPECT_EQ(isa_version_for_kernel("6.5.13"), isa::IsaVersion::V3);
  EXPECT_EQ(isa_version_for_kernel("6.6.0"), isa::IsaVersion::V4);
  EXPECT_EQ(isa_version_for_kernel("6.12.9+bpo-cloud-amd64"), isa::IsaVersion::V4);
  EXPECT_EQ(isa_version_for_kernel("6.18.44-fc-v445"), isa::IsaVersion::V4);
  EXPECT_EQ(isa_version_for_kernel("7.0"), isa::IsaVersion::V4);
  EXPECT_EQ(isa_version_for_kernel("5.15.0"), isa::IsaVersion::V3);
  for (const char* bad : {"", "6", "6.", "x.y", "6.x"})
    EXPECT_EQ(isa_version_for_kernel(bad), isa::IsaVersion::V3) << bad;
}

}  // namespace
}  // namespace bpfdiff::fuzz
