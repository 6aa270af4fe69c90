#include "vm/elf/elf_image.hpp"

#include <gelf.h>
#include <libelf.h>

#include <cstring>
#include <mutex>

namespace bpfdiff::elf {
namespace {

// EM_BPF is in newer <elf.h> files only.
constexpr uint16_t kMachineBpf = 247;
constexpr uint64_t kSymEntryBytes = sizeof(Elf64_Sym);
constexpr uint64_t kRelEntryBytes = sizeof(Elf64_Rel);

std::string hex(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

Error libelf_error(const std::string& what) {
  const char* msg = elf_errmsg(-1);
  return make_error(what + (msg != nullptr ? std::string(": ") + msg : std::string()));
}

// libelf must be told the ELF version it is used with before any other call;
// doing it once per process is enough and thread-safe with call_once.
bool init_libelf() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = elf_version(EV_CURRENT) != EV_NONE; });
  return ok;
}

// Does [offset, offset + size) fit in a file of `file_size` bytes? Written so
// that no addition can wrap whatever the file claims.
bool fits(uint64_t offset, uint64_t size, uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

Result<void> check_ident(std::span<const uint8_t> bytes) {
  if (bytes.size() < EI_NIDENT) {
    return make_error("ELF: file is " + std::to_string(bytes.size()) + " bytes, too short for an ELF header");
  }
  if (bytes[EI_MAG0] != ELFMAG0 || bytes[EI_MAG1] != ELFMAG1 || bytes[EI_MAG2] != ELFMAG2 ||
      bytes[EI_MAG3] != ELFMAG3) {
    return make_error("ELF: bad magic (not an ELF file)");
  }
  if (bytes[EI_CLASS] != ELFCLASS64) {
    return make_error("ELF header: class is " + std::to_string(bytes[EI_CLASS]) +
                      ", BPF objects are 64-bit (ELFCLASS64 = 2)");
  }
  if (bytes[EI_DATA] != ELFDATA2LSB) {
    return make_error("ELF header: data encoding is " + std::to_string(bytes[EI_DATA]) +
                      ", only little-endian BPF objects (ELFDATA2LSB = 1) are supported");
  }
  if (bytes.size() < sizeof(Elf64_Ehdr)) {
    return make_error("ELF header: truncated, the file is " + std::to_string(bytes.size()) +
                      " bytes and the header " + std::to_string(sizeof(Elf64_Ehdr)));
  }
  return {};
}

// libelf quietly reports zero sections when the section header table does not
// fit the file; check it here so the error says what is wrong.
Result<void> check_section_table(std::span<const uint8_t> bytes) {
  Elf64_Ehdr h;
  std::memcpy(&h, bytes.data(), sizeof h);
  const uint64_t size = bytes.size();
  if (h.e_shoff == 0) return make_error("ELF header: the object has no section header table");
  uint64_t count = h.e_shnum;
  if (count == 0) {
    // Extended numbering: the count is in the size field of section 0.
    if (!fits(h.e_shoff, sizeof(Elf64_Shdr), size)) {
      return make_error("ELF header: section header table at offset " + hex(h.e_shoff) +
                        " is past the end of the " + std::to_string(size) + "-byte file");
    }
    Elf64_Shdr first;
    std::memcpy(&first, bytes.data() + h.e_shoff, sizeof first);
    count = first.sh_size;
  }
  if (count > size / sizeof(Elf64_Shdr) || !fits(h.e_shoff, count * sizeof(Elf64_Shdr), size)) {
    return make_error("ELF header: section header table (" + std::to_string(count) + " entries at offset " +
                      hex(h.e_shoff) + ") runs past the end of the " + std::to_string(size) + "-byte file");
  }
  return {};
}

struct ElfDeleter {
  void operator()(Elf* e) const { elf_end(e); }
};

}  // namespace

bool Section::executable() const {
  return type == SHT_PROGBITS && (flags & SHF_EXECINSTR) != 0;
}

bool Section::nobits() const {
  return type == SHT_NOBITS;
}

std::string Section::describe() const {
  return "section " + std::to_string(index) + " '" + name + "'";
}

std::string Symbol::describe() const {
  return "symbol " + std::to_string(index) + " '" + name + "'";
}

const Section* ElfImage::section(uint32_t index) const {
  if (index == 0 || index >= sections_.size()) return nullptr;
  return &sections_[index];
}

const Section* ElfImage::find_section(std::string_view name) const {
  for (const Section& s : sections_) {
    if (s.index != 0 && s.name == name) return &s;
  }
  return nullptr;
}

const Symbol* ElfImage::symbol(uint32_t index) const {
  if (index >= symbols_.size()) return nullptr;
  return &symbols_[index];
}

