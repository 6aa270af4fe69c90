// The program's maps in kernel runs: relocation of the map lddw forms,
// what check_expressible refuses, the request's map checks and, where
// bpf() works, the executor creating, filling, resetting and reading back
// array and hash maps.
#include "oracle/kernel/kernel_maps.hpp"
#include "oracle/kernel/program_pieces.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "oracle/kernel/full_state_rewrite.hpp"
#include "oracle/kernel/kernel_executor.hpp"
#include "vm/isa/encode.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

using isa::RawInsn;

std::vector<RawInsn> assemble(const std::string& text) {
  auto p = text::assemble(text);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? p->slots : std::vector<RawInsn>{};
}

KernelMap array_map(uint32_t value_size, uint32_t entries, std::vector<uint8_t> initial = {}) {
  KernelMap m;
  m.type = kMapTypeArray;
  m.value_size = value_size;
  m.max_entries = entries;
  m.initial_values = std::move(initial);
  return m;
}

KernelMap hash_map(uint32_t key_size, uint32_t value_size, uint32_t entries) {
  KernelMap m;
  m.type = kMapTypeHash;
  m.key_size = key_size;
  m.value_size = value_size;
  m.max_entries = entries;
  return m;
}

TEST(MapRelocation, EveryMapFormBecomesTheKernelsFdForm) {
  const auto p = assemble(
      "lddw r1, map_fd(1)\nlddw r2, map_idx(0)\nlddw r3, map_value(1, 12)\n"
      "lddw r4, map_idx_value(0, 4)\nlddw r5, 0x1122334455667788\nmov r0, 0\nexit");
  const std::vector<int> fds{40, 41};
  const auto r = relocate_maps(p, fds);
  ASSERT_EQ(r.size(), p.size());
  EXPECT_EQ(r[0].src, 1);  // BPF_PSEUDO_MAP_FD
  EXPECT_EQ(r[0].imm, 41);
  EXPECT_EQ(r[2].src, 1);
  EXPECT_EQ(r[2].imm, 40);
  EXPECT_EQ(r[4].src, 2);  // BPF_PSEUDO_MAP_VALUE
  EXPECT_EQ(r[4].imm, 41);
  EXPECT_EQ(r[5].imm, 12) << "the value offset stays in the second slot";
  EXPECT_EQ(r[6].src, 2);
  EXPECT_EQ(r[6].imm, 40);
  EXPECT_EQ(r[7].imm, 4);
  EXPECT_EQ(r[8], p[8]) << "a plain lddw is untouched";
  EXPECT_EQ(r[9], p[9]);
}

TEST(MapRelocation, CheckExpressibleRefusesMapsTheRequestLacksAndTailCalls) {
  const auto p = assemble("lddw r1, map_fd(1)\nmov r0, 0\nexit");
  const auto none = check_expressible(p, false, 1);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("names map 1; the request carries 1"), std::string::npos)
      << none.error().message;
  EXPECT_TRUE(check_expressible(p, false, 2).ok());
  const auto btf = check_expressible(
      std::vector<RawInsn>{{0x18, 1, 3, 0, 5}, {0, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}}, true, 4);
  ASSERT_FALSE(btf.ok());
  EXPECT_NE(btf.error().message.find("kernel variable"), std::string::npos);
  const auto tail = check_expressible(assemble("call 12\nexit"), true, 0);
  ASSERT_FALSE(tail.ok());
  EXPECT_NE(tail.error().message.find("a tail call needs the program's program array"), std::string::npos);
  EXPECT_TRUE(check_expressible(assemble("call 12\nexit"), false, 0, true).ok())
      << "with a program array in the request";
  EXPECT_TRUE(check_expressible(assemble("call 1\ncall 2\ncall 3\nexit"), false, 0).ok())
      << "the map helpers are allowed on the host";
  EXPECT_FALSE(check_expressible(assemble("call 6\nexit"), false, 0).ok()) << "trace_printk is not";
}

