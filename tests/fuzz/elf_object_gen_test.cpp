// Generated ELF objects: the loader must read back exactly the program the
// generator meant (every relocation kind, maps as legacy definitions, as
// BTF-defined maps with program-array values and as global data, several
// programs and a shared .text), and each program of the object must run
// alike on every engine.
#include "fuzz/elf_object_gen.hpp"

#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdio>
#include <map>

#include <iostream>
#include <set>

#include "fuzz/differential.hpp"
#include "fuzz/elf_writer.hpp"
#include "vm/elf/elf_image.hpp"
#include "vm/elf/elf_loader.hpp"
#include "vm/isa/encode.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::Form;

GeneratorOptions object_options() {
  GeneratorOptions opt;
  opt.helper_rate = 0.3;  // maps
  opt.call_rate = 0.15;   // subprograms, so .text and calls across sections
  opt.max_instructions = 96;
  return opt;
}

// libbpf's warnings while it opens an object, kept for the failure message.
std::string libbpf_warnings;
int keep_libbpf_warnings(enum libbpf_print_level level, const char* format, va_list args) {
  if (level != LIBBPF_WARN) return 0;
  char line[512];
  const int n = std::vsnprintf(line, sizeof line, format, args);
  libbpf_warnings += line;
  return n;
}

// A second reader of what the writer means by a BTF map: libbpf (v1 dropped
// legacy `maps`, so only objects with `.maps` are given to it) opens the
// generated objects, without a kernel, and must see the maps our loader sees.
// The one form it refuses is a code address of a function in a program's own
// section -- libbpf takes addresses of .text functions only -- which our
// loader accepts and clang would write for such C.
TEST(ElfObjectGen, LibbpfReadsTheBtfMapsOurLoaderReads) {
  libbpf_set_print(keep_libbpf_warnings);
  std::size_t opened = 0, refused_code_address = 0, maps_compared = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    ByteSource src(seed);
    std::vector<vm::Program> given(1 + src.below(3));
    for (vm::Program& p : given)
      p = generate(src, object_options()).program;
    auto object = elf_object_from_programs(given, src);
    if (!object) continue;
    auto image = elf::ElfImage::parse(object->bytes);
    ASSERT_TRUE(image.ok()) << image.error().message;
    if (image->find_section(".maps") == nullptr) continue;
    auto loaded = elf::load_elf(object->bytes);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    libbpf_warnings.clear();
    const std::string name = "seed" + std::to_string(seed);
    // LIBBPF_OPTS is a GNU statement expression, which -Wpedantic refuses.
    bpf_object_open_opts opts{};
    opts.sz = sizeof opts;
    opts.object_name = name.c_str();
    bpf_object* opened_object = bpf_object__open_mem(object->bytes.data(), object->bytes.size(), &opts);
    if (libbpf_get_error(opened_object) != 0) {
      EXPECT_NE(libbpf_warnings.find("bad map relo against"), std::string::npos)
          << "seed " << seed << ": " << libbpf_warnings;
      ++refused_code_address;
      continue;
    }
    ++opened;
    std::map<std::string, const vm::MapDef*> ours;
    for (const vm::MapDef& m : loaded->program.maps)
      ours[m.name] = &m;
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, opened_object) {
      const std::string map_name = bpf_map__name(map);
      if (map_name.find('.') != std::string::npos) continue;  // global data: libbpf names it after the object
      ASSERT_TRUE(ours.count(map_name)) << "seed " << seed << ": " << map_name;
      const vm::MapDef& m = *ours[map_name];
      EXPECT_EQ(static_cast<uint32_t>(bpf_map__type(map)), static_cast<uint32_t>(m.type)) << map_name;
      EXPECT_EQ(bpf_map__key_size(map), m.key_size) << "seed " << seed << ": " << map_name;
      EXPECT_EQ(bpf_map__value_size(map), m.value_size) << "seed " << seed << ": " << map_name;
      EXPECT_EQ(bpf_map__max_entries(map), m.max_entries) << "seed " << seed << ": " << map_name;
      ++maps_compared;
    }
    bpf_object__close(opened_object);
  }
  libbpf_set_print(nullptr);
  // Seeds 0-299: 82 opened, 3 refused for a program-section code address.
  EXPECT_GT(opened, 60u);
  EXPECT_LT(refused_code_address, opened / 10);
  EXPECT_GT(maps_compared, 100u);
}

