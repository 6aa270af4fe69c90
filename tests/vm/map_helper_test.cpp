// The map helpers on array and hash maps, map handles and global data,
// ktime and prandom, on the engine under test: pointers a helper returns are
// checked like every other access, and every error value is the kernel's.
#include <gtest/gtest.h>

#include <vector>

#include "tests/vm/map_support.hpp"

namespace bpfdiff::test {
namespace {

using vm::ErrorKind;
using vm::ExecError;
using vm::kE2BIG;
using vm::kEEXIST;
using vm::kEINVAL;
using vm::kENOENT;
using vm::kEPERM;

constexpr int32_t kLookup = 1, kUpdate = 2, kDelete = 3;

// One program for every map operation on map 0 (4-byte keys, 8-byte
// values), driven by its input memory: {u32 key, u32 flags, u64 value, u32 op}.
// op 0: r0 = update(key, value, flags); 1: r0 = delete(key);
// 2: r0 = *lookup(key), or -1 when absent.
ProgramBuilder map_op_program() {
  ProgramBuilder b;
  b.op(Form::ldxw, 6, 1, 0).op(Form::stxw, 10, 6, -4);                        // 0, 1: key on the stack
  b.op(Form::ldxw, 4, 1, 4);                                                  // 2: flags
  b.op(Form::ldxdw, 7, 1, 8).op(Form::stxdw, 10, 7, -16);                     // 3, 4: value on the stack
  b.op(Form::ldxw, 8, 1, 16);                                                 // 5: op
  b.lddw_map(1, 0);                                                           // 6, 7
  b.movr(2, 10).op(Form::add_imm, 2, 0, 0, -4);                               // 8, 9
  b.jump(Form::jeq_imm, 8, 0, 1, 16).jump(Form::jeq_imm, 8, 0, 2, 18);        // 10, 11
  b.movr(3, 10).op(Form::add_imm, 3, 0, 0, -16).call_helper(kUpdate).exit();  // 12..15
  b.call_helper(kDelete).exit();                                              // 16, 17
  b.call_helper(kLookup);                                                     // 18
  b.jump(Form::jeq_imm, 0, 0, 0, 22).op(Form::ldxdw, 0, 0, 0).exit();         // 19..21
  b.mov(0, -1).exit();                                                        // 22, 23
  return b;
}

class MapOps {
 public:
  explicit MapOps(vm::MapDef map) : program_(with_maps(map_op_program(), {std::move(map)})) {}

  uint64_t update(uint32_t key, uint64_t value, uint32_t flags = 0) { return call(0, key, value, flags); }
  uint64_t remove(uint32_t key) { return call(1, key, 0, 0); }
  uint64_t lookup(uint32_t key) { return call(2, key, 0, 0); }
  MapProgram& program() { return program_; }

