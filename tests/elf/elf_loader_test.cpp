// What the loader makes of real compiled objects: programs, subprograms,
// maps and every relocation kind, checked against what clang emitted.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "tests/elf/elf_test_util.hpp"
#include "vm/elf/elf_loader.hpp"

namespace bpfdiff::elf {
namespace {

using test::corpus_object;
using test::test_object;

ElfObject load(const std::vector<uint8_t>& bytes) {
  auto object = load_elf(bytes);
  if (!object) ADD_FAILURE() << object.error().message;
  return object ? std::move(object).value() : ElfObject{};
}

const ElfFunction& function(const std::vector<ElfFunction>& fs, std::string_view name) {
  auto it = std::find_if(fs.begin(), fs.end(), [&](const ElfFunction& f) { return f.name == name; });
  if (it == fs.end()) throw std::runtime_error("no function " + std::string(name));
  return *it;
}

const vm::MapDef& map(const ElfObject& o, std::string_view name) {
  auto it = std::find_if(o.program.maps.begin(), o.program.maps.end(),
                         [&](const vm::MapDef& m) { return m.name == name; });
  if (it == o.program.maps.end()) throw std::runtime_error("no map " + std::string(name));
  return *it;
}

uint32_t map_index(const ElfObject& o, std::string_view name) {
  return static_cast<uint32_t>(&map(o, name) - o.program.maps.data());
}

const AppliedRelocation& relocation_at(const ElfObject& o, uint32_t slot) {
  for (const AppliedRelocation& r : o.relocations) {
    if (r.slot == slot) return r;
  }
  throw std::runtime_error("no relocation at slot " + std::to_string(slot));
}

uint32_t u32_at(const std::vector<uint8_t>& v, std::size_t at) {
  uint32_t x;
  std::memcpy(&x, v.data() + at, sizeof x);
  return x;
}

TEST(ElfLoader, BtfHashMapAndItsTwoHandleRelocations) {
  const ElfObject o = load(corpus_object("counter"));
  ASSERT_EQ(o.programs.size(), 1u);
  EXPECT_EQ(o.programs[0].name, "count_first_byte");
  EXPECT_EQ(o.programs[0].section, "xdp");
  EXPECT_EQ(o.license, "GPL");

  const vm::MapDef& counts = map(o, "counts");
  EXPECT_EQ(counts.type, vm::MapType::Hash);
  EXPECT_EQ(counts.key_size, 4u);
  EXPECT_EQ(counts.value_size, 8u);
  EXPECT_EQ(counts.max_entries, 16u);

  int handles = 0;
  for (const AppliedRelocation& r : o.relocations) {
    ASSERT_EQ(r.kind, RelocationKind::MapHandle);
    EXPECT_EQ(r.symbol, "counts");
    const isa::RawInsn& insn = o.program.slots[r.slot];
    EXPECT_EQ(insn.opcode, 0x18);
    EXPECT_EQ(insn.src, 1);  // map handle by index
    EXPECT_EQ(static_cast<uint32_t>(insn.imm), map_index(o, "counts"));
    EXPECT_EQ(o.program.slots[r.slot + 1].imm, 0);
    ++handles;
  }
  EXPECT_EQ(handles, 2);
}

TEST(ElfLoader, GlobalDataSectionsBecomeOneEntryArrayMaps) {
  const ElfObject o = load(corpus_object("global_data"));
  const vm::MapDef& rodata = map(o, ".rodata");
  EXPECT_EQ(rodata.type, vm::MapType::Array);
  EXPECT_EQ(rodata.max_entries, 1u);
  EXPECT_EQ(rodata.value_size, 16u);  // const volatile __u32 scale[4]
  EXPECT_TRUE(rodata.read_only);
  ASSERT_EQ(rodata.initial_values.size(), 16u);
  EXPECT_EQ(u32_at(rodata.initial_values, 12), 4u);

  const vm::MapDef& data = map(o, ".data");
  EXPECT_FALSE(data.read_only);
  ASSERT_EQ(data.initial_values.size(), 12u);  // __u64 total = 100; __u32 offset = 2
  EXPECT_EQ(u32_at(data.initial_values, 0), 100u);
  EXPECT_EQ(u32_at(data.initial_values, 8), 2u);

  const vm::MapDef& bss = map(o, ".bss");
  EXPECT_EQ(bss.value_size, 4u);
  EXPECT_TRUE(bss.initial_values.empty());  // zeroed
  EXPECT_FALSE(bss.read_only);

  // `offset` lives at byte 8 of .data: the lddw addresses that byte.
  bool saw_offset = false;
  for (const AppliedRelocation& r : o.relocations) {
    if (r.symbol != "offset") continue;
    saw_offset = true;
    EXPECT_EQ(r.kind, RelocationKind::MapValue);
    EXPECT_EQ(o.program.slots[r.slot].src, 2);
    EXPECT_EQ(static_cast<uint32_t>(o.program.slots[r.slot].imm), map_index(o, ".data"));
    EXPECT_EQ(o.program.slots[r.slot + 1].imm, 8);
  }
  EXPECT_TRUE(saw_offset);
}

TEST(ElfLoader, CallsIntoTextAreRelocatedToTheSubprogram) {
  const ElfObject o = load(corpus_object("global_data"));
  const ElfFunction& weighted = function(o.subprograms, "weighted");
  EXPECT_EQ(weighted.section, ".text");
  int calls = 0;
  for (const AppliedRelocation& r : o.relocations) {
    if (r.kind != RelocationKind::Call) continue;
    ++calls;
    EXPECT_EQ(r.target, weighted.slot);
    const isa::RawInsn& call = o.program.slots[r.slot];
    EXPECT_EQ(static_cast<int64_t>(r.slot) + 1 + call.imm, weighted.slot);
  }
  EXPECT_EQ(calls, 4);  // the loop is unrolled
}

TEST(ElfLoader, SeveralProgramsPerSectionAndEverySubprogramKind) {
  const ElfObject o = load(test_object("multi"));
  ASSERT_EQ(o.programs.size(), 4u);
  EXPECT_EQ(o.license, "Dual BSD/GPL");
  const ElfFunction& first = function(o.programs, "first");
  const ElfFunction& second = function(o.programs, "second");
  EXPECT_EQ(first.section, "xdp");
  EXPECT_EQ(second.section, "xdp");
  EXPECT_EQ(second.slot, first.slot + 2);
  EXPECT_EQ(function(o.programs, "third").section, "tc");
  EXPECT_EQ(o.program.entries.size(), 4u);

  const ElfFunction& add_one = function(o.subprograms, "add_one");
  const ElfFunction& twice = function(o.subprograms, "twice");
  const ElfFunction& callback = function(o.subprograms, "callback");

  // first: a call through the .text section symbol (imm carries the offset).
  EXPECT_EQ(relocation_at(o, first.slot).target, twice.slot);
  // twice -> add_one and third -> add_one: calls through a global symbol.
  EXPECT_EQ(relocation_at(o, twice.slot + 1).target, add_one.slot);
  EXPECT_EQ(relocation_at(o, function(o.programs, "third").slot + 1).target, add_one.slot);
  // loops: `callback` taken as an address for bpf_loop.
  const ElfFunction& loops = function(o.programs, "loops");
  const AppliedRelocation& addr = relocation_at(o, loops.slot + 1);
  EXPECT_EQ(addr.kind, RelocationKind::CodeAddress);
  EXPECT_EQ(addr.target, callback.slot);
  EXPECT_EQ(o.program.slots[addr.slot].src, 4);
  EXPECT_EQ(static_cast<int64_t>(addr.slot) + 1 + o.program.slots[addr.slot].imm, callback.slot);
  // second: a static variable through the .data section symbol, a global one in .bss.
  EXPECT_EQ(relocation_at(o, second.slot).map, map_index(o, ".data"));
  EXPECT_EQ(relocation_at(o, second.slot + 6).map, map_index(o, ".bss"));
}

TEST(ElfLoader, ChoosesAProgramBySectionOrName) {
  const ElfObject o = load(test_object("multi"));
  auto tc = program_in_section(o, "tc");
  ASSERT_TRUE(tc) << tc.error().message;
  EXPECT_EQ(tc->entry, function(o.programs, "third").slot);
  EXPECT_EQ(tc->name, "third");

  auto ambiguous = program_in_section(o, "xdp");
  ASSERT_FALSE(ambiguous);
  EXPECT_NE(ambiguous.error().message.find("several programs (first, second)"), std::string::npos);

  auto second = program_named(o, "second");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->entry, function(o.programs, "second").slot);
  // Any named .text function can be the entry (the conformance runner's `main`).
  auto add_one = program_named(o, "add_one");
  ASSERT_TRUE(add_one);
  EXPECT_EQ(add_one->entry, function(o.subprograms, "add_one").slot);

