#pragma once
// An ELF relocatable object for BPF (ELFCLASS64, little-endian, EM_BPF), read
// with libelf into plain tables of sections and symbols. Every size and offset
// taken from the file is checked against the file before anything reads
// through it, so the layers above (BTF, maps, relocation) only ever see
// in-bounds byte spans.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vm/util/result.hpp"

// libelf's handle types, kept out of this header.
struct Elf;
struct Elf_Scn;

namespace bpfdiff::elf {

struct Section {
  uint32_t index = 0;
  std::string name;
  uint32_t type = 0;    // SHT_*
  uint64_t flags = 0;   // SHF_*
  uint64_t offset = 0;  // in the file
  uint64_t size = 0;    // bytes in memory (NOBITS: no bytes in the file)
  uint32_t link = 0;
  uint32_t info = 0;
  uint64_t entsize = 0;
  std::span<const uint8_t> bytes;  // the section's contents; empty for NOBITS

  bool executable() const;
  bool nobits() const;
  // "section 3 'xdp'": how every error names a section.
  std::string describe() const;
};

struct Symbol {
  uint32_t index = 0;
  std::string name;
  uint64_t value = 0;
  uint64_t size = 0;
  uint8_t type = 0;  // STT_*
  uint8_t bind = 0;  // STB_*
  uint16_t shndx = 0;

  std::string describe() const;  // "symbol 14 'counts'"
};

struct Relocation {
  uint64_t offset = 0;  // in the section it applies to
  uint32_t type = 0;    // R_BPF_*
  uint32_t symbol = 0;  // index into the symbol table
};

// The R_BPF_* relocation types (linux/elf-em.h does not define them).
inline constexpr uint32_t kRelBpfNone = 0;
inline constexpr uint32_t kRelBpf64_64 = 1;  // lddw imm pair: 64-bit address of the symbol
inline constexpr uint32_t kRelBpf64Abs64 = 2;
inline constexpr uint32_t kRelBpf64Abs32 = 3;
inline constexpr uint32_t kRelBpf64Nodyld32 = 4;
inline constexpr uint32_t kRelBpf64_32 = 10;  // call imm: pc-relative target in insns

class ElfImage {
 public:
  // Copies `bytes`; checks the header (class, data encoding, machine, type),
  // the section header table and every section's extent, and reads the
  // symbol table. Errors name the field or the section.
  static Result<ElfImage> parse(std::span<const uint8_t> bytes);

  const std::vector<Section>& sections() const { return sections_; }
  const std::vector<Symbol>& symbols() const { return symbols_; }

  // Section by index (0 is the null section, never returned), or nullptr.
  const Section* section(uint32_t index) const;
  const Section* find_section(std::string_view name) const;
  const Symbol* symbol(uint32_t index) const;

  // The entries of a SHT_REL section; rejects sizes that are not a whole
  // number of entries and symbol indexes outside the symbol table.
  Result<std::vector<Relocation>> relocations(const Section& rel) const;

 private:
  // Declared before elf_ so the libelf handle goes first on destruction.
  std::shared_ptr<const std::vector<uint8_t>> file_;  // what every span points into
  std::shared_ptr<Elf> elf_;
  std::vector<Elf_Scn*> scns_;  // by section index
  std::vector<Section> sections_;
  std::vector<Symbol> symbols_;
};

}  // namespace bpfdiff::elf