TEST(MapRelocation, TheEpilogueExportsEachArrayMapsValueAddress) {
  const auto p = assemble("lddw r1, map_value(0, 0)\nlddw r2, map_fd(1)\nmov r0, 0\nexit");
  const std::vector<RewriteInput::Map> maps{{70, true, 1}, {71, false, 4}, {72, true, 3}};
  RewriteInput in;
  in.program = p;
  in.regs_map_fd = 9;
  in.maps = maps;
  auto r = rewrite_full_state(in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  int exported = 0;
  for (std::size_t i = 0; i + 2 < r->insns.size(); ++i) {
    const RawInsn& a = r->insns[i];
    if (a.opcode == 0x18 && a.src == 2 && a.imm == 70 && r->insns[i + 2].opcode == 0x7b &&
        r->insns[i + 2].off == static_cast<int16_t>(8 * kFirstMapBaseWord)) {
      ++exported;
    }
    EXPECT_FALSE(a.opcode == 0x18 && a.src == 2 && a.imm == 71) << "a hash map has no direct value address";
    EXPECT_FALSE(a.opcode == 0x18 && a.src == 2 && a.imm == 72) << "nor has an array of three entries";
    // The three-entry array's value 0 comes from a lookup of key 0.
    if (a.opcode == 0x18 && a.src == 1 && a.imm == 72 && r->insns[i + 4].opcode == 0x85 &&
        r->insns[i + 4].imm == 1) {
      ++exported;
    }
  }
  EXPECT_EQ(exported, 2);
}

TEST(RequestMaps, StartingEntriesAreForHashMapsOfTheRightSizes) {
  KernelMap h = hash_map(2, 4, 2);
  h.initial_entries = {{{1, 0}, {1, 2, 3, 4}}, {{2, 0}, {5, 6, 7, 8}}};
  EXPECT_TRUE(check_request_maps(std::vector<KernelMap>{h}).ok());
  const auto refused = [](const KernelMap& m) {
    auto r = check_request_maps(std::vector<KernelMap>{m});
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  KernelMap too_many = h;
  too_many.initial_entries.push_back({{3, 0}, {0, 0, 0, 0}});
  EXPECT_EQ(refused(too_many), "map 0: 3 starting entries, more than its 2");
  KernelMap twice = h;
  twice.initial_entries[1].key = {1, 0};
  EXPECT_EQ(refused(twice), "map 0: a starting key given twice");
  KernelMap short_value = h;
  short_value.initial_entries[0].value = {1};
  EXPECT_EQ(refused(short_value), "map 0: a starting entry of a 2-byte key and a 1-byte value");
  KernelMap array = array_map(4, 2);
  array.initial_entries = h.initial_entries;
  EXPECT_EQ(refused(array), "map 0: only a hash map starts with entries");
}

TEST(RequestMaps, CheckRequestMapsNamesWhatItRefuses) {
  EXPECT_TRUE(check_request_maps(std::vector<KernelMap>{array_map(8, 2), hash_map(8, 16, 4)}).ok());
  KernelMap prog = array_map(4, 4);
  prog.type = kMapTypeProgArray;
  EXPECT_TRUE(check_request_maps(std::vector<KernelMap>{prog}).ok()) << "an empty program array";
  prog.initial_values = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_TRUE(check_request_maps(std::vector<KernelMap>{prog}).ok()) << "the program itself at index 1";
  EXPECT_EQ(program_array_target(prog, 1), 1u);
  EXPECT_EQ(program_array_target(prog, 0), 0u);
  prog.initial_values[8] = 21;  // the program at slot 20: the executor cuts the program there
  EXPECT_TRUE(check_request_maps(std::vector<KernelMap>{prog}).ok());
  EXPECT_EQ(tail_call_target_slots(std::vector<KernelMap>{prog}), std::vector<uint32_t>{20});
  KernelMap key8 = array_map(8, 1);
  key8.key_size = 8;
  EXPECT_FALSE(check_request_maps(std::vector<KernelMap>{key8}).ok());
  EXPECT_FALSE(check_request_maps(std::vector<KernelMap>{array_map(8, 2, {1, 2, 3})}).ok())
      << "initial values of the wrong length";
  EXPECT_FALSE(check_request_maps(std::vector<KernelMap>(kMaxRequestMaps + 1, array_map(8, 1))).ok());
}

// ---- against the running kernel ---------------------------------------------

class KernelMapsHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto probe = probe_kernel(); !probe) GTEST_SKIP() << probe.error().message;
    auto e = KernelExecutor::create();
    ASSERT_TRUE(e.ok()) << e.error().message;
    executor_ = std::move(e).value();
  }
  std::unique_ptr<KernelExecutor> executor_;
};

