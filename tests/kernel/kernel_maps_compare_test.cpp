// Map contents, map value pointers and map helper results between our VM
// and a kernel engine: the snapshot form of the kernel's contents, the
// translation of pointers into array values, and, where bpf() works,
// interp against kernel-host on hand-written and generated map programs --
// including that a wrong map content on our side is reported.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "oracle/comparability.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_host_engine.hpp"
#include "oracle/kernel_outcome.hpp"
#include "tests/support/map_defs.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle {
namespace {

vm::MapDef array_def(uint32_t value_size, uint32_t entries, std::vector<uint8_t> initial = {}) {
  return test_support::array_map("array", value_size, entries, std::move(initial));
}

vm::MapDef hash_def(uint32_t key_size, uint32_t value_size, uint32_t entries) {
  return test_support::hash_map("hash", key_size, value_size, entries);
}

TEST(KernelMapSnapshots, HashKeysAreSortedArraysKeepTheirOrder) {
  kernel::KernelMap hash;
  hash.type = kernel::kMapTypeHash;
  kernel::KernelMap array;
  const std::vector<kernel::KernelMapContents> contents{
      {{{{1, 0}, {5}}, {{0, 0}, {6}}}},
      {{{{9, 0}, {7}}, {{3, 0}, {8}}}},
  };
  const auto s = to_snapshots(contents, std::vector<kernel::KernelMap>{array, hash});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].entries[0].key, (std::vector<uint8_t>{1, 0})) << "array entries stay in index order";
  EXPECT_EQ(s[1].type, vm::MapType::Hash);
  EXPECT_EQ(s[1].entries[0].key, (std::vector<uint8_t>{3, 0}));
  EXPECT_EQ(s[1].entries[1].key, (std::vector<uint8_t>{9, 0}));
}

TEST(KernelMapPointers, ArrayValuePointersTranslateThroughTheKernelsPaddedStride) {
  KernelBases b;
  constexpr uint64_t kBase = 0xffffc90000a01000ull;
  b.maps.push_back({kBase, 12, 3, 1});  // value size 12: the kernel's stride is 16
  const uint64_t ours = vm::map_values_base(1);
  EXPECT_EQ(translate_pointer(kBase, b), ours);
  EXPECT_EQ(translate_pointer(kBase + 16 + 4, b), ours + 12 + 4) << "value 1, byte 4";
  EXPECT_EQ(translate_pointer(kBase + 32, b), ours + 24) << "value 2";
  EXPECT_EQ(translate_pointer(kBase - 8, b), ours - 8) << "below the values: linear";
  EXPECT_EQ(translate_pointer(12345, b), 12345u) << "a scalar far from every base";
}

// Ours and a kernel outcome that agree, then one map byte of ours changed.
TEST(KernelMapCompare, AMapByteThatDiffersIsAMismatchUnlessAPointerWasStoredThere) {
  Outcome ours;
  ours.loaded = true;
  ours.maps_observed = true;
  ours.maps = {{"a", vm::MapType::Array, {{{0, 0, 0, 0}, {1, 2}}}}};
  Outcome kernel;
  kernel.loaded = true;
  kernel.maps = ours.maps;
  kernel.maps_observed = true;
  KernelOutcome k;
  k.verdict = kernel::KernelVerdict::Accepted;
  k.plain.verdict = kernel::KernelVerdict::Accepted;
  k.plain_maps = ours.maps;
  kernel.kernel = k;
  EXPECT_EQ(compare_with_kernel(ours, kernel).kind, KernelAgreement::Agree);
  ours.maps[0].entries[0].value[1] = 3;
  const KernelComparison c = compare_with_kernel(ours, kernel);
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch);
  ASSERT_EQ(c.differences.size(), 2u);
  EXPECT_EQ(c.differences[0].field, "maps[0].entries[0].value[1]");
  EXPECT_EQ(c.differences[1].field, "plain.maps[0].entries[0].value[1]");
  kernel.kernel->pointer_stored_in_map = true;
  EXPECT_EQ(compare_with_kernel(ours, kernel).kind, KernelAgreement::Agree)
      << "a kernel address in a map value is not comparable";
}

