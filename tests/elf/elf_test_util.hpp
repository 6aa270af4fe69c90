#pragma once
// Shared by the ELF tests: the compiled objects, and an editor that finds
// headers, relocations and symbols in an object's bytes so a test can plant
// exactly one defect in a real compiled object.
#include <elf.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bpfdiff::elf::test {

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// An object of the corpus (corpus/elf/NAME.c) or of the tests (tests/elf/objects/NAME.c).
inline std::vector<uint8_t> corpus_object(std::string_view name) {
  return read_bytes(std::string(BPFDIFF_ELF_CORPUS_DIR) + "/" + std::string(name) + ".o");
}
inline std::vector<uint8_t> test_object(std::string_view name) {
  return read_bytes(std::string(BPFDIFF_ELF_TEST_OBJECTS_DIR) + "/" + std::string(name) + ".o");
}

// Reads and patches a well-formed ELF64 object in place. Meant for objects
// the tests compiled themselves, so it trusts their structure (and throws,
// failing the test, if a looked-up name is missing).
class ElfEditor {
 public:
  explicit ElfEditor(std::vector<uint8_t>& bytes) : b_(bytes) {}

  Elf64_Ehdr header() const { return get<Elf64_Ehdr>(0); }
  void set_header(const Elf64_Ehdr& h) { put(0, h); }

  std::size_t section_header_offset(uint32_t index) const {
    return header().e_shoff + std::size_t{index} * sizeof(Elf64_Shdr);
  }
  Elf64_Shdr section_header(uint32_t index) const { return get<Elf64_Shdr>(section_header_offset(index)); }
  void set_section_header(uint32_t index, const Elf64_Shdr& s) { put(section_header_offset(index), s); }

  uint32_t section_index(std::string_view name) const {
    const Elf64_Ehdr h = header();
    const Elf64_Shdr names = section_header(h.e_shstrndx);
    for (uint32_t i = 1; i < h.e_shnum; ++i) {
      const char* n = reinterpret_cast<const char*>(b_.data() + names.sh_offset + section_header(i).sh_name);
      if (name == n) return i;
    }
    throw std::runtime_error("no section " + std::string(name));
  }
  Elf64_Shdr section(std::string_view name) const { return section_header(section_index(name)); }

  // Relocation `i` of a REL section, and where it is in the file.
  std::size_t rel_offset(std::string_view rel_section, std::size_t i) const {
    return section(rel_section).sh_offset + i * sizeof(Elf64_Rel);
  }
  Elf64_Rel rel(std::string_view rel_section, std::size_t i) const {
    return get<Elf64_Rel>(rel_offset(rel_section, i));
  }
  void set_rel(std::string_view rel_section, std::size_t i, const Elf64_Rel& r) {
    put(rel_offset(rel_section, i), r);
  }

  uint32_t symbol_index(std::string_view name) const {
    const Elf64_Shdr symtab = section(".symtab");
    const Elf64_Shdr strtab = section_header(symtab.sh_link);
    for (uint32_t i = 1; i < symtab.sh_size / sizeof(Elf64_Sym); ++i) {
      const auto sym = get<Elf64_Sym>(symtab.sh_offset + i * sizeof(Elf64_Sym));
      if (name == reinterpret_cast<const char*>(b_.data() + strtab.sh_offset + sym.st_name)) return i;
    }
    throw std::runtime_error("no symbol " + std::string(name));
  }
  std::size_t symbol_offset(uint32_t index) const {
    return section(".symtab").sh_offset + std::size_t{index} * sizeof(Elf64_Sym);
  }
  Elf64_Sym symbol(uint32_t index) const { return get<Elf64_Sym>(symbol_offset(index)); }
  void set_symbol(uint32_t index, const Elf64_Sym& s) { put(symbol_offset(index), s); }

  // The file offset of instruction `slot` of a code section.
  std::size_t insn_offset(std::string_view code_section, std::size_t slot) const {
    return section(code_section).sh_offset + slot * 8;
  }

  template <class T>
  T get(std::size_t at) const {
    if (at + sizeof(T) > b_.size()) throw std::runtime_error("read past the end of the object");
    T v;
    std::memcpy(&v, b_.data() + at, sizeof v);
    return v;
  }
  template <class T>
  void put(std::size_t at, const T& v) {
    if (at + sizeof(T) > b_.size()) throw std::runtime_error("write past the end of the object");
    std::memcpy(b_.data() + at, &v, sizeof v);
  }

 private:
  std::vector<uint8_t>& b_;
};

}  // namespace bpfdiff::elf::test
