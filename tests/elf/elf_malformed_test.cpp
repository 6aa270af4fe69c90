// Malformed objects: each test plants one defect in a real compiled object
// and expects a clear error naming the place, never a crash (the ASan + UBSan
// build runs these too).
#include <gtest/gtest.h>

#include <random>

#include "tests/elf/elf_test_util.hpp"
#include "vm/elf/elf_loader.hpp"

namespace bpfdiff::elf {
namespace {

using test::corpus_object;
using test::ElfEditor;
using test::test_object;

// Loads `bytes` and expects an error containing every fragment.
void expect_rejected(const std::vector<uint8_t>& bytes, std::initializer_list<std::string_view> fragments) {
  auto object = load_elf(bytes);
  ASSERT_FALSE(object) << "the defect was not noticed";
  for (std::string_view f : fragments) {
    EXPECT_NE(object.error().message.find(f), std::string::npos)
        << "message: " << object.error().message << "\nexpected to contain: " << f;
  }
}

TEST(ElfMalformed, TheUnmodifiedObjectsLoad) {
  // The baseline for every test below: without the defect the object loads.
  for (const char* name : {"counter", "global_data"}) {
    auto object = load_elf(corpus_object(name));
    EXPECT_TRUE(object) << name << ": " << object.error().message;
  }
}

TEST(ElfMalformed, EmptyAndNonElfInput) {
  expect_rejected({}, {"too short"});
  expect_rejected({'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!'},
                  {"bad magic"});
}

TEST(ElfMalformed, WrongClass) {
  auto b = corpus_object("counter");
  b[EI_CLASS] = ELFCLASS32;
  expect_rejected(b, {"class is 1", "ELFCLASS64"});
}

TEST(ElfMalformed, BigEndian) {
  auto b = corpus_object("counter");
  b[EI_DATA] = ELFDATA2MSB;
  expect_rejected(b, {"data encoding is 2"});
}

TEST(ElfMalformed, WrongMachine) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto h = e.header();
  h.e_machine = EM_X86_64;
  e.set_header(h);
  expect_rejected(b, {"machine is 62", "EM_BPF"});
}

TEST(ElfMalformed, NotRelocatable) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto h = e.header();
  h.e_type = ET_EXEC;
  e.set_header(h);
  expect_rejected(b, {"type is 2", "ET_REL"});
}

TEST(ElfMalformed, SectionHeaderTablePastTheEnd) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto h = e.header();
  h.e_shoff = b.size() - 100;
  e.set_header(h);
  expect_rejected(b, {"section header"});
}

TEST(ElfMalformed, SectionHeaderTableTruncated) {
  auto b = corpus_object("counter");
  const auto shoff = ElfEditor(b).header().e_shoff;
  b.resize(shoff + 3 * sizeof(Elf64_Shdr) + 5);  // the table is cut after three entries
  expect_rejected(b, {"section header"});
}

TEST(ElfMalformed, SectionNameTableIndexOutOfRange) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto h = e.header();
  h.e_shstrndx = static_cast<uint16_t>(h.e_shnum + 4);
  e.set_header(h);
  expect_rejected(b, {"section-name table"});
}

TEST(ElfMalformed, SectionContentsPastTheEnd) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t xdp = e.section_index("xdp");
  auto s = e.section_header(xdp);
  s.sh_offset = b.size() - 16;
  e.set_section_header(xdp, s);
  expect_rejected(b, {"section " + std::to_string(xdp) + ":", "run past the end"});
}

TEST(ElfMalformed, SectionSizeThatWrapsAround) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t xdp = e.section_index("xdp");
  auto s = e.section_header(xdp);
  s.sh_size = ~uint64_t{0} - s.sh_offset + 9;  // offset + size wraps to 8
  e.set_section_header(xdp, s);
  expect_rejected(b, {"section " + std::to_string(xdp) + ":", "run past the end"});
}

TEST(ElfMalformed, SectionNameOutsideTheNameTable) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t xdp = e.section_index("xdp");
  auto s = e.section_header(xdp);
  s.sh_name = 0x7fffff;
  e.set_section_header(xdp, s);
  expect_rejected(b, {"section " + std::to_string(xdp) + ": name offset"});
}