TEST(KernelMapCompare, HashValuePointersAndMapHandlesInRegistersAreNotCompared) {
  Outcome ours;
  ours.loaded = true;
  ours.maps_observed = true;
  ours.maps = {{"h", vm::MapType::Hash, {}}, {"a", vm::MapType::Array, {}}};
  Outcome kernel = ours;
  KernelOutcome k;
  k.verdict = kernel::KernelVerdict::Accepted;
  kernel.kernel = k;
  ours.regs[3] = vm::map_values_base(0) + 16;  // a hash value
  kernel.regs[3] = 0xffff888100200010ull;      // wherever the kernel put it
  ours.regs[4] = vm::map_handle(1);            // a map handle
  kernel.regs[4] = 0xffff888100300000ull;      // a struct bpf_map
  EXPECT_EQ(compare_with_kernel(ours, kernel).kind, KernelAgreement::Agree);
  ours.regs[5] = vm::map_values_base(1) + 8;  // an array value: translated, so compared
  kernel.regs[5] = vm::map_values_base(1);
  EXPECT_EQ(compare_with_kernel(ours, kernel).kind, KernelAgreement::Mismatch);
}

// A hash value read through a pointer from before an update of the map: the
// kernel replaced the element, we updated in place -- not comparable. Read
// through a pointer looked up after the update, it is.
TEST(KernelMapComparability, HashPointersOlderThanAnUpdateAreNotComparable) {
  const std::string insert =
      "stdw [r10-8], 1\nstdw [r10-16], 5\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -8\nmov r3, r10\nadd r3, -16\nmov r4, 0\ncall 2\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -8\ncall 1\nmov r6, r0\n"
      "stdw [r10-16], 6\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -8\nmov r3, r10\nadd r3, -16\nmov r4, 0\ncall 2\n";
  const auto comparability = [](const std::string& text) {
    auto p = text::assemble(text);
    EXPECT_TRUE(p.ok()) << p.error().message;
    vm::Program program = p.ok() ? *p : vm::Program{};
    program.maps = {hash_def(8, 8, 4)};
    return check_comparability(program, {}, vm::RunMode::Memory, vm::ExecLimits{});
  };
  EXPECT_TRUE(comparability(insert + "ldxdw r0, [r6+0]\nexit").stale_map_pointer);
  EXPECT_FALSE(comparability(insert + "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -8\ncall 1\n"
                                      "jeq r0, 0, +1\nldxdw r0, [r0+0]\nexit")
                   .stale_map_pointer);
  // A pointer spilled into the value to be stored makes the map's contents a kernel address.
  const Comparability stored = comparability(
      "stxdw [r10-16], r10\nstdw [r10-8], 1\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -8\nmov r3, r10\nadd r3, -16\nmov r4, 0\ncall 2\nexit");
  EXPECT_TRUE(stored.pointer_stored_in_map);
  EXPECT_FALSE(stored.stale_map_pointer);
}

// ---- interp against kernel-host ---------------------------------------------------

class KernelMapsEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto probe = kernel_host_available(); !probe) GTEST_SKIP() << probe.error().message;
    kernel_ = std::move(make_engine(kKernelHostEngine)).value();
    interp_ = std::move(make_engine("interp")).value();
  }
  KernelComparison both(const vm::Program& p, const std::vector<uint8_t>& memory, Outcome* ours_out = nullptr,
                        Outcome* kernel_out = nullptr) {
    EngineInput input;
    input.memory = memory;
    return both_input(p, input, ours_out, kernel_out);
  }
  KernelComparison both_input(const vm::Program& p, const EngineInput& input, Outcome* ours_out = nullptr,
                              Outcome* kernel_out = nullptr) {
    Outcome ours = interp_->run(p, input);
    Outcome theirs = kernel_->run(p, input);
    KernelComparison c = compare_with_kernel(ours, theirs);
    if (ours_out != nullptr) *ours_out = std::move(ours);
    if (kernel_out != nullptr) *kernel_out = std::move(theirs);
    return c;
  }
  static vm::Program assemble(const std::string& text, std::vector<vm::MapDef> maps) {
    auto p = text::assemble(text);
    EXPECT_TRUE(p.ok()) << p.error().message;
    vm::Program out = p.ok() ? *p : vm::Program{};
    out.maps = std::move(maps);
    return out;
  }
  std::unique_ptr<Engine> kernel_;
  std::unique_ptr<Engine> interp_;
};