 private:
  uint64_t call(uint32_t op, uint32_t key, uint64_t value, uint32_t flags) {
    std::vector<uint8_t> mem(20, 0);
    std::memcpy(&mem[0], &key, 4);
    std::memcpy(&mem[4], &flags, 4);
    std::memcpy(&mem[8], &value, 8);
    std::memcpy(&mem[16], &op, 4);
    const vm::RunResult r = program_.run({vm::RunMode::Memory, mem});
    EXPECT_TRUE(r.ok()) << vm::describe(r.error);
    return r.r0();
  }
  MapProgram program_;
};

TEST(HashMap, UpdateFlagsFullMapAndDeleteReturnTheKernelsErrors) {
  MapOps m(hash_map("h", 4, 8, 2));
  EXPECT_EQ(m.update(1, 10), 0u);
  EXPECT_EQ(m.lookup(1), 10u);
  EXPECT_EQ(m.update(1, 99, vm::kBpfNoExist), neg_errno(kEEXIST));
  EXPECT_EQ(m.update(2, 20, vm::kBpfExist), neg_errno(kENOENT));
  EXPECT_EQ(m.update(2, 20, vm::kBpfNoExist), 0u);
  EXPECT_EQ(m.update(3, 30), neg_errno(kE2BIG));  // full
  EXPECT_EQ(m.update(1, 11, vm::kBpfExist), 0u);  // replacing needs no free slot
  EXPECT_EQ(m.lookup(1), 11u);
  EXPECT_EQ(m.update(1, 12, 3), neg_errno(kEINVAL));
  // BPF_F_LOCK is refused before the key is looked up: no ENOENT or EEXIST.
  EXPECT_EQ(m.update(1, 12, vm::kBpfFLock | vm::kBpfNoExist), neg_errno(kEINVAL));
  EXPECT_EQ(m.update(9, 12, vm::kBpfFLock | vm::kBpfExist), neg_errno(kEINVAL));
  EXPECT_EQ(m.lookup(1), 11u);
  EXPECT_EQ(m.remove(1), 0u);
  EXPECT_EQ(m.remove(1), neg_errno(kENOENT));
  EXPECT_EQ(m.lookup(1), ~uint64_t{0});
  EXPECT_EQ(m.update(3, 30), 0u);  // the deleted element's slot is free again

  const auto maps = m.program().maps();
  ASSERT_EQ(maps.size(), 1u);
  ASSERT_EQ(maps[0].entries.size(), 2u);  // in key order
  EXPECT_EQ(maps[0].entries[0].key, (std::vector<uint8_t>{2, 0, 0, 0}));
  EXPECT_EQ(u64_at(maps[0].entries[0].value, 0), 20u);
  EXPECT_EQ(maps[0].entries[1].key, (std::vector<uint8_t>{3, 0, 0, 0}));
  EXPECT_EQ(u64_at(maps[0].entries[1].value, 0), 30u);
}

// Starting entries are in the map before the first run, count towards
// max_entries, and come back (and only they) when the maps are reset.
TEST(HashMap, StartingEntriesAreThereFirstAndAfterEachReset) {
  vm::MapDef h = hash_map("h", 4, 8, 2);
  h.initial_entries = {{{5, 0, 0, 0}, {50, 0, 0, 0, 0, 0, 0, 0}}, {{1, 0, 0, 0}, {10, 0, 0, 0, 0, 0, 0, 0}}};
  MapOps m(h);
  EXPECT_EQ(m.lookup(5), 50u);
  EXPECT_EQ(m.lookup(1), 10u);
  EXPECT_EQ(m.update(7, 70), neg_errno(kE2BIG)) << "the two starting entries fill it";
  EXPECT_EQ(m.update(5, 55, vm::kBpfNoExist), neg_errno(kEEXIST));
  EXPECT_EQ(m.remove(5), 0u);
  EXPECT_EQ(m.update(7, 70), 0u);
  m.program().engine().reset_maps();
  EXPECT_EQ(m.lookup(7), ~uint64_t{0});
  EXPECT_EQ(m.lookup(5), 50u);
  const auto maps = m.program().maps();
  ASSERT_EQ(maps[0].entries.size(), 2u);
  EXPECT_EQ(maps[0].entries[0].key, (std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_EQ(u64_at(maps[0].entries[0].value, 0), 10u);
  EXPECT_EQ(maps[0].entries[1].key, (std::vector<uint8_t>{5, 0, 0, 0}));
}

// The first starting entry takes the lowest slot, as the first insert of a
// program would: a lookup of it returns the values region's start.
TEST(HashMap, StartingEntriesTakeTheLowestSlotsInOrder) {
  vm::MapDef h = hash_map("h", 4, 8, 3);
  h.initial_entries = {{{9, 0, 0, 0}, std::vector<uint8_t>(8, 1)},
                       {{3, 0, 0, 0}, std::vector<uint8_t>(8, 2)}};
  ProgramBuilder b;
  b.op(Form::stw, 10, 0, -4, 3).lddw_map(1, 0).movr(2, 10).op(Form::add_imm, 2, 0, 0, -4);
  b.call_helper(kLookup).exit();
  MapProgram p(with_maps(b, {h}));
  const vm::RunResult r = p.run();
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), vm::map_values_base(0) + 8) << "key 3 is the second entry: slot 1";
}

TEST(ArrayMap, EveryElementExistsAndNoneCanBeDeleted) {
  MapOps m(array_map("a", 8, 4));
  EXPECT_EQ(m.lookup(3), 0u);
  EXPECT_EQ(m.lookup(4), ~uint64_t{0});
  EXPECT_EQ(m.update(1, 5, vm::kBpfNoExist), neg_errno(kEEXIST));
  EXPECT_EQ(m.update(4, 5), neg_errno(kE2BIG));
  EXPECT_EQ(m.update(1, 5, vm::kBpfExist), 0u);
  EXPECT_EQ(m.update(1, 5, 7), neg_errno(kEINVAL));
  EXPECT_EQ(m.lookup(1), 5u);
  // The kernel's order: unknown flags (BPF_F_LOCK aside), the index, NOEXIST,
  // then BPF_F_LOCK, which no map of ours (no spin lock) supports.
  EXPECT_EQ(m.update(4, 5, vm::kBpfFLock | vm::kBpfExist), neg_errno(kE2BIG));
  EXPECT_EQ(m.update(1, 5, vm::kBpfFLock | vm::kBpfNoExist), neg_errno(kEEXIST));
  EXPECT_EQ(m.update(1, 6, vm::kBpfFLock), neg_errno(kEINVAL));
  EXPECT_EQ(m.update(1, 6, vm::kBpfFLock | 8), neg_errno(kEINVAL));
  EXPECT_EQ(m.lookup(1), 5u);
  EXPECT_EQ(m.remove(1), neg_errno(kEINVAL));
  const auto maps = m.program().maps();
  ASSERT_EQ(maps[0].entries.size(), 4u);
  EXPECT_EQ(u64_at(maps[0].entries[1].value, 0), 5u);
}

TEST(ArrayMap, ReadOnlyMapsRefuseUpdates) {
  vm::MapDef ro = array_map("ro", 8, 1);
  ro.read_only = true;
  MapOps m(ro);
  EXPECT_EQ(m.update(0, 5), neg_errno(kEPERM));
}

TEST(MapState, PersistsAcrossRunsUntilReset) {
  MapOps m(array_map("a", 8, 1));
  EXPECT_EQ(m.update(0, 77), 0u);
  EXPECT_EQ(m.lookup(0), 77u);
  m.program().engine().reset_maps();
  EXPECT_EQ(m.lookup(0), 0u);
}

// r0 = lookup(map 0, key 2); *(u64 *)(r0 + off) = 42; r0 = that value.
ProgramBuilder write_through_lookup(int16_t off) {
  ProgramBuilder b;
  b.op(Form::stw, 10, 0, -4, 2).lddw_map(1, 0).movr(2, 10).op(Form::add_imm, 2, 0, 0, -4);  // 0..4
  b.call_helper(kLookup);                                                                   // 5
  b.jump(Form::jeq_imm, 0, 0, 0, 9);                                                        // 6
  b.op(Form::stdw, 0, 0, off, 42);                                                          // 7
  b.op(Form::ldxdw, 0, 0, off);                                                             // 8
  b.exit();                                                                                 // 9
  return b;
}

TEST(MapValuePointer, WritesInBoundsReachTheMap) {
  MapProgram p(with_maps(write_through_lookup(0), {array_map("a", 8, 4)}));
  const vm::RunResult r = p.run();
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 42u);
  EXPECT_EQ(u64_at(p.maps()[0].entries[2].value, 0), 42u);
}

TEST(MapValuePointer, WritesPastTheValuesFault) {
  // Entry 2 of 4 eight-byte values: 16 bytes past it is the end of the map.
  MapProgram p(with_maps(write_through_lookup(16), {array_map("a", 8, 4)}));
  const vm::RunResult r = p.run();
  EXPECT_EQ(r.error, (ExecError{ErrorKind::MemoryWrite, 7, vm::map_values_base(0) + 32, 8}));
  MapProgram before(with_maps(write_through_lookup(-24), {array_map("a", 8, 4)}));
  EXPECT_EQ(before.run().error, (ExecError{ErrorKind::MemoryWrite, 7, vm::map_values_base(0) - 8, 8}));
}

TEST(MapValuePointer, HashValuesAreCheckedToo) {
  ProgramBuilder b;
  b.op(Form::stw, 10, 0, -4, 9).op(Form::stdw, 10, 0, -16, 5).lddw_map(1, 0);                          // 0..3
  b.movr(2, 10).op(Form::add_imm, 2, 0, 0, -4).movr(3, 10).op(Form::add_imm, 3, 0, 0, -16).mov(4, 0);  // 4..8
  b.call_helper(kUpdate);                                                                              // 9
  b.lddw_map(1, 0).call_helper(kLookup);                        // 10..12
  b.op(Form::ldxdw, 6, 0, 0).op(Form::ldxdw, 7, 0, 24).exit();  // 13..15
  MapProgram p(with_maps(b, {hash_map("h", 4, 8, 3)}));
  const vm::RunResult r = p.run();
  // The first key takes slot 0 of a three-value slab; past the slab is out of bounds.
  EXPECT_EQ(r.regs[0], vm::map_values_base(0));
  EXPECT_EQ(r.regs[6], 5u);
  EXPECT_EQ(r.error, (ExecError{ErrorKind::MemoryRead, 14, vm::map_values_base(0) + 24, 8}));
}

TEST(MapHandle, IsNotReadable) {
  ProgramBuilder b;
  b.lddw_map(1, 0).op(Form::ldxdw, 0, 1, 0).exit();
  MapProgram p(with_maps(b, {array_map("a", 8, 1)}));
  EXPECT_EQ(p.run().error, (ExecError{ErrorKind::MemoryRead, 2, vm::map_handle(0), 8}));
}

TEST(MapHandle, GarbageHandlesAndKeysFailTheHelper) {
  ProgramBuilder bad_map;
  bad_map.lddw(1, 0x1234).movr(2, 10).op(Form::add_imm, 2, 0, 0, -4).call_helper(kLookup).exit();
  MapProgram p(with_maps(bad_map, {array_map("a", 8, 1)}));
  EXPECT_EQ(p.run().error, (ExecError{ErrorKind::HelperFailed, 4, 0x1234, 0}));

  ProgramBuilder bad_key;
  bad_key.lddw_map(1, 0).mov(2, 0).call_helper(kDelete).exit();
  MapProgram q(with_maps(bad_key, {hash_map("h", 12, 8, 1)}));
  EXPECT_EQ(q.run().error, (ExecError{ErrorKind::HelperFailed, 3, 0, 12}));

  ProgramBuilder bad_value;  // the value pointer runs past the stack
  bad_value.lddw_map(1, 0)
      .movr(2, 10)
      .op(Form::add_imm, 2, 0, 0, -4)
      .movr(3, 10)
      .op(Form::add_imm, 3, 0, 0, -4);
  bad_value.mov(4, 0).call_helper(kUpdate).exit();
  MapProgram v(with_maps(bad_value, {array_map("a", 8, 1)}));
  EXPECT_EQ(v.run().error, (ExecError{ErrorKind::HelperFailed, 7, kStackTop - 4, 8}));
}

TEST(GlobalData, MapValueAddressesReadAndWriteTheData) {
  ProgramBuilder b;
  b.lddw_map_value(1, 0, 8)
      .op(Form::ldxdw, 0, 1, 0)
      .op(Form::add_imm, 0, 0, 0, 1)
      .op(Form::stxdw, 1, 0, 0)
      .exit();
  std::string data(16, '\0');
  data[8] = 5;
  MapProgram p(with_maps(b, {data_map(".data", data, false)}));
  EXPECT_EQ(p.run().r0(), 6u);
  EXPECT_EQ(p.run().r0(), 7u);  // the data persists
}

TEST(GlobalData, ReadOnlyDataFaultsOnStores) {
  ProgramBuilder b;
  b.lddw_map_value(1, 0, 0).op(Form::ldxb, 0, 1, 0).op(Form::stb, 1, 0, 0, 1).exit();
  MapProgram p(with_maps(b, {data_map(".rodata", "hi")}));
  EXPECT_EQ(p.run().error, (ExecError{ErrorKind::MemoryWrite, 3, vm::map_values_base(0), 1}));
}

TEST(KtimeGetNs, AdvancesOneMicrosecondPerReadingFromTheSeed) {
  ProgramBuilder b;
  b.call_helper(5).movr(6, 0).call_helper(5).op(Form::sub_reg, 0, 6).exit();
  MapProgram p(b.program());
  vm::RunInput in{vm::RunMode::NoData, {}};
  in.seed = 12345;
  const vm::RunResult r = p.run(in);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 1000u);
  EXPECT_EQ(r.regs[6], 1'000'000'000u + 12345u + 1000u);
  EXPECT_EQ(p.run(in).regs[6], r.regs[6]);  // every run starts the clock afresh
}

TEST(GetPrandomU32, IsA32BitSequenceFixedByTheSeed) {
  ProgramBuilder b;
  b.call_helper(7).movr(6, 0).call_helper(7).movr(7, 0).exit();
  MapProgram p(b.program());
  vm::RunInput in{vm::RunMode::NoData, {}};
  in.seed = 1;
  const vm::RunResult a = p.run(in);
  const vm::RunResult again = p.run(in);
  in.seed = 2;
  const vm::RunResult other = p.run(in);
  EXPECT_LE(a.regs[6], UINT32_MAX);
  EXPECT_LE(a.regs[7], UINT32_MAX);
  EXPECT_NE(a.regs[6], a.regs[7]);
  EXPECT_EQ(again.regs[6], a.regs[6]);
  EXPECT_EQ(again.regs[7], a.regs[7]);
  EXPECT_NE(other.regs[6], a.regs[6]);
}

}  // namespace
}  // namespace bpfdiff::test
