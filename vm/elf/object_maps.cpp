#include "vm/elf/object_maps.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "vm/elf/btf.hpp"

namespace bpfdiff::elf {
namespace {

constexpr std::string_view kBtfMapsSection = ".maps";
constexpr std::string_view kLegacyMapsSection = "maps";
// struct bpf_map_def { u32 type, key_size, value_size, max_entries, map_flags; }
constexpr uint64_t kLegacyMapDefBytes = 20;

bool has_prefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// ".data" or ".data.anything"
bool named(std::string_view name, std::string_view base) {
  return name == base || (has_prefix(name, base) && name.size() > base.size() && name[base.size()] == '.');
}

Result<vm::MapType> map_type(uint32_t raw, const std::string& where) {
  switch (raw) {
    case static_cast<uint32_t>(vm::MapType::Hash):
      return vm::MapType::Hash;
    case static_cast<uint32_t>(vm::MapType::Array):
      return vm::MapType::Array;
    case static_cast<uint32_t>(vm::MapType::ProgArray):
      return vm::MapType::ProgArray;
    default:
      return make_error(where + ": map type " + std::to_string(raw) +
                        " is not supported (1 hash, 2 array and 3 prog_array are)");
  }
}

// ---- BTF-style .maps ----------------------------------------------------

// `__uint(name, N)` is a member of type `int (*name)[N]`: N is the array's
// element count behind the pointer.
Result<uint32_t> uint_attribute(const Btf& btf, const BtfMember& m, const std::string& where) {
  auto ptr = btf.resolve(m.type);
  if (!ptr) return make_error(where + ": " + ptr.error().message);
  if ((*ptr)->kind != BtfKind::Ptr)
    return make_error(where + ": attribute '" + m.name + "' is not __uint(...)");
  auto arr = btf.resolve((*ptr)->size_or_type);
  if (!arr) return make_error(where + ": " + arr.error().message);
  if ((*arr)->kind != BtfKind::Array) {
    return make_error(where + ": attribute '" + m.name + "' is not __uint(...)");
  }
  return (*arr)->array_nelems;
}

// `__type(name, T)` is a member of type `T *name`: the size of T.
Result<uint32_t> type_attribute_size(const Btf& btf, const BtfMember& m, const std::string& where) {
  auto ptr = btf.resolve(m.type);
  if (!ptr) return make_error(where + ": " + ptr.error().message);
  if ((*ptr)->kind != BtfKind::Ptr)
    return make_error(where + ": attribute '" + m.name + "' is not __type(...)");
  auto size = btf.size_of((*ptr)->size_or_type);
  if (!size) return make_error(where + ": attribute '" + m.name + "': " + size.error().message);
  if (*size == 0 || *size > UINT32_MAX) {
    return make_error(where + ": attribute '" + m.name + "' has size " + std::to_string(*size));
  }
  return static_cast<uint32_t>(*size);
}

Result<void> set_size(std::optional<uint32_t>& slot, uint32_t value, const char* what,
                      const std::string& where) {
  if (slot && *slot != value) {
    return make_error(where + ": " + what + " is given as both " + std::to_string(*slot) + " and " +
                      std::to_string(value));
  }
  slot = value;
  return {};
}

Result<void> parse_btf_map(const Btf& btf, const BtfMember& entry, const Section& maps_section,
                           ObjectMaps& out) {
  const BtfType* var = btf.type(entry.type);
  if (var == nullptr || var->kind != BtfKind::Var) {
    return make_error("BTF: DATASEC '.maps': entry at offset " + std::to_string(entry.offset) +
                      " is not a variable");
  }
  const std::string where = "map '" + var->name + "' (" + maps_section.describe() + ")";
  if (uint64_t{entry.offset} + entry.size > maps_section.size) {
    return make_error(where + ": its definition (" + std::to_string(entry.size) + " bytes at offset " +
                      std::to_string(entry.offset) + ") is outside the " + std::to_string(maps_section.size) +
                      "-byte section");
  }
  auto def = btf.resolve(var->size_or_type);
  if (!def) return make_error(where + ": " + def.error().message);
  if ((*def)->kind != BtfKind::Struct) return make_error(where + ": its definition is not a struct");

  std::optional<uint32_t> type, max_entries, key_size, value_size;
  uint32_t flags = 0;
  MapSource source{MapOrigin::Btf, maps_section.index, entry.offset, entry.size, std::nullopt};
  for (const BtfMember& m : (*def)->members) {
    if (m.name == "type" || m.name == "max_entries" || m.name == "map_flags" || m.name == "key_size" ||
        m.name == "value_size" || m.name == "numa_node" || m.name == "pinning" || m.name == "map_extra") {
      auto v = uint_attribute(btf, m, where);
      if (!v) return v.error();
      if (m.name == "type") type = *v;
      if (m.name == "max_entries") max_entries = *v;
      if (m.name == "map_flags") flags = *v;
      if (m.name == "key_size") {
        if (auto r = set_size(key_size, *v, "key size", where); !r.ok()) return r.error();
      }
      if (m.name == "value_size") {
        if (auto r = set_size(value_size, *v, "value size", where); !r.ok()) return r.error();
      }
      // numa_node, pinning and map_extra do not change what a program sees.
    } else if (m.name == "key" || m.name == "value") {
      auto size = type_attribute_size(btf, m, where);
      if (!size) return size.error();
      auto& slot = m.name == "key" ? key_size : value_size;
      if (auto r = set_size(slot, *size, m.name == "key" ? "key size" : "value size", where); !r.ok()) {
        return r.error();
      }
    } else if (m.name == "values") {
      source.values_offset = (*def)->member_bit_offset(m) / 8;
    } else {
      return make_error(where + ": unknown attribute '" + m.name + "'");
    }
  }
  if (!type) return make_error(where + ": no map type (__uint(type, ...))");
  if (!max_entries) return make_error(where + ": no max_entries");
  vm::MapDef map;
  map.name = var->name;
  auto t = map_type(*type, where);
  if (!t) return t.error();
  map.type = *t;
  // Program arrays hold program ids: 4-byte keys and values unless told.
  const uint32_t default_size = map.type == vm::MapType::ProgArray ? 4 : 0;
  map.key_size = key_size.value_or(default_size);
  map.value_size = value_size.value_or(default_size);
  map.max_entries = *max_entries;
  map.flags = flags;
  if (source.values_offset && map.type != vm::MapType::ProgArray) {
    return make_error(where + ": initial 'values' are supported for program arrays only");
  }
  out.defs.push_back(std::move(map));
  out.sources.push_back(source);
  return {};
}

Result<void> collect_btf_maps(const ElfImage& image, const Section& maps_section, ObjectMaps& out) {
  const Section* btf_section = image.find_section(".BTF");
  if (btf_section == nullptr) {
    return make_error(maps_section.describe() +
                      ": map definitions need type information, but there is no .BTF");
  }
  auto btf = Btf::parse(btf_section->bytes);
  if (!btf) return btf.error();
  const BtfType* datasec = btf->find_datasec(kBtfMapsSection);
  if (datasec == nullptr) return make_error("BTF: no DATASEC '.maps' describes " + maps_section.describe());
  for (const BtfMember& entry : datasec->members) {
    if (auto r = parse_btf_map(*btf, entry, maps_section, out); !r.ok()) return r;
  }
  return {};
}

// ---- legacy `maps` --------------------------------------------------------

uint32_t u32_at(std::span<const uint8_t> b, uint64_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}

Result<void> collect_legacy_maps(const ElfImage& image, const Section& maps_section, ObjectMaps& out) {
  std::vector<const Symbol*> syms;
  for (const Symbol& s : image.symbols()) {
    if (s.shndx == maps_section.index && s.type != STT_SECTION && s.index != 0) syms.push_back(&s);
  }
  if (syms.empty()) return make_error(maps_section.describe() + ": no symbols name its map definitions");
  if (maps_section.nobits() || maps_section.size % syms.size() != 0) {
    return make_error(maps_section.describe() + ": " + std::to_string(maps_section.size) +
                      " bytes do not divide into " + std::to_string(syms.size()) + " map definitions");
  }
  // Like libbpf: every definition has the same size, section size / maps.
  const uint64_t def_bytes = maps_section.size / syms.size();
  if (def_bytes < kLegacyMapDefBytes) {
    return make_error(maps_section.describe() + ": definitions of " + std::to_string(def_bytes) +
                      " bytes are shorter than struct bpf_map_def (20 bytes)");
  }
  std::sort(syms.begin(), syms.end(), [](const Symbol* a, const Symbol* b) { return a->value < b->value; });
  for (const Symbol* s : syms) {
    const std::string where = "map '" + s->name + "' (" + maps_section.describe() + ")";
    if (s->value > maps_section.size || def_bytes > maps_section.size - s->value) {
      return make_error(where + ": its definition at offset " + std::to_string(s->value) +
                        " runs past the end of the section");
    }
    const auto def = maps_section.bytes.subspan(s->value, def_bytes);
    // Fields this loader does not know must be zero, or the map would not be
    // what its author meant (libbpf's rule too).
    for (uint64_t i = kLegacyMapDefBytes; i < def_bytes; ++i) {
      if (def[i] != 0) return make_error(where + ": unknown nonzero field at byte " + std::to_string(i));
    }
    vm::MapDef map;
    map.name = s->name;
    auto t = map_type(u32_at(def, 0), where);
    if (!t) return t.error();
    map.type = *t;
    map.key_size = u32_at(def, 4);
    map.value_size = u32_at(def, 8);
    map.max_entries = u32_at(def, 12);
    map.flags = u32_at(def, 16);
    out.defs.push_back(std::move(map));
    out.sources.push_back(
        MapSource{MapOrigin::Legacy, maps_section.index, s->value, def_bytes, std::nullopt});
  }
  return {};
}

// ---- global data -------------------------------------------------------------

void add_data_map(const Section& s, ObjectMaps& out) {
  vm::MapDef map;
  map.name = s.name;
  map.type = vm::MapType::Array;
  map.key_size = 4;
  map.value_size = static_cast<uint32_t>(s.size);
  map.max_entries = 1;
  if (!s.nobits()) map.initial_values.assign(s.bytes.begin(), s.bytes.end());
  map.read_only = named(s.name, ".rodata");
  out.defs.push_back(std::move(map));
  out.sources.push_back(MapSource{MapOrigin::GlobalData, s.index, 0, s.size, std::nullopt});
}

}  // namespace

bool is_data_section(const Section& s) {
  if (s.type == SHT_NOBITS) return named(s.name, ".bss");
  if (s.type != SHT_PROGBITS || (s.flags & SHF_EXECINSTR) != 0) return false;
  return named(s.name, ".data") || named(s.name, ".rodata");
}

std::optional<uint32_t> ObjectMaps::definition_at(uint32_t section, uint64_t offset) const {
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const MapSource& s = sources[i];
    if (s.origin != MapOrigin::GlobalData && s.section == section && s.offset == offset) {
      return static_cast<uint32_t>(i);
    }
  }
  return std::nullopt;
}

