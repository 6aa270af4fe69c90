#pragma once
// The maps an object defines, found in three places:
//   - BTF-style definitions in `.maps` (attributes read from .BTF),
//   - legacy `struct bpf_map_def` records in a `maps` section,
//   - global data: each non-empty .data*, .rodata* and .bss* section becomes
//     an array map of one entry whose value is the section (as libbpf does),
//     read-only for .rodata*.
// Each map remembers where it is defined so relocations against its symbol
// (or against an address inside a data section) can find it.
#include <cstdint>
#include <optional>
#include <vector>

#include "vm/elf/elf_image.hpp"
#include "vm/program/maps.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::elf {

enum class MapOrigin : uint8_t { Btf, Legacy, GlobalData };

struct MapSource {
  MapOrigin origin = MapOrigin::Btf;
  uint32_t section = 0;  // section index of its definition or data
  uint64_t offset = 0;   // where the definition starts in that section (0 for global data)
  uint64_t size = 0;     // bytes of the definition, or of the data section
  // BTF program arrays may list initial programs in a `values` member:
  // `.rel.maps` relocations at offset + values_offset + 8 * key fill them.
  std::optional<uint64_t> values_offset;
};

struct ObjectMaps {
  std::vector<vm::MapDef> defs;
  std::vector<MapSource> sources;  // parallel to defs

  // The map defined at exactly (section, offset) in .maps or maps.
  std::optional<uint32_t> definition_at(uint32_t section, uint64_t offset) const;
  // The map a definition-section offset falls inside (for `.rel.maps`).
  std::optional<uint32_t> definition_containing(uint32_t section, uint64_t offset) const;
  // The global-data map of a data section.
  std::optional<uint32_t> data_map(uint32_t section) const;
};

// Is this a global-data section (.data, .rodata, .bss, or one of their
// dotted variants such as .rodata.str1.1)?
bool is_data_section(const Section& s);

Result<ObjectMaps> collect_maps(const ElfImage& image);

}  // namespace bpfdiff::elf
