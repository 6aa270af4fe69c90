#pragma once
// Writes a relocatable BPF ELF object (ET_REL, EM_BPF) from a description:
// code sections with function symbols and REL relocations, legacy `maps`
// definitions (struct bpf_map_def, optionally padded with zeros), global
// data sections (.data*, .rodata*, .bss*) and a license. Generated objects
// (elf_object_gen.hpp) are written with it, so the ELF loader is fuzzed with
// objects whose meaning is known, not only with mutated bytes.
//
// Section order in the file: the code sections, `maps`, the data sections,
// `license`, one `.rel<code>` per code section with relocations, `.symtab`,
// `.strtab`, `.shstrtab`. The loader lays code out in section order and
// numbers maps in section order (legacy maps by symbol value), so the order
// here is the order the loaded Program has.
#include <cstdint>
#include <string>
#include <vector>

#include "vm/isa/raw.hpp"

namespace bpfdiff::fuzz {

// What a relocation names.
struct ElfSymbolRef {
  enum class Kind : uint8_t {
    Function,     // ElfObjectSpec::functions[index]
    CodeSection,  // the section symbol of code[index] (offset in the addend)
    DataSection,  // the section symbol of data[index]
    Map,          // the symbol of maps[index]
  };
  Kind kind = Kind::Function;
  uint32_t index = 0;
};

struct ElfRelocationSpec {
  uint32_t slot = 0;  // instruction of its code section
  uint32_t type = 0;  // elf::kRelBpf64_64 or elf::kRelBpf64_32
  ElfSymbolRef symbol;
};

struct ElfCodeSpec {
  std::string name;  // "xdp/1", ".text"
  std::vector<isa::RawInsn> slots;
  std::vector<ElfRelocationSpec> relocations;
};

struct ElfFunctionSpec {
  std::string name;
  uint32_t section = 0;  // index into ElfObjectSpec::code
  uint32_t slot = 0;     // first instruction in that section
  uint32_t slot_count = 0;
  bool global = true;  // programs are global, static .text functions local
};

struct ElfDataSpec {
  std::string name;            // ".data.x", ".rodata.x" or ".bss.x"
  std::vector<uint8_t> bytes;  // the contents; a .bss section has none
  uint64_t size = 0;           // .bss: its size; else bytes.size()
};

struct ElfLegacyMapSpec {
  std::string name;
  uint32_t type = 0;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t flags = 0;
};

struct ElfObjectSpec {
  std::vector<ElfCodeSpec> code;
  std::vector<ElfFunctionSpec> functions;
  std::vector<ElfLegacyMapSpec> maps;
  uint32_t map_def_bytes = 20;  // at least 20; the bytes past struct bpf_map_def are zero
  std::vector<ElfDataSpec> data;
  std::string license = "GPL";
};

std::vector<uint8_t> write_elf_object(const ElfObjectSpec& spec);

}  // namespace bpfdiff::fuzz