TEST(ElfMalformed, CodeSizeNotAWholeNumberOfInstructions) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t xdp = e.section_index("xdp");
  auto s = e.section_header(xdp);
  s.sh_size -= 3;
  e.set_section_header(xdp, s);
  expect_rejected(b, {"'xdp'", "not a multiple of the 8-byte instruction size"});
}

TEST(ElfMalformed, SymbolTableWithABrokenStringTableLink) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t symtab = e.section_index(".symtab");
  auto s = e.section_header(symtab);
  s.sh_link = e.section_index("xdp");
  e.set_section_header(symtab, s);
  expect_rejected(b, {"'.symtab'", "string table"});
}

TEST(ElfMalformed, SymbolTableTruncated) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t symtab = e.section_index(".symtab");
  auto s = e.section_header(symtab);
  s.sh_size -= 5;
  e.set_section_header(symtab, s);
  expect_rejected(b, {"'.symtab'", "whole number of 24-byte symbols"});
}

TEST(ElfMalformed, SymbolNameOutsideItsStringTable) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t i = e.symbol_index("counts");
  auto sym = e.symbol(i);
  sym.st_name = 0x7fffff;
  e.set_symbol(i, sym);
  expect_rejected(b, {"symbol " + std::to_string(i) + ": name offset"});
}

TEST(ElfMalformed, RelocationSymbolIndexOutOfRange) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto r = e.rel(".relxdp", 1);
  r.r_info = ELF64_R_INFO(5000, ELF64_R_TYPE(r.r_info));
  e.set_rel(".relxdp", 1, r);
  expect_rejected(b, {"'.relxdp'", "relocation 1", "symbol index 5000"});
}

TEST(ElfMalformed, RelocationOffsetOutsideTheCode) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto r = e.rel(".relxdp", 0);
  r.r_offset = 0x10000;
  e.set_rel(".relxdp", 0, r);
  expect_rejected(b, {"'.relxdp'", "relocation 0 at offset 0x10000", "not an instruction"});
}

TEST(ElfMalformed, RelocationOffsetInsideAnInstruction) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto r = e.rel(".relxdp", 0);
  r.r_offset += 4;
  e.set_rel(".relxdp", 0, r);
  expect_rejected(b, {"relocation 0 at offset 0x54", "not an instruction"});
}

TEST(ElfMalformed, LddwRelocationOnAnotherInstruction) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto r = e.rel(".relxdp", 0);
  r.r_offset = 0;  // `r6 = 0`, a mov
  e.set_rel(".relxdp", 0, r);
  expect_rejected(b, {"relocation 0 at offset 0x0", "R_BPF_64_64", "not lddw"});
}

TEST(ElfMalformed, LddwRelocationOnTheLastSlot) {
  // The relocation points at an lddw opcode in the last slot: its second
  // half would be past the section.
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const auto xdp = e.section("xdp");
  const std::size_t last = xdp.sh_size / 8 - 1;
  b[e.insn_offset("xdp", last)] = 0x18;
  auto r = e.rel(".relxdp", 0);
  r.r_offset = last * 8;
  e.set_rel(".relxdp", 0, r);
  expect_rejected(b, {"R_BPF_64_64", "not lddw"});
}

TEST(ElfMalformed, CallRelocationOnAnotherInstruction) {
  auto b = corpus_object("global_data");
  ElfEditor e(b);
  auto r = e.rel(".relsocket", 0);
  r.r_offset = 0;  // `r1 = 0`
  e.set_rel(".relsocket", 0, r);
  expect_rejected(b, {"'.relsocket'", "R_BPF_64_32", "not a bpf-to-bpf call"});
}

TEST(ElfMalformed, CallRelocationToAHelperCall) {
  // A helper call (src 0) is not a bpf-to-bpf call even with the right opcode.
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto r = e.rel(".relxdp", 0);
  r.r_offset = 12 * 8;  // `call 1`
  r.r_info = ELF64_R_INFO(ELF64_R_SYM(r.r_info), 10);
  e.set_rel(".relxdp", 0, r);
  expect_rejected(b, {"R_BPF_64_32", "not a bpf-to-bpf call"});
}