// Through lookup pointers: array value 1 += 5, hash key 7 = that value,
// then a second update of key 7 with BPF_NOEXIST (-EEXIST in r0), a
// delete of an absent key (-ENOENT in r7), an array delete (-EINVAL in r8).
constexpr const char* kMapProgram =
    "stw [r10-4], 1\n"
    "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\n"
    "jeq r0, 0, +36\n"
    "ldxdw r6, [r0+0]\nadd r6, 5\nstxdw [r0+0], r6\n"
    "stdw [r10-16], 7\nstxdw [r10-24], r6\n"
    "lddw r1, map_idx(1)\nmov r2, r10\nadd r2, -16\nmov r3, r10\nadd r3, -24\nmov r4, 0\ncall 2\n"
    "stdw [r10-16], 8\n"
    "lddw r1, map_fd(1)\nmov r2, r10\nadd r2, -16\ncall 3\nmov r7, r0\n"
    "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 3\nmov r8, r0\n"
    "stdw [r10-16], 7\n"
    "lddw r1, map_fd(1)\nmov r2, r10\nadd r2, -16\nmov r3, r10\nadd r3, -24\nmov r4, 1\ncall 2\n"
    "exit\n"
    "mov r0, 99\nexit";

TEST_F(KernelMapsEngineTest, UpdatesThroughLookupPointersAndHelperResultsAgree) {
  std::vector<uint8_t> initial(16, 0);
  initial[8] = 40;
  const vm::Program p = assemble(kMapProgram, {array_def(8, 2, initial), hash_def(8, 8, 4)});
  Outcome ours, kernel;
  const KernelComparison c = both(p, {}, &ours, &kernel);
  ASSERT_EQ(c.kind, KernelAgreement::Agree)
      << c.reason << (c.differences.empty() ? "" : to_string(c.differences[0])) << "\n"
      << kernel.load_error << kernel.kernel->plain.log;
  ASSERT_TRUE(kernel.ok()) << kernel.load_error;
  EXPECT_EQ(kernel.regs[0], static_cast<uint64_t>(-17)) << "-EEXIST";
  EXPECT_EQ(kernel.regs[7], static_cast<uint64_t>(-2)) << "-ENOENT";
  EXPECT_EQ(kernel.regs[8], static_cast<uint64_t>(-22)) << "-EINVAL";
  ASSERT_EQ(kernel.maps.size(), 2u);
  EXPECT_EQ(kernel.maps[0].entries[1].value[0], 45);
  ASSERT_EQ(kernel.maps[1].entries.size(), 1u);
  EXPECT_EQ(kernel.kernel->plain.verdict, kernel::KernelVerdict::Accepted) << kernel.kernel->plain.log;
  EXPECT_EQ(kernel.kernel->plain_maps, kernel.maps);

  // The same run with one wrong byte on our side is reported.
  ours.maps[1].entries[0].value[0] ^= 1;
  const KernelComparison wrong = compare_with_kernel(ours, kernel);
  EXPECT_EQ(wrong.kind, KernelAgreement::Mismatch);
  ASSERT_FALSE(wrong.differences.empty());
  EXPECT_EQ(wrong.differences[0].field, "maps[1].entries[0].value[0]");
}

TEST_F(KernelMapsEngineTest, AWrongInitialContentOnOurSideIsReported) {
  // Our VM given other initial contents than the kernel: the engine sends
  // the program's maps, so run ours on a copy with one byte changed.
  std::vector<uint8_t> initial(16, 0);
  initial[8] = 40;
  const vm::Program p = assemble(kMapProgram, {array_def(8, 2, initial), hash_def(8, 8, 4)});
  vm::Program skewed = p;
  skewed.maps[0].initial_values[0] = 1;  // index 0, which the program never touches
  EngineInput input;
  const Outcome ours = interp_->run(skewed, input);
  const Outcome kernel = kernel_->run(p, input);
  const KernelComparison c = compare_with_kernel(ours, kernel);
  EXPECT_EQ(c.kind, KernelAgreement::Mismatch);
  ASSERT_FALSE(c.differences.empty());
  EXPECT_EQ(c.differences[0].field, "maps[0].entries[0].value[0]");
}

