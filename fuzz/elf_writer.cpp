#include "fuzz/elf_writer.hpp"

#include <elf.h>

#include <cstring>

#include "fuzz/elf_btf_maps.hpp"
#include "vm/elf/elf_image.hpp"

namespace bpfdiff::fuzz {
namespace {

constexpr uint16_t kMachineBpf = 247;  // EM_BPF, missing from older <elf.h>

// A string table under construction: offset 0 is the empty name.
class StringTable {
 public:
  StringTable() : bytes_(1, '\0') {}
  uint32_t add(const std::string& s) {
    if (s.empty()) return 0;
    const auto at = static_cast<uint32_t>(bytes_.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    bytes_.push_back('\0');
    return at;
  }
  std::vector<uint8_t> bytes() const { return {bytes_.begin(), bytes_.end()}; }

 private:
  std::vector<char> bytes_;
};

struct PendingSection {
  std::string name;
  Elf64_Shdr header{};
  std::vector<uint8_t> bytes;  // empty for SHT_NOBITS
};

template <typename T>
void append(std::vector<uint8_t>& out, const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof value);
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  append(out, v);
}

// Section indexes of everything the symbol table and relocations refer to.
struct Layout {
  std::vector<uint32_t> code;  // per code section
  uint32_t maps = 0;           // 0 when there are no maps
  std::vector<uint32_t> data;  // per data section
};

PendingSection code_section(const ElfCodeSpec& c) {
  PendingSection s;
  s.name = c.name;
  s.header.sh_type = SHT_PROGBITS;
  s.header.sh_flags = SHF_ALLOC | SHF_EXECINSTR;
  s.header.sh_addralign = 8;
  s.bytes = isa::encode_slots(c.slots);
  return s;
}

PendingSection maps_section(const ElfObjectSpec& spec) {
  PendingSection s;
  s.name = "maps";
  s.header.sh_type = SHT_PROGBITS;
  s.header.sh_flags = SHF_ALLOC | SHF_WRITE;
  s.header.sh_addralign = 4;
  for (const ElfMapSpec& m : spec.maps) {
    put_u32(s.bytes, m.type);
    put_u32(s.bytes, m.key_size);
    put_u32(s.bytes, m.value_size);
    put_u32(s.bytes, m.max_entries);
    put_u32(s.bytes, m.flags);
    s.bytes.resize(s.bytes.size() + (spec.map_def_bytes - 20), 0);
  }
  return s;
}

// `.maps`: zeros (the definitions are in .BTF); program-array values are
// filled by `.rel.maps`.
PendingSection btf_maps_section(const BtfMapsLayout& layout) {
  PendingSection s;
  s.name = ".maps";
  s.header.sh_type = SHT_PROGBITS;
  s.header.sh_flags = SHF_ALLOC | SHF_WRITE;
  s.header.sh_addralign = 8;
  s.bytes.assign(layout.section_size, 0);
  return s;
}

PendingSection data_section(const ElfDataSpec& d) {
  PendingSection s;
  s.name = d.name;
  const bool bss = d.name.rfind(".bss", 0) == 0;
  const bool rodata = d.name.rfind(".rodata", 0) == 0;
  s.header.sh_type = bss ? SHT_NOBITS : SHT_PROGBITS;
  s.header.sh_flags = SHF_ALLOC | (rodata ? 0 : SHF_WRITE);
  s.header.sh_addralign = 8;
  if (bss) {
    s.header.sh_size = d.size;
  } else {
    s.bytes = d.bytes;
  }
  return s;
}

}  // namespace

std::vector<uint8_t> write_elf_object(const ElfObjectSpec& spec) {
  std::vector<PendingSection> sections(1);  // index 0: the null section
  Layout at;
  for (const ElfCodeSpec& c : spec.code) {
    at.code.push_back(static_cast<uint32_t>(sections.size()));
    sections.push_back(code_section(c));
  }
  const BtfMapsLayout btf = spec.btf_maps ? encode_btf_maps(spec.maps) : BtfMapsLayout{};
  if (!spec.maps.empty()) {
    at.maps = static_cast<uint32_t>(sections.size());
    sections.push_back(spec.btf_maps ? btf_maps_section(btf) : maps_section(spec));
  }
  for (const ElfDataSpec& d : spec.data) {
    at.data.push_back(static_cast<uint32_t>(sections.size()));
    sections.push_back(data_section(d));
  }
  {
    PendingSection license;
    license.name = "license";
    license.header.sh_type = SHT_PROGBITS;
    license.header.sh_flags = SHF_ALLOC | SHF_WRITE;
    license.header.sh_addralign = 1;
    license.bytes.assign(spec.license.begin(), spec.license.end());
    license.bytes.push_back(0);
    sections.push_back(std::move(license));
  }
  if (spec.btf_maps && !spec.maps.empty()) {
    PendingSection types;
    types.name = ".BTF";
    types.header.sh_type = SHT_PROGBITS;
    types.header.sh_addralign = 4;
    types.bytes = btf.btf;
    sections.push_back(std::move(types));
  }

  // Symbols: the null symbol and the locals (section symbols, static
  // functions) first, as ELF requires, then the globals.
  StringTable strtab;
  std::vector<Elf64_Sym> symbols(1);
  std::vector<uint32_t> code_symbol(spec.code.size()), data_symbol(spec.data.size());
  std::vector<uint32_t> function_symbol(spec.functions.size()), map_symbol(spec.maps.size());
  const auto add_symbol = [&](uint32_t name, unsigned char bind, unsigned char type, uint32_t shndx,
                              uint64_t value, uint64_t size) {
    Elf64_Sym s{};
    s.st_name = name;
    s.st_info = static_cast<unsigned char>(ELF64_ST_INFO(bind, type));
    s.st_shndx = static_cast<uint16_t>(shndx);
    s.st_value = value;
    s.st_size = size;
    symbols.push_back(s);
    return static_cast<uint32_t>(symbols.size() - 1);
  };
  for (std::size_t i = 0; i < spec.code.size(); ++i)
    code_symbol[i] = add_symbol(0, STB_LOCAL, STT_SECTION, at.code[i], 0, 0);
  for (std::size_t i = 0; i < spec.data.size(); ++i)
    data_symbol[i] = add_symbol(0, STB_LOCAL, STT_SECTION, at.data[i], 0, 0);
  for (int pass = 0; pass < 2; ++pass) {
    const bool globals = pass == 1;
    for (std::size_t i = 0; i < spec.functions.size(); ++i) {
      const ElfFunctionSpec& f = spec.functions[i];
      if (f.global != globals) continue;
      function_symbol[i] =
          add_symbol(strtab.add(f.name), globals ? STB_GLOBAL : STB_LOCAL, STT_FUNC, at.code[f.section],
                     uint64_t{f.slot} * isa::kSlotBytes, uint64_t{f.slot_count} * isa::kSlotBytes);
    }
    if (!globals) continue;
    for (std::size_t i = 0; i < spec.maps.size(); ++i) {
      const uint64_t offset = spec.btf_maps ? btf.offset[i] : uint64_t{spec.map_def_bytes} * i;
      const uint64_t size = spec.btf_maps ? btf.size[i] : spec.map_def_bytes;
      map_symbol[i] =
          add_symbol(strtab.add(spec.maps[i].name), STB_GLOBAL, STT_OBJECT, at.maps, offset, size);
    }
  }
  uint32_t first_global = static_cast<uint32_t>(symbols.size());
  for (std::size_t i = 1; i < symbols.size(); ++i) {
    if (ELF64_ST_BIND(symbols[i].st_info) != STB_LOCAL) {
      first_global = static_cast<uint32_t>(i);
      break;
    }
  }
  const auto symbol_index = [&](const ElfSymbolRef& ref) {
    switch (ref.kind) {
      case ElfSymbolRef::Kind::Function:
        return function_symbol.at(ref.index);
      case ElfSymbolRef::Kind::CodeSection:
        return code_symbol.at(ref.index);
      case ElfSymbolRef::Kind::DataSection:
        return data_symbol.at(ref.index);
      case ElfSymbolRef::Kind::Map:
        break;
    }
    return map_symbol.at(ref.index);
  };

  // The symbol table's index is known once the relocation sections are counted.
  std::size_t rel_sections = 0;
  for (const ElfCodeSpec& c : spec.code)
    rel_sections += c.relocations.empty() ? 0 : 1;
  bool map_values = false;
  for (const ElfMapSpec& m : spec.maps)
    map_values = map_values || (spec.btf_maps && !m.program_values.empty());
  rel_sections += map_values ? 1 : 0;
  const auto symtab_index = static_cast<uint32_t>(sections.size() + rel_sections);
  for (std::size_t i = 0; i < spec.code.size(); ++i) {
    const ElfCodeSpec& c = spec.code[i];
    if (c.relocations.empty()) continue;
    PendingSection rel;
    rel.name = ".rel" + c.name;
    rel.header.sh_type = SHT_REL;
    rel.header.sh_flags = SHF_INFO_LINK;
    rel.header.sh_link = symtab_index;
    rel.header.sh_info = at.code[i];
    rel.header.sh_addralign = 8;
    rel.header.sh_entsize = sizeof(Elf64_Rel);
    for (const ElfRelocationSpec& r : c.relocations) {
      Elf64_Rel entry{};
      entry.r_offset = uint64_t{r.slot} * isa::kSlotBytes;
      entry.r_info = ELF64_R_INFO(uint64_t{symbol_index(r.symbol)}, uint64_t{r.type});
      append(rel.bytes, entry);
    }
    sections.push_back(std::move(rel));
  }
  if (map_values) {
    PendingSection rel;
    rel.name = ".rel.maps";
    rel.header.sh_type = SHT_REL;
    rel.header.sh_flags = SHF_INFO_LINK;
    rel.header.sh_link = symtab_index;
    rel.header.sh_info = at.maps;
    rel.header.sh_addralign = 8;
    rel.header.sh_entsize = sizeof(Elf64_Rel);
    for (std::size_t i = 0; i < spec.maps.size(); ++i) {
      for (const auto& [key, function] : spec.maps[i].program_values) {
        Elf64_Rel entry{};
        entry.r_offset = btf.offset[i] + btf.values[i] + uint64_t{key} * 8;
        entry.r_info = ELF64_R_INFO(uint64_t{function_symbol.at(function)}, uint64_t{elf::kRelBpf64Abs64});
        append(rel.bytes, entry);
      }
    }
    sections.push_back(std::move(rel));
  }
  {
    PendingSection symtab;
    symtab.name = ".symtab";
    symtab.header.sh_type = SHT_SYMTAB;
    symtab.header.sh_link = symtab_index + 1;  // .strtab
    symtab.header.sh_info = first_global;
    symtab.header.sh_addralign = 8;
    symtab.header.sh_entsize = sizeof(Elf64_Sym);
    for (const Elf64_Sym& s : symbols)
      append(symtab.bytes, s);
    sections.push_back(std::move(symtab));
    PendingSection strings;
    strings.name = ".strtab";
    strings.header.sh_type = SHT_STRTAB;
    strings.header.sh_addralign = 1;
    strings.bytes = strtab.bytes();
    sections.push_back(std::move(strings));
  }
  StringTable shstrtab;
  for (PendingSection& s : sections)
    s.header.sh_name = shstrtab.add(s.name);
  PendingSection names;
  names.name = ".shstrtab";
  names.header.sh_type = SHT_STRTAB;
  names.header.sh_addralign = 1;
  names.header.sh_name = shstrtab.add(names.name);
  names.bytes = shstrtab.bytes();
  sections.push_back(std::move(names));

  // The file: header, each section's bytes 8-aligned, the section headers.
  std::vector<uint8_t> out(sizeof(Elf64_Ehdr), 0);
  for (std::size_t i = 1; i < sections.size(); ++i) {
    PendingSection& s = sections[i];
    out.resize((out.size() + 7) / 8 * 8, 0);
    s.header.sh_offset = out.size();
    if (s.header.sh_type != SHT_NOBITS) {
      s.header.sh_size = s.bytes.size();
      out.insert(out.end(), s.bytes.begin(), s.bytes.end());
    }
  }
  out.resize((out.size() + 7) / 8 * 8, 0);
  Elf64_Ehdr ehdr{};
  std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = ELFCLASS64;
  ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
  ehdr.e_ident[EI_VERSION] = EV_CURRENT;
  ehdr.e_type = ET_REL;
  ehdr.e_machine = kMachineBpf;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_shoff = out.size();
  ehdr.e_ehsize = sizeof(Elf64_Ehdr);
  ehdr.e_shentsize = sizeof(Elf64_Shdr);
  ehdr.e_shnum = static_cast<uint16_t>(sections.size());
  ehdr.e_shstrndx = static_cast<uint16_t>(sections.size() - 1);
  for (const PendingSection& s : sections)
    append(out, s.header);
  std::memcpy(out.data(), &ehdr, sizeof ehdr);
  return out;
}

}  // namespace bpfdiff::fuzz
