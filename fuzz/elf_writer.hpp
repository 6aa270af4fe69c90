#pragma once
// Writes a relocatable BPF ELF object (ET_REL, EM_BPF) from a description:
// code sections with function symbols and REL relocations, legacy `maps`
// definitions (struct bpf_map_def, optionally padded with zeros) or
// BTF-defined maps (with program-array values), global
// data sections (.data*, .rodata*, .bss*) and a license. Generated objects
// (elf_object_gen.hpp) are written with it, so the ELF loader is fuzzed with
// objects whose meaning is known, not only with mutated bytes.
//
// Section order in the file: the code sections, `maps` or `.maps`, the data
// sections, `license`, `.BTF` (with BTF maps), one `.rel<code>` per code
// section with relocations, `.rel.maps` (program-array values), `.symtab`,
// `.strtab`, `.shstrtab`. The loader lays code out in section order and
// numbers maps in section order (legacy maps by symbol value), so the order
// here is the order the loaded Program has.
#include <cstdint>
#include <string>
#include <utility>
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

struct ElfMapSpec {
  std::string name;
  uint32_t type = 0;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t flags = 0;
  // BTF maps only (ElfObjectSpec::btf_maps):
  bool key_as_type = false;    // __type(key, char[key_size]) rather than __uint(key_size, ...)
  bool value_as_type = false;  // likewise for the value
  // A program array's `.values = { [key] = &function }`: (key, index into
  // ElfObjectSpec::functions), each written as an R_BPF_64_ABS64 relocation.
  std::vector<std::pair<uint32_t, uint32_t>> program_values;
};

struct ElfObjectSpec {
  std::vector<ElfCodeSpec> code;
  std::vector<ElfFunctionSpec> functions;
  std::vector<ElfMapSpec> maps;
  // Legacy `maps` (struct bpf_map_def) or BTF-defined `.maps` with a `.BTF`
  // section describing them (elf_btf_maps.hpp).
  bool btf_maps = false;
  uint32_t map_def_bytes = 20;  // legacy: at least 20; the bytes past struct bpf_map_def are zero
  std::vector<ElfDataSpec> data;
  std::string license = "GPL";
};

std::vector<uint8_t> write_elf_object(const ElfObjectSpec& spec);

}  // namespace bpfdiff::fuzz