  auto missing = program_named(o, "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("programs: first (section xdp), second (section xdp)"),
            std::string::npos);
  EXPECT_FALSE(program_in_section(o, "kprobe/x"));
}

TEST(ElfLoader, LegacyMapsSection) {
  const ElfObject o = load(test_object("legacy_maps"));
  const vm::MapDef& table = map(o, "table");
  EXPECT_EQ(table.type, vm::MapType::Array);
  EXPECT_EQ(table.key_size, 4u);
  EXPECT_EQ(table.value_size, 8u);
  EXPECT_EQ(table.max_entries, 4u);
  const vm::MapDef& lookup = map(o, "lookup");
  EXPECT_EQ(lookup.type, vm::MapType::Hash);
  EXPECT_EQ(lookup.key_size, 8u);
  EXPECT_EQ(lookup.value_size, 16u);
  EXPECT_EQ(lookup.max_entries, 32u);
  std::vector<std::string> referenced;
  for (const AppliedRelocation& r : o.relocations) {
    EXPECT_EQ(r.kind, RelocationKind::MapHandle);
    EXPECT_EQ(o.program.maps[r.map].name, r.symbol);
    referenced.push_back(r.symbol);
  }
  std::sort(referenced.begin(), referenced.end());
  EXPECT_EQ(referenced, (std::vector<std::string>{"lookup", "table"}));
}

TEST(ElfLoader, ProgramArrayValuesBecomeEntrySlots) {
  const ElfObject o = load(test_object("tail_calls"));
  const vm::MapDef& table = map(o, "jump_table");
  EXPECT_EQ(table.type, vm::MapType::ProgArray);
  EXPECT_EQ(table.key_size, 4u);
  EXPECT_EQ(table.value_size, 4u);
  EXPECT_EQ(table.max_entries, 4u);
  auto entries = table.prog_entries;
  std::sort(entries.begin(), entries.end());
  const std::vector<std::pair<uint32_t, uint32_t>> expected{{1, function(o.programs, "stage_one").slot},
                                                            {2, function(o.programs, "stage_two").slot}};
  EXPECT_EQ(entries, expected);
}

TEST(ElfLoader, StringsInRodataAreReachedThroughSectionSymbolsWithAddends) {
  const ElfObject o = load(corpus_object("hello"));
  ASSERT_EQ(o.programs.size(), 1u);
  EXPECT_EQ(o.programs[0].section, "kprobe/sys_clone");
  const vm::MapDef& rodata = map(o, ".rodata");
  EXPECT_TRUE(rodata.read_only);
  const std::string formats(rodata.initial_values.begin(), rodata.initial_values.end());
  EXPECT_EQ(formats, std::string("answer=%d\n\0hello, %s\n\0", 22));
  const vm::MapDef& strings = map(o, ".rodata.str1.1");
  EXPECT_TRUE(strings.read_only);
  const std::string text(strings.initial_values.begin(), strings.initial_values.end());

  // Each lddw addresses the start of its string: the addend clang put in imm.
  std::vector<std::string> targets;
  for (const AppliedRelocation& r : o.relocations) {
    ASSERT_EQ(r.kind, RelocationKind::MapValue);
    const auto& bytes = o.program.maps[r.map].initial_values;
    targets.emplace_back(reinterpret_cast<const char*>(bytes.data() + r.value_offset));
  }
  EXPECT_EQ(targets, (std::vector<std::string>{"answer=%d\n", "hello, %s\n", "world"}));
  EXPECT_NE(text.find("world"), std::string::npos);
}

TEST(ElfLoader, MainOfTextIsFoundAsAFunctionOrAsAGlobalLabel) {
  auto bytes = test_object("conformance_main");
  for (bool as_label : {false, true}) {
    if (as_label) {
      // What an assembler writes for `.globl main` without `.type main, @function`.
      test::ElfEditor e(bytes);
      const uint32_t i = e.symbol_index("main");
      auto sym = e.symbol(i);
      sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
      sym.st_size = 0;
      e.set_symbol(i, sym);
    }
    const ElfObject o = load(bytes);
    EXPECT_TRUE(o.programs.empty());
    auto main_program = program_named(o, "main");
    ASSERT_TRUE(main_program) << main_program.error().message;
    EXPECT_EQ(main_program->entry, function(o.subprograms, "main").slot);
    EXPECT_NE(main_program->entry, function(o.subprograms, "triple").slot);  // main is not first
  }
}

TEST(ElfLoader, DescribesSlotsBySectionAndOffset) {
  const ElfObject o = load(test_object("multi"));
  const ElfFunction& third = function(o.programs, "third");
  EXPECT_EQ(describe_slot(o, third.slot + 2), "tc+2");
  EXPECT_EQ(describe_slot(o, 100000), "slot 100000");
}

}  // namespace
}  // namespace bpfdiff::elf