namespace {

// Reads the table of `symtab` (already checked to lie inside the file).
Result<std::vector<Symbol>> read_symbols(Elf* e, Elf_Scn* scn, const Section& symtab,
                                         const std::vector<Section>& sections) {
  if (symtab.size % kSymEntryBytes != 0) {
    return make_error(symtab.describe() + ": size " + std::to_string(symtab.size) +
                      " is not a whole number of " + std::to_string(kSymEntryBytes) + "-byte symbols");
  }
  if (symtab.link == 0 || symtab.link >= sections.size() || sections[symtab.link].type != SHT_STRTAB) {
    return make_error(symtab.describe() + ": its string table (link " + std::to_string(symtab.link) +
                      ") is not a string-table section");
  }
  Elf_Data* data = elf_getdata(scn, nullptr);
  if (data == nullptr && symtab.size != 0) return libelf_error(symtab.describe() + ": cannot read");
  const uint64_t count = symtab.size / kSymEntryBytes;
  if (count > INT32_MAX)
    return make_error(symtab.describe() + ": too many symbols");  // libelf indexes with int
  std::vector<Symbol> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    GElf_Sym sym;
    if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) {
      return libelf_error(symtab.describe() + ": symbol " + std::to_string(i));
    }
    Symbol s;
    s.index = static_cast<uint32_t>(i);
    if (sym.st_name != 0) {
      const char* name = elf_strptr(e, symtab.link, sym.st_name);
      if (name == nullptr) {
        return make_error(symtab.describe() + ": symbol " + std::to_string(i) + ": name offset " +
                          std::to_string(sym.st_name) + " is outside its string table");
      }
      s.name = name;
    }
    s.value = sym.st_value;
    s.size = sym.st_size;
    s.type = static_cast<uint8_t>(GELF_ST_TYPE(sym.st_info));
    s.bind = static_cast<uint8_t>(GELF_ST_BIND(sym.st_info));
    s.shndx = sym.st_shndx;
    // Section symbols are nameless in the table; give them their section's
    // name so messages and listings can say what they refer to.
    if (s.type == STT_SECTION && s.name.empty() && s.shndx < sections.size()) {
      s.name = sections[s.shndx].name;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Result<ElfImage> ElfImage::parse(std::span<const uint8_t> bytes) {
  if (auto r = check_ident(bytes); !r.ok()) return r.error();
  if (auto r = check_section_table(bytes); !r.ok()) return r.error();
  if (!init_libelf()) return libelf_error("ELF: libelf cannot be initialised");

  ElfImage image;
  auto file = std::make_shared<std::vector<uint8_t>>(bytes.begin(), bytes.end());
  image.file_ = file;
  const uint64_t file_size = file->size();

  // libelf wants a mutable buffer; it only reads it, and the copy is ours.
  std::unique_ptr<Elf, ElfDeleter> e(elf_memory(reinterpret_cast<char*>(file->data()), file->size()));
  if (!e) return libelf_error("ELF: cannot open");
  if (elf_kind(e.get()) != ELF_K_ELF) return make_error("ELF: not an ELF object");

  GElf_Ehdr ehdr;
  if (gelf_getehdr(e.get(), &ehdr) == nullptr) return libelf_error("ELF header: cannot read");
  if (ehdr.e_machine != kMachineBpf) {
    return make_error("ELF header: machine is " + std::to_string(ehdr.e_machine) +
                      ", not BPF (EM_BPF = " + std::to_string(kMachineBpf) + ")");
  }
  if (ehdr.e_type != ET_REL) {
    return make_error("ELF header: type is " + std::to_string(ehdr.e_type) +
                      ", BPF programs come as relocatable objects (ET_REL = 1)");
  }

  size_t shnum = 0;
  if (elf_getshdrnum(e.get(), &shnum) != 0) return libelf_error("ELF header: bad section count");
  if (shnum == 0) return make_error("ELF: the object has no sections");
  if (ehdr.e_shentsize != sizeof(Elf64_Shdr)) {
    return make_error("ELF header: section header size is " + std::to_string(ehdr.e_shentsize) + ", not " +
                      std::to_string(sizeof(Elf64_Shdr)));
  }
  if (shnum > file_size / sizeof(Elf64_Shdr) ||
      !fits(ehdr.e_shoff, uint64_t{shnum} * sizeof(Elf64_Shdr), file_size)) {
    return make_error("ELF header: section header table (" + std::to_string(shnum) + " entries at offset " +
                      hex(ehdr.e_shoff) + ") runs past the end of the " + std::to_string(file_size) +
                      "-byte file");
  }
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(e.get(), &shstrndx) != 0)
    return libelf_error("ELF header: bad section-name table index");
  if (shstrndx == 0 || shstrndx >= shnum) {
    return make_error("ELF header: section-name table index " + std::to_string(shstrndx) +
                      " is not a section (" + std::to_string(shnum) + " sections)");
  }

  // Pass 1: headers and extents, so names can be looked up afterwards.
  std::vector<Elf_Scn*> scns(shnum, nullptr);
  image.sections_.resize(shnum);
  for (size_t i = 1; i < shnum; ++i) {
    Elf_Scn* scn = elf_getscn(e.get(), i);
    GElf_Shdr shdr;
    if (scn == nullptr || gelf_getshdr(scn, &shdr) == nullptr) {
      return libelf_error("section " + std::to_string(i) + ": cannot read its header");
    }
    scns[i] = scn;
    Section& s = image.sections_[i];
    s.index = static_cast<uint32_t>(i);
    s.type = shdr.sh_type;
    s.flags = shdr.sh_flags;
    s.offset = shdr.sh_offset;
    s.size = shdr.sh_size;
    s.link = shdr.sh_link;
    s.info = shdr.sh_info;
    s.entsize = shdr.sh_entsize;
    if (s.type != SHT_NOBITS && s.type != SHT_NULL) {
      if (!fits(s.offset, s.size, file_size)) {
        return make_error("section " + std::to_string(i) + ": contents (" + std::to_string(s.size) +
                          " bytes at offset " + hex(s.offset) + ") run past the end of the " +
                          std::to_string(file_size) + "-byte file");
      }
      s.bytes = std::span<const uint8_t>(file->data() + s.offset, s.size);
    }
  }
  if (image.sections_[shstrndx].type != SHT_STRTAB) {
    return make_error("ELF header: section-name table (section " + std::to_string(shstrndx) +
                      ") is not a string table");
  }
  for (size_t i = 1; i < shnum; ++i) {
    GElf_Shdr shdr;
    gelf_getshdr(scns[i], &shdr);
    const char* name = elf_strptr(e.get(), shstrndx, shdr.sh_name);
    if (name == nullptr) {
      return make_error("section " + std::to_string(i) + ": name offset " + std::to_string(shdr.sh_name) +
                        " is outside the section-name table");
    }
    image.sections_[i].name = name;
  }

  // Pass 2: the symbol table (a relocatable object has at most one).
  for (size_t i = 1; i < shnum; ++i) {
    const Section& s = image.sections_[i];
    if (s.type != SHT_SYMTAB) continue;
    if (!image.symbols_.empty()) return make_error(s.describe() + ": a second symbol table");
    auto symbols = read_symbols(e.get(), scns[i], s, image.sections_);
    if (!symbols) return symbols.error();
    image.symbols_ = std::move(symbols).value();
  }

  image.elf_ = std::shared_ptr<Elf>(e.release(), ElfDeleter{});
  image.scns_ = std::move(scns);
  return image;
}

Result<std::vector<Relocation>> ElfImage::relocations(const Section& rel) const {
  if (rel.type != SHT_REL) return make_error(rel.describe() + ": not a relocation (SHT_REL) section");
  if (rel.size % kRelEntryBytes != 0) {
    return make_error(rel.describe() + ": size " + std::to_string(rel.size) + " is not a whole number of " +
                      std::to_string(kRelEntryBytes) + "-byte relocations");
  }
  if (rel.index >= scns_.size()) return make_error(rel.describe() + ": not a section of this object");
  std::vector<Relocation> out;
  if (rel.size == 0) return out;
  Elf_Data* data = elf_getdata(scns_[rel.index], nullptr);
  if (data == nullptr) return libelf_error(rel.describe() + ": cannot read");
  const uint64_t count = rel.size / kRelEntryBytes;
  if (count > INT32_MAX)
    return make_error(rel.describe() + ": too many relocations");  // libelf indexes with int
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    GElf_Rel r;
    if (gelf_getrel(data, static_cast<int>(i), &r) == nullptr) {
      return libelf_error(rel.describe() + ": relocation " + std::to_string(i));
    }
    const uint64_t sym = GELF_R_SYM(r.r_info);
    if (sym == 0 || sym >= symbols_.size()) {
      return make_error(rel.describe() + ": relocation " + std::to_string(i) + " at offset " +
                        hex(r.r_offset) + ": symbol index " + std::to_string(sym) +
                        " is not in the symbol table (" + std::to_string(symbols_.size()) + " symbols)");
    }
    out.push_back(
        Relocation{r.r_offset, static_cast<uint32_t>(GELF_R_TYPE(r.r_info)), static_cast<uint32_t>(sym)});
  }
  return out;
}

}  // namespace bpfdiff::elf