TEST(ElfMalformed, CallTargetOutsideTheCallee) {
  auto b = corpus_object("global_data");
  ElfEditor e(b);
  const std::size_t call = e.insn_offset("socket", 1);
  e.put<int32_t>(call + 4, 5000);  // imm of `call -1` (relocated against .text)
  expect_rejected(b, {"'.relsocket'", "relocation 0 at offset 0x8", "not an instruction of section '.text'"});
}

TEST(ElfMalformed, UnknownRelocationTypeInCode) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto r = e.rel(".relxdp", 0);
  r.r_info = ELF64_R_INFO(ELF64_R_SYM(r.r_info), 7);
  e.set_rel(".relxdp", 0, r);
  expect_rejected(b, {"relocation type 7 is not valid in code"});
}

TEST(ElfMalformed, RelocationSectionForAMissingSection) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t rel = e.section_index(".relxdp");
  auto s = e.section_header(rel);
  s.sh_info = 999;
  e.set_section_header(rel, s);
  expect_rejected(b, {"'.relxdp'", "applies to section 999, which does not exist"});
}

TEST(ElfMalformed, RelocationTableTruncated) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t rel = e.section_index(".relxdp");
  auto s = e.section_header(rel);
  s.sh_size -= 1;
  e.set_section_header(rel, s);
  expect_rejected(b, {"'.relxdp'", "whole number of 16-byte relocations"});
}

TEST(ElfMalformed, SameInstructionRelocatedTwice) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  e.set_rel(".relxdp", 1, e.rel(".relxdp", 0));
  expect_rejected(b, {"relocation 1", "relocated twice"});
}

TEST(ElfMalformed, DataRelocationPastTheSection) {
  auto b = corpus_object("global_data");
  ElfEditor e(b);
  // Slot 2 of `socket` is `r6 = total ll`; the addend lives in its imm.
  e.put<int32_t>(e.insn_offset("socket", 2) + 4, 4096);
  expect_rejected(b, {"'total' + 4096 is outside", "'.data' (12 bytes)"});
}

TEST(ElfMalformed, MapRelocationNotAtADefinition) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  e.put<int32_t>(e.insn_offset("xdp", 10) + 4, 8);  // counts + 8
  expect_rejected(b, {"'counts' + 8 is not the start of a map definition"});
}

TEST(ElfMalformed, RelocationAgainstANonDataSection) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  auto r = e.rel(".relxdp", 0);
  r.r_info = ELF64_R_INFO(e.symbol_index("LICENSE"), ELF64_R_TYPE(r.r_info));
  e.set_rel(".relxdp", 0, r);
  expect_rejected(b, {"'LICENSE' is in section", "'license'", "holds no map, global data or code"});
}

TEST(ElfMalformed, LddwAlreadyCarryingAPseudoSource) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  b[e.insn_offset("xdp", 10) + 1] = 0x11;  // dst r1, src 1
  expect_rejected(b, {"already has src 1"});
}

TEST(ElfMalformed, ExternSymbolsCannotBeResolved) {
  expect_rejected(test_object("extern_var"), {"'LINUX_KERNEL_VERSION' is an extern"});
}

TEST(ElfMalformed, UnsupportedMapType) {
  expect_rejected(test_object("unsupported_map"), {"map 'per_cpu'", "map type 6 is not supported"});
}

TEST(ElfMalformed, MapsWithoutBtf) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t btf = e.section_index(".BTF");
  auto s = e.section_header(btf);
  // Renaming .BTF to .BTG (same length) hides it.
  b[e.section(".strtab").sh_offset + s.sh_name + 3] = 'G';
  expect_rejected(b, {"'.maps'", "there is no .BTF"});
}

TEST(ElfMalformed, BtfBadMagic) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  e.put<uint16_t>(e.section(".BTF").sh_offset, 0x9feb);
  expect_rejected(b, {"BTF: bad magic"});
}

TEST(ElfMalformed, BtfTypeSectionPastTheEnd) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  e.put<uint32_t>(e.section(".BTF").sh_offset + 12, 0x100000);  // type_len
  expect_rejected(b, {"BTF: type section", "runs past the end of .BTF"});
}

