// Programs with maps: the validator resolves the lddw map forms to handles
// and value addresses, and rejects bad map references and definitions with
// messages that name the pc (or the map) and the field.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/map_defs.hpp"
#include "tests/vm/program_builder.hpp"

namespace bpfdiff::test {
namespace {

using test_support::array_map;
using test_support::hash_map;

vm::Program with_maps(ProgramBuilder& b, std::vector<vm::MapDef> maps) {
  vm::Program p = b.program();
  p.maps = std::move(maps);
  return p;
}

ProgramBuilder lddw_form(Form form, int32_t imm, int32_t next_imm) {
  ProgramBuilder b;
  for (const auto& s : isa::encode_lddw(form, 1, imm, next_imm))
    b.raw(s);
  b.exit();
  return b;
}

TEST(MapLddw, MapFdAndMapIdxLoadTheHandleOfTheIndexedMap) {
  for (Form form : {Form::lddw_map_fd, Form::lddw_map_idx}) {
    ProgramBuilder b = lddw_form(form, 1, 0);
    auto loaded = vm::validate(with_maps(b, {array_map("a", 8, 1), hash_map("h", 4, 8, 4)}), no_helpers());
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(loaded->insns[0].imm64, vm::map_handle(1));
    EXPECT_EQ(vm::map_handle(1) >> 32, static_cast<uint64_t>(vm::RegionId::Maps));
  }
}

TEST(MapLddw, MapValueLoadsTheAddressOfTheOffsetInTheFirstValue) {
  for (Form form : {Form::lddw_map_value, Form::lddw_map_idx_value}) {
    ProgramBuilder b = lddw_form(form, 1, 12);
    auto loaded = vm::validate(with_maps(b, {array_map("a", 8, 1), array_map(".data", 16, 1)}), no_helpers());
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(loaded->insns[0].imm64, vm::map_values_base(1) + 12);
  }
}

TEST(MapLddw, IndexPastTheMapsIsRejected) {
  ProgramBuilder b = lddw_form(Form::lddw_map_idx, 2, 0);
  EXPECT_EQ(validation_error(with_maps(b, {array_map("a", 8, 1), array_map("b", 8, 1)})),
            "pc 0: imm: lddw refers to map 2, but the program has 2 maps");
  ProgramBuilder neg = lddw_form(Form::lddw_map_fd, -1, 0);
  EXPECT_EQ(validation_error(with_maps(neg, {array_map("a", 8, 1)})),
            "pc 0: imm: lddw refers to map 4294967295, but the program has 1 map");
}

TEST(MapLddw, StillRejectedWithoutMaps) {
  ProgramBuilder b = lddw_form(Form::lddw_map_value, 0, 0);
  EXPECT_EQ(validation_error(b), "pc 0: imm: lddw refers to map 0, but the program has no maps");
}

TEST(MapLddw, ValueOffsetMustBeInsideTheValue) {
  ProgramBuilder last = lddw_form(Form::lddw_map_value, 0, 15);
  EXPECT_EQ(validation_error(with_maps(last, {array_map("a", 16, 1)})), "");
  ProgramBuilder past = lddw_form(Form::lddw_map_value, 0, 16);
  EXPECT_EQ(validation_error(with_maps(past, {array_map("a", 16, 1)})),
            "pc 0: imm: offset 16 is past the 16-byte value of map 0");
}

TEST(MapLddw, ValueOfAHashMapIsRejected) {
  ProgramBuilder b = lddw_form(Form::lddw_map_idx_value, 0, 0);
  EXPECT_EQ(validation_error(with_maps(b, {hash_map("h", 4, 8, 4)})),
            "pc 0: imm: lddw of a map value needs an array map, map 0 is a hash map");
}

TEST(MapLddw, HandleWithASecondImmIsRejected) {
  ProgramBuilder b = lddw_form(Form::lddw_map_fd, 0, 4);
  EXPECT_EQ(validation_error(with_maps(b, {array_map("a", 8, 1)})),
            "pc 1: imm: lddw of a map handle: second imm must be 0");
}

std::string map_error(vm::MapDef m) {
  ProgramBuilder b;
  b.exit();
  return validation_error(with_maps(b, {array_map("ok", 4, 1), std::move(m)}));
}

TEST(MapDefinition, BadDefinitionsNameTheMapAndTheField) {
  EXPECT_EQ(map_error(array_map("z", 0, 1)), "map 1 'z': value_size: 0 is not in 1..1048576");
  EXPECT_EQ(map_error(array_map("e", 4, 0)), "map 1 'e': max_entries: 0 is not allowed");
  EXPECT_EQ(map_error(hash_map("k", 0, 4, 1)), "map 1 'k': key_size: 0 is not in 1..512");
  vm::MapDef key8 = array_map("a8", 4, 1);
  key8.key_size = 8;
  EXPECT_EQ(map_error(key8), "map 1 'a8': key_size: must be 4 for an array, is 8");
  EXPECT_EQ(
      map_error(array_map("big", 1 << 20, 1 << 10)),
      "map 1 'big': max_entries: 1024 values of 1048576 bytes exceed the limit of 67108864 bytes per map");
  vm::MapDef init = array_map("init", 4, 2);
  init.initial_values = {1, 2, 3};
  EXPECT_EQ(map_error(init), "map 1 'init': initial_values: 3 bytes, but max_entries * value_size is 8");
  vm::MapDef type = array_map("t", 4, 1);
  type.type = static_cast<vm::MapType>(99);
  EXPECT_EQ(map_error(type), "map 1 't': type: map type 99 is not supported");
  vm::MapDef ro = hash_map("ro", 4, 4, 1);
  ro.read_only = true;
  EXPECT_EQ(map_error(ro), "map 1 'ro': read_only: only array maps can be read-only");
}

TEST(MapDefinition, TooManyMapsAreRejected) {
  ProgramBuilder b;
  b.exit();
  std::vector<vm::MapDef> maps(vm::kMaxMaps + 1, array_map("m", 4, 1));
  EXPECT_EQ(validation_error(with_maps(b, maps)), "the program has 33 maps, more than the limit of 32");
}

vm::MapDef prog_array(std::vector<std::pair<uint32_t, uint32_t>> entries) {
  return test_support::prog_array("jmp", 4, std::move(entries));
}

TEST(ProgramEntries, TailCallTargetsAndEntriesBecomeFunctionStarts) {
  ProgramBuilder b;
  b.mov(0, 1).exit().mov(0, 2).exit().mov(0, 3).exit();
  vm::Program p = with_maps(b, {prog_array({{0, 2}, {3, 4}})});
  p.entries = {{"first", 0}, {"second", 2}};
  auto loaded = vm::validate(p, no_helpers());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->function_starts, (std::vector<uint32_t>{0, 2, 4}));
}

TEST(ProgramEntries, BadTargetsAreRejected) {
  ProgramBuilder b;
  b.mov(0, 1).lddw(1, 5).exit();
  EXPECT_EQ(validation_error(with_maps(b, {prog_array({{0, 9}})})),
            "map 0 key 0: slot 9 is outside the program (0..3)");
  EXPECT_EQ(validation_error(with_maps(b, {prog_array({{1, 2}})})),
            "map 0 key 1: slot 2 is the second slot of an lddw");
  EXPECT_EQ(map_error(prog_array({{4, 0}})), "map 1 'jmp': prog_entries: key 4 is past max_entries 4");
  EXPECT_EQ(map_error(prog_array({{1, 0}, {1, 0}})), "map 1 'jmp': prog_entries: key 1 is given twice");
  vm::Program p = b.program();
  p.entries = {{"x", 4}};
  EXPECT_EQ(validation_error(p), "program 'x': slot 4 is outside the program (0..3)");
}

TEST(ProgramEntries, AnEntryThatFallsIntoTheNextIsRejected) {
  ProgramBuilder b;
  b.mov(0, 1).mov(0, 2).exit();
  vm::Program p = b.program();
  p.entries = {{"main", 0}, {"other", 1}};
  EXPECT_EQ(validation_error(p), "pc 0: opcode: instruction can fall through into the function at pc 1");
}

}  // namespace
}  // namespace bpfdiff::test