std::optional<uint32_t> ObjectMaps::definition_containing(uint32_t section, uint64_t offset) const {
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const MapSource& s = sources[i];
    if (s.origin != MapOrigin::GlobalData && s.section == section && offset >= s.offset &&
        offset - s.offset < s.size) {
      return static_cast<uint32_t>(i);
    }
  }
  return std::nullopt;
}

std::optional<uint32_t> ObjectMaps::data_map(uint32_t section) const {
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].origin == MapOrigin::GlobalData && sources[i].section == section) {
      return static_cast<uint32_t>(i);
    }
  }
  return std::nullopt;
}

Result<ObjectMaps> collect_maps(const ElfImage& image) {
  ObjectMaps out;
  for (const Section& s : image.sections()) {
    if (s.index == 0) continue;
    if (s.name == kBtfMapsSection) {
      if (auto r = collect_btf_maps(image, s, out); !r.ok()) return r.error();
    } else if (s.name == kLegacyMapsSection) {
      if (auto r = collect_legacy_maps(image, s, out); !r.ok()) return r.error();
    } else if (is_data_section(s) && s.size > 0) {
      if (s.size > vm::kMaxMapValueSize) {
        return make_error(s.describe() + ": " + std::to_string(s.size) +
                          " bytes of global data exceed the limit of " +
                          std::to_string(vm::kMaxMapValueSize));
      }
      add_data_map(s, out);
    }
  }
  if (auto r = vm::check_maps(out.defs); !r.ok()) return r.error();
  return out;
}

}  // namespace bpfdiff::elf