TEST(ElfMalformed, BtfStringOffsetOutOfRange) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const auto at = e.section(".BTF").sh_offset;
  const uint32_t hdr_len = e.get<uint32_t>(at + 4);
  const uint32_t type_off = e.get<uint32_t>(at + 8);
  // The first type's name offset.
  e.put<uint32_t>(at + hdr_len + type_off, 0x7ffffff);
  expect_rejected(b, {"BTF: type 1: name offset"});
}

TEST(ElfMalformed, BtfTypeReferringToAMissingType) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const auto at = e.section(".BTF").sh_offset;
  const uint32_t hdr_len = e.get<uint32_t>(at + 4);
  const uint32_t type_off = e.get<uint32_t>(at + 8);
  // In counter.o type 1 is `int (*)[1]`... whatever its kind, make it a
  // pointer to type 100000.
  const std::size_t t1 = at + hdr_len + type_off;
  e.put<uint32_t>(t1 + 4, uint32_t{2} << 24);  // kind PTR, vlen 0
  e.put<uint32_t>(t1 + 8, 100000);
  expect_rejected(b, {"BTF: type 1: it refers to type 100000"});
}

TEST(ElfMalformed, BtfTruncatedTypes) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const auto at = e.section(".BTF").sh_offset;
  e.put<uint32_t>(at + 12, 20);  // type_len: the second type is cut short
  expect_rejected(b, {"BTF: type"});
}

TEST(ElfMalformed, LegacyMapsSectionOfTheWrongSize) {
  auto b = test_object("legacy_maps");
  ElfEditor e(b);
  const uint32_t maps = e.section_index("maps");
  auto s = e.section_header(maps);
  s.sh_size -= 1;
  e.set_section_header(maps, s);
  expect_rejected(b, {"'maps'", "do not divide into 2 map definitions"});
}

TEST(ElfMalformed, ProgramArrayValueOutsideItsMap) {
  auto b = test_object("tail_calls");
  ElfEditor e(b);
  auto r = e.rel(".rel.maps", 0);
  r.r_offset = 0;  // the `type` member, not `values`
  e.set_rel(".rel.maps", 0, r);
  expect_rejected(b, {"'.rel.maps'", "not an element of the 'values'"});
}

TEST(ElfMalformed, FunctionSymbolPastItsSection) {
  auto b = corpus_object("counter");
  ElfEditor e(b);
  const uint32_t i = e.symbol_index("count_first_byte");
  auto sym = e.symbol(i);
  sym.st_size += 8;
  e.set_symbol(i, sym);
  expect_rejected(b, {"symbol " + std::to_string(i) + " 'count_first_byte'", "does not fit"});
}

// Every prefix of an object is a truncated object: each must be rejected
// cleanly (the ASan build checks there is no read past the buffer).
TEST(ElfMalformed, EveryTruncationIsRejected) {
  const auto full = corpus_object("global_data");
  for (std::size_t n = 0; n < full.size(); n += (n < 512 ? 1 : 13)) {
    const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(load_elf(cut)) << "a " << n << "-byte prefix loaded";
  }
}

// Random byte corruption of real objects (a fixed seed, so the test is
// reproducible): loading may succeed or fail, but must never crash.
TEST(ElfMalformed, RandomCorruptionNeverCrashes) {
  std::mt19937 rng(20260);
  int rejected = 0;
  int total = 0;
  for (const char* name : {"counter", "global_data", "foobar_filter"}) {
    const auto original = corpus_object(name);
    for (int round = 0; round < 300; ++round) {
      auto b = original;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f)
        b[rng() % b.size()] = static_cast<uint8_t>(rng());
      auto object = load_elf(b);
      if (!object) {
        EXPECT_FALSE(object.error().message.empty());
        ++rejected;
      }
      ++total;
    }
  }
  // Corruption lands in debug info most of the time; some must still hit
  // something the loader checks.
  EXPECT_GT(rejected, 0);
  EXPECT_LT(rejected, total);
}

}  // namespace
}  // namespace bpfdiff::elf