TEST(ElfObjectGen, TheLoaderReadsBackWhatWasWrittenAndTheEnginesAgree) {
  std::size_t objects = 0, programs = 0, refused = 0, divergent = 0;
  std::set<elf::RelocationKind> kinds;
  std::size_t with_text = 0, with_data = 0, with_several = 0, legacy_maps = 0, btf_maps = 0,
              program_values = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    ByteSource src(seed);
    std::vector<GeneratedCase> cases(1 + src.below(3));
    std::vector<vm::Program> given;
    for (GeneratedCase& c : cases) {
      c = generate(src, object_options());
      given.push_back(c.program);
    }
    auto object = elf_object_from_programs(given, src);
    if (!object) {
      ++refused;
      continue;
    }
    ++objects;
    auto loaded = elf::load_elf(object->bytes);
    ASSERT_TRUE(loaded.ok()) << "seed " << seed << ": " << loaded.error().message;
    const auto difference = loaded_object_difference(object->expected, loaded->program);
    ASSERT_FALSE(difference) << "seed " << seed << ": " << *difference;
    for (const elf::AppliedRelocation& r : loaded->relocations)
      kinds.insert(r.kind);
    if (!loaded->subprograms.empty()) ++with_text;
    for (const vm::MapDef& m : loaded->program.maps)
      if (m.name.front() == '.') ++with_data;
    if (cases.size() > 1) ++with_several;
    auto image = elf::ElfImage::parse(object->bytes);
    ASSERT_TRUE(image.ok()) << image.error().message;
    if (image->find_section("maps") != nullptr) ++legacy_maps;
    if (image->find_section(".maps") != nullptr) {
      ++btf_maps;
      EXPECT_NE(image->find_section(".BTF"), nullptr) << seed;
    }
    for (const vm::MapDef& m : loaded->program.maps)
      if (!m.prog_entries.empty()) ++program_values;
    for (std::size_t k = 0; k < cases.size(); ++k) {
      auto program = elf::program_named(*loaded, object->entry_names[k]);
      ASSERT_TRUE(program.ok()) << program.error().message;
      GeneratedCase c{*program, cases[k].memory};
      oracle::Outcome ref;
      const auto d = find_divergence(c.program, engine_input(c), &ref);
      ASSERT_TRUE(ref.loaded) << "seed " << seed << ", program " << k << ": " << ref.load_error;
      ++programs;
      if (d && ++divergent <= 3) ADD_FAILURE() << "seed " << seed << ", program " << k << ": " << d->title();
    }
  }
  EXPECT_EQ(divergent, 0u);
  // Most generated programs have an ELF form (the rest take a map-value
  // address of a multi-entry array, which only global data can give), and
  // the objects use every part of the format the loader resolves (seeds
  // 0-299: 229 objects, 423 programs, 206 with .text, 10 with global data).
  EXPECT_GT(objects, 200u) << refused << " refused";
  EXPECT_GT(programs, 350u);
  EXPECT_GT(with_text, 150u);
  EXPECT_GT(with_data, 5u);
  EXPECT_GT(with_several, 100u);
  EXPECT_GT(legacy_maps, 20u);
  EXPECT_GT(btf_maps, 20u);
  EXPECT_GT(program_values, 5u);
  std::cerr << objects << " objects, " << programs << " programs; " << legacy_maps << " with legacy maps, "
            << btf_maps << " with BTF maps, " << program_values << " program arrays with values\n";
  EXPECT_TRUE(kinds.count(elf::RelocationKind::Call));
  EXPECT_TRUE(kinds.count(elf::RelocationKind::MapHandle));
  EXPECT_TRUE(kinds.count(elf::RelocationKind::MapValue));
  EXPECT_TRUE(kinds.count(elf::RelocationKind::CodeAddress));
}