// Array slot 1 gets +5 through a lookup pointer, hash key 7 is inserted
// with a value read from the array; both runs start from the initial
// contents (nothing leaks from the unmodified run into the full-state one).
constexpr const char* kUpdateBoth =
    "stw [r10-4], 1\n"
    "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\n"
    "jeq r0, 0, +14\n"
    "ldxdw r6, [r0+0]\nadd r6, 5\nstxdw [r0+0], r6\n"
    "stdw [r10-16], 7\nstxdw [r10-24], r6\n"
    "lddw r1, map_fd(1)\nmov r2, r10\nadd r2, -16\nmov r3, r10\nadd r3, -24\nmov r4, 0\ncall 2\n"
    "exit\n"
    "mov r0, 99\nexit";

TEST_F(KernelMapsHostTest, AnArrayAndAHashMapAreFilledRunAndReadBackPerRun) {
  KernelRequest request;
  request.program = assemble(kUpdateBoth);
  std::vector<uint8_t> initial(16, 0);
  initial[8] = 40;  // index 1 holds 40
  request.maps = {array_map(8, 2, initial), hash_map(8, 8, 4)};
  for (int repeat = 0; repeat < 3; ++repeat) {
    const KernelResponse r = executor_->execute(request);
    ASSERT_EQ(r.plain.verdict, KernelVerdict::Accepted) << r.plain.log;
    ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
    EXPECT_EQ(r.regs[0], 0u) << "update's return value";
    for (const auto* maps : {&r.plain.maps, &r.maps}) {
      ASSERT_EQ(maps->size(), 2u);
      ASSERT_EQ((*maps)[0].entries.size(), 2u);
      EXPECT_EQ((*maps)[0].entries[1].value[0], 45) << "run " << repeat << ": 40 + 5, not more";
      ASSERT_EQ((*maps)[1].entries.size(), 1u) << "the hash map was emptied before each run";
      EXPECT_EQ((*maps)[1].entries[0].key[0], 7);
      EXPECT_EQ((*maps)[1].entries[0].value[0], 45);
    }
    ASSERT_EQ(r.map_value_bases.size(), 2u);
    EXPECT_NE(r.map_value_bases[0], 0u) << "the array's value address";
    EXPECT_EQ(r.map_value_bases[1], 0u);
  }
}

// A hash map with starting entries: the program finds key 2's value, deletes
// key 2 and inserts key 8 (the map holds 2 entries at most: without the
// delete it would be full); each run starts from the two starting entries
// again, whatever the previous run left.
TEST_F(KernelMapsHostTest, AHashMapsStartingEntriesAreThereBeforeEveryRun) {
  KernelRequest request;
  request.program = assemble(
      "stw [r10-4], 2\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\n"
      "jeq r0, 0, missing\n"
      "ldxdw r6, [r0+0]\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 3\n"
      "stw [r10-4], 8\nstxdw [r10-16], r6\n"
      "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\nmov r3, r10\nadd r3, -16\nmov r4, 1\ncall 2\n"
      "add r0, r6\nexit\n"
      "missing:\nmov r0, 99\nexit");
  KernelMap h = hash_map(4, 8, 2);
  h.initial_entries = {{{5, 0, 0, 0}, {50, 0, 0, 0, 0, 0, 0, 0}}, {{2, 0, 0, 0}, {20, 0, 0, 0, 0, 0, 0, 0}}};
  request.maps = {h};
  for (int repeat = 0; repeat < 3; ++repeat) {
    const KernelResponse r = executor_->execute(request);
    ASSERT_EQ(r.plain.verdict, KernelVerdict::Accepted) << r.plain.log;
    ASSERT_EQ(r.verdict, KernelVerdict::Accepted) << r.log;
    EXPECT_EQ(r.plain.retval, 20u) << "run " << repeat << ": key 2 found, key 8 inserted (0)";
    EXPECT_EQ(r.regs[0], 20u);
    for (const auto* maps : {&r.plain.maps, &r.maps}) {
      ASSERT_EQ(maps->size(), 1u);
      std::vector<KernelMapEntry> entries = (*maps)[0].entries;
      ASSERT_EQ(entries.size(), 2u) << "run " << repeat;
      if (entries[0].key[0] > entries[1].key[0]) std::swap(entries[0], entries[1]);
      EXPECT_EQ(entries[0], (KernelMapEntry{{5, 0, 0, 0}, {50, 0, 0, 0, 0, 0, 0, 0}}));
      EXPECT_EQ(entries[1], (KernelMapEntry{{8, 0, 0, 0}, {20, 0, 0, 0, 0, 0, 0, 0}}));
    }
  }
}

