#pragma once
// The ELF front end: a BPF object as `clang -O2 -g -target bpf -c` writes it
// becomes one vm::Program holding every code section of the object (program
// sections such as "xdp" or "kprobe/sys_clone", and the .text subprograms) in
// a single slot array, with the object's maps, each program listed as an
// entry, and relocations resolved here, not by libbpf:
//   R_BPF_64_64 on lddw  -> map handle (src 1, imm = map index), global-data
//                           address (src 2, imm = map index, next imm = offset)
//                           or function address (src 4, pc-relative)
//   R_BPF_64_32 on call  -> pc-relative bpf-to-bpf call into the slot array
// A malformed object is an error naming the section, offset or symbol.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vm/program/program.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::elf {

// A function of the object: a program (a function in a program section, or a
// whole program section without function symbols) or a .text subprogram.
struct ElfFunction {
  std::string name;
  std::string section;
  uint32_t slot = 0;        // first slot in Program::slots
  uint32_t slot_count = 0;  // 0 when the symbol gives no size
};

// A code section's place in the slot array.
struct CodeSection {
  std::string name;
  uint32_t index = 0;  // ELF section index
  uint32_t slot = 0;
  uint32_t slot_count = 0;
};

enum class RelocationKind : uint8_t {
  MapHandle,    // lddw src 1: `map` is the map index
  MapValue,     // lddw src 2: `map` and `value_offset`
  CodeAddress,  // lddw src 4: `target` is the slot of the function
  Call,         // call src 1: `target` is the slot of the callee
};

struct AppliedRelocation {
  uint32_t slot = 0;  // the relocated instruction
  RelocationKind kind = RelocationKind::Call;
  std::string symbol;
  uint32_t map = 0;
  uint32_t value_offset = 0;
  uint32_t target = 0;
};

struct ElfObject {
  // Every code section, every map; entries are the programs; entry is the
  // first program's slot.
  vm::Program program;
  std::vector<ElfFunction> programs;     // in section order
  std::vector<ElfFunction> subprograms;  // named functions of .text
  std::vector<CodeSection> code_sections;
  std::vector<AppliedRelocation> relocations;
  std::string license;  // the "license" section, if any
};

Result<ElfObject> load_elf(std::span<const uint8_t> bytes);

// The object's Program set to start at one of its programs:
// by section name ("xdp", "kprobe/sys_clone"), which must hold one program,
Result<vm::Program> program_in_section(const ElfObject& object, std::string_view section);
// or by function name: a program, or any named function of .text (the
// bpf_conformance convention runs `main` in .text).
Result<vm::Program> program_named(const ElfObject& object, std::string_view name);

// "xdp+3" for slot 3 of section xdp: how listings name a slot.
std::string describe_slot(const ElfObject& object, uint32_t slot);

}  // namespace bpfdiff::elf