// A hand-made object exercising each relocation form, checked slot by slot:
// a call into .text by function symbol, a map handle, a .rodata address
// with an offset, a code address by section symbol.
TEST(ElfObjectGen, EachRelocationResolvesToWhatTheProgramMeant) {
  vm::Program p;
  vm::MapDef hash{"h", vm::MapType::Hash, 4, 8, 4, 0, {}, {}, false, {}};
  vm::MapDef rodata{"r", vm::MapType::Array, 4, 16, 1, 0, std::vector<uint8_t>(16, 7), {}, true, {}};
  p.maps = {hash, rodata};
  const auto push2 = [&p](std::array<isa::RawInsn, 2> s) {
    p.slots.insert(p.slots.end(), s.begin(), s.end());
  };
  const auto push = [&p](isa::RawInsn s) { p.slots.push_back(s); };
  push2(isa::encode_lddw(Form::lddw_map_fd, 1, 0, 0));     // 0-1: map 0's handle
  push2(isa::encode_lddw(Form::lddw_map_value, 2, 1, 8));  // 2-3: map 1's value + 8
  push(isa::encode(Form::call_local, 0, 1, 0, 2));         // 4: call slot 7
  push(isa::encode(Form::exit));                           // 5
  push(isa::encode(Form::exit));                           // 6 (unreached)
  push(isa::encode(Form::mov_imm, 0, 0, 0, 5));            // 7: the subprogram
  push(isa::encode(Form::exit));                           // 8
  ByteSource choices(3);
  const std::array<vm::Program, 1> given{p};
  auto object = elf_object_from_programs(given, choices);
  ASSERT_TRUE(object.ok()) << object.error().message;
  auto loaded = elf::load_elf(object->bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_FALSE(loaded_object_difference(object->expected, loaded->program));
  ASSERT_EQ(loaded->subprograms.size(), 1u);
  EXPECT_EQ(loaded->subprograms[0].slot, 7u) << "the program section holds slots 0-6, .text the rest";
  ASSERT_EQ(loaded->program.maps.size(), 2u);
  EXPECT_EQ(loaded->program.maps[0].name, "map_0_0");
  EXPECT_EQ(loaded->program.maps[1].name, ".rodata.0_1");
  EXPECT_TRUE(loaded->program.maps[1].read_only);
  EXPECT_EQ(loaded->program.maps[1].initial_values, std::vector<uint8_t>(16, 7));
  EXPECT_EQ(loaded->program.slots[2].src, 2);
  EXPECT_EQ(loaded->program.slots[2].imm, 1);
  EXPECT_EQ(loaded->program.slots[3].imm, 8);
  EXPECT_EQ(loaded->program.slots[4].imm, 2) << "the call reaches slot 7 again";
  // The comparison sees a wrong slot.
  vm::Program wrong = object->expected;
  wrong.slots[4].imm = 3;
  const auto d = loaded_object_difference(wrong, loaded->program);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rfind("slot 4:", 0), 0u) << *d;
}

TEST(ElfObjectGen, WhatAnObjectCannotSayIsRefusedWithTheReason) {
  ByteSource choices(1);
  vm::Program jumps_out;
  jumps_out.slots = {isa::encode(Form::call_local, 0, 1, 0, 2), isa::encode(Form::ja, 0, 0, 2, 0),
                     isa::encode(Form::exit, 0, 0, 0, 0), isa::encode(Form::mov_imm, 0, 0, 0, 1),
                     isa::encode(Form::exit, 0, 0, 0, 0)};
  std::array<vm::Program, 1> given{jumps_out};
  auto r = elf_object_from_programs(given, choices);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("slot 1: a jump leaves its function"), std::string::npos)
      << r.error().message;

  vm::Program value_of_hash;
  value_of_hash.maps = {vm::MapDef{"h", vm::MapType::Hash, 4, 8, 4, 0, {}, {}, false, {}}};
  for (const isa::RawInsn& s : isa::encode_lddw(Form::lddw_map_value, 1, 0, 0))
    value_of_hash.slots.push_back(s);
  value_of_hash.slots.push_back(isa::encode(Form::exit, 0, 0, 0, 0));
  given[0] = value_of_hash;
  r = elf_object_from_programs(given, choices);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot be global data"), std::string::npos) << r.error().message;

  // Half an lddw at the end, and a jump into the middle of one.
  const auto wide = isa::encode_lddw_imm64(0, 5);
  vm::Program truncated;
  truncated.slots = {isa::encode(Form::exit, 0, 0, 0, 0), wide[0]};
  given[0] = truncated;
  r = elf_object_from_programs(given, choices);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("slot 1: an lddw without its second slot"), std::string::npos)
      << r.error().message;
  vm::Program into_lddw;
  into_lddw.slots = {isa::encode(Form::ja, 0, 0, 1, 0), wide[0], wide[1],
                     isa::encode(Form::exit, 0, 0, 0, 0)};
  given[0] = into_lddw;
  r = elf_object_from_programs(given, choices);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("slot 0: a jump into the second slot of an lddw"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace bpfdiff::fuzz