TEST_F(KernelMapsHostTest, ReadOnlyMapsAreFrozenSoTheVerifierRefusesStores) {
  KernelRequest request;
  KernelMap rodata = array_map(8, 1, {9, 0, 0, 0, 0, 0, 0, 0});
  rodata.read_only = true;
  request.maps = {rodata};
  request.program = assemble("lddw r1, map_value(0, 0)\nldxdw r0, [r1+0]\nexit");
  const KernelResponse read = executor_->execute(request);
  ASSERT_EQ(read.verdict, KernelVerdict::Accepted) << read.log;
  EXPECT_EQ(read.regs[0], 9u);
  EXPECT_EQ(read.plain.retval, 9u);
  request.program = assemble("lddw r1, map_value(0, 0)\nstdw [r1+0], 1\nmov r0, 0\nexit");
  const KernelResponse write = executor_->execute(request);
  EXPECT_EQ(write.plain.verdict, KernelVerdict::Rejected) << "a store into .rodata";
}

TEST_F(KernelMapsHostTest, MapsOfOneShapeAreReusedAcrossRequests) {
  KernelMapPool pool;
  const std::vector<KernelMap> maps{array_map(8, 4), hash_map(4, 8, 2)};
  ASSERT_TRUE(pool.acquire(maps).ok());
  const std::vector<int> first = pool.fds();
  ASSERT_TRUE(pool.acquire(maps).ok());
  EXPECT_EQ(pool.fds(), first);
  EXPECT_EQ(pool.pooled(), 2u);
  const std::vector<KernelMap> two_arrays{array_map(8, 4), array_map(8, 4)};
  ASSERT_TRUE(pool.acquire(two_arrays).ok());
  EXPECT_NE(pool.fds()[0], pool.fds()[1]) << "one request never shares a map between two of its maps";
}

// reset() leaves a hash map alone when what was read back after the last
// run is already its starting entries, and refills it when a run changed
// it or when nothing was read since the last reset (a run that failed).
TEST_F(KernelMapsHostTest, AHashMapIsRefilledOnlyWhenARunMayHaveChangedIt) {
  KernelMapPool pool;
  KernelMap h = hash_map(4, 8, 2);
  h.initial_entries = {{{5, 0, 0, 0}, {50, 0, 0, 0, 0, 0, 0, 0}}};
  const std::vector<KernelMap> maps{h};
  ASSERT_TRUE(pool.acquire(maps).ok());
  const auto contents = [&] {
    auto read = pool.read();
    EXPECT_TRUE(read.ok()) << read.error().message;
    return read.ok() ? read.value()[0].entries : std::vector<KernelMapEntry>{};
  };
  // A "run": what a program could do to the map between reset() and read().
  const auto change_value = [&] {
    const std::vector<uint8_t> key{5, 0, 0, 0}, value{51, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_TRUE(map_update(pool.fds()[0], key.data(), value.data(), 0 /* BPF_ANY */).ok());
  };
  ASSERT_TRUE(pool.reset().ok());
  EXPECT_EQ(pool.hash_refills(), 1u) << "a new map is empty, not as it starts";
  EXPECT_EQ(contents(), h.initial_entries);

  ASSERT_TRUE(pool.reset().ok());
  EXPECT_EQ(pool.hash_refills(), 1u) << "read back as it starts: left alone";
  change_value();
  EXPECT_NE(contents(), h.initial_entries);
  ASSERT_TRUE(pool.reset().ok());
  EXPECT_EQ(pool.hash_refills(), 2u) << "changed by the run: refilled";
  EXPECT_EQ(contents(), h.initial_entries);

  ASSERT_TRUE(pool.reset().ok());
  change_value();  // a run that failed: nothing read back
  ASSERT_TRUE(pool.reset().ok());
  EXPECT_EQ(pool.hash_refills(), 3u) << "unknown since the last reset: refilled";
  EXPECT_EQ(contents(), h.initial_entries);

  // The next request of the same shape with other starting entries.
  KernelMap other = h;
  other.initial_entries = {{{6, 0, 0, 0}, {60, 0, 0, 0, 0, 0, 0, 0}}};
  ASSERT_TRUE(pool.acquire(std::vector<KernelMap>{other}).ok());
  ASSERT_TRUE(pool.reset().ok());
  EXPECT_EQ(pool.hash_refills(), 4u);
  EXPECT_EQ(contents(), other.initial_entries);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