// A hash map with starting entries: the kernel engine inserts them as our
// VM does, so lookups find them on both sides and the contents read back
// agree; our VM given another starting value is reported.
TEST_F(KernelMapsEngineTest, HashMapStartingEntriesReachTheKernel) {
  vm::MapDef h = hash_def(4, 8, 3);
  h.initial_entries = {{{7, 0, 0, 0}, {0, 0x11, 0, 0, 0, 0, 0, 0}},
                       {{2, 0, 0, 0}, {0x22, 0, 0, 0, 0, 0, 0, 0}}};
  const vm::Program p = assemble(
      "stw [r10-4], 7\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\n"
      "jeq r0, 0, missing\n"
      "ldxdw r6, [r0+0]\nadd r6, 1\nstxdw [r0+0], r6\n"
      "stw [r10-4], 2\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\n"
      "jeq r0, 0, missing\n"
      "ldxdw r0, [r0+0]\nadd r0, r6\nexit\n"
      "missing:\nmov r0, 99\nexit",
      {h});
  Outcome ours, kernel;
  const KernelComparison c = both(p, {}, &ours, &kernel);
  ASSERT_EQ(c.kind, KernelAgreement::Agree)
      << c.reason << (c.differences.empty() ? "" : to_string(c.differences[0]));
  ASSERT_TRUE(kernel.ok()) << kernel.load_error;
  EXPECT_EQ(kernel.regs[0], 0x1101u + 0x22u);
  EXPECT_EQ(kernel.kernel->plain.retval, 0x1123u);
  ASSERT_EQ(kernel.maps.size(), 1u);
  ASSERT_EQ(kernel.maps[0].entries.size(), 2u);
  EXPECT_EQ(kernel.maps[0].entries[1].key, (std::vector<uint8_t>{7, 0, 0, 0}));
  EXPECT_EQ(kernel.maps[0].entries[1].value[0], 1) << "0x1100 + 1, written through the lookup pointer";
  ASSERT_EQ(ours.maps.size(), 1u);
  EXPECT_EQ(kernel.maps[0].entries, ours.maps[0].entries);
  ASSERT_EQ(kernel.kernel->plain_maps.size(), 1u);
  EXPECT_EQ(kernel.kernel->plain_maps[0].entries, ours.maps[0].entries);

  vm::Program skewed = p;
  skewed.maps[0].initial_entries[1].value[0] = 0x23;
  const KernelComparison wrong = compare_with_kernel(interp_->run(skewed, EngineInput{}), kernel);
  EXPECT_EQ(wrong.kind, KernelAgreement::Mismatch);
}

TEST_F(KernelMapsEngineTest, ArrayValuePointersLeftInRegistersTranslate) {
  const vm::Program p = assemble(
      "mov r7, 0\nlddw r6, map_value(1, 4)\nstw [r10-4], 2\nlddw r1, map_fd(0)\nmov r2, r10\nadd r2, "
      "-4\ncall 1\n"
      "jeq r0, 0, +2\nmov r7, r0\nadd r7, 8\nmov r0, 0\nexit",
      {array_def(12, 3), array_def(8, 1)});
  Outcome ours, kernel;
  const KernelComparison c = both(p, {}, &ours, &kernel);
  EXPECT_EQ(c.kind, KernelAgreement::Agree) << c.reason;
  ASSERT_TRUE(kernel.ok()) << kernel.load_error;
  EXPECT_EQ(kernel.regs[6], vm::map_values_base(1) + 4) << "a single-entry array's direct value address";
  EXPECT_EQ(kernel.regs[7], vm::map_values_base(0) + 2 * 12 + 8) << "value 2 + 8, our stride";
}

TEST_F(KernelMapsEngineTest, GeneratedMapProgramsAgreeWithTheKernel) {
  fuzz::KernelFriendlyOptions opt;
  opt.map_program_rate = 1.0;
  opt.map_rate = 0.2;
  opt.isa_version = isa::IsaVersion::V3;
  int accepted = 0, with_maps = 0, with_map_calls = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    fuzz::ByteSource src(seed);
    const fuzz::GeneratedCase g = fuzz::generate_kernel_friendly(src, opt);
    with_maps += !g.program.maps.empty();
    bool calls = false;
    for (const isa::RawInsn& i : g.program.slots)
      calls = calls || (i.opcode == 0x85 && i.src == 0 && i.imm >= 1 && i.imm <= 3);
    with_map_calls += calls;
    Outcome ours, kernel;
    const KernelComparison c = both_input(g.program, fuzz::engine_input(g), &ours, &kernel);
    EXPECT_FALSE(c.finding()) << "seed " << seed << ": " << c.reason << ": "
                              << (c.differences.empty() ? "" : to_string(c.differences[0]));
    accepted += kernel.ok();
  }
  EXPECT_EQ(with_maps, 150);
  EXPECT_GE(with_map_calls, 75);
  EXPECT_GE(accepted, 100) << "most generated map programs are accepted";
}

}  // namespace
}  // namespace bpfdiff::oracle
