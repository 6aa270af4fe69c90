#include "vm/elf/elf_loader.hpp"

#include <elf.h>

#include <algorithm>
#include <map>
#include <set>

#include "vm/elf/elf_image.hpp"
#include "vm/elf/object_maps.hpp"
#include "vm/isa/raw.hpp"

namespace bpfdiff::elf {
namespace {

constexpr uint8_t kOpLddw = 0x18;
constexpr uint8_t kOpCall = 0x85;
// lddw src values (pseudo forms) and the call src of a bpf-to-bpf call.
constexpr uint8_t kSrcMapHandle = 1;
constexpr uint8_t kSrcMapValue = 2;
constexpr uint8_t kSrcCode = 4;
constexpr uint8_t kSrcLocalCall = 1;
constexpr uint64_t kSlot = isa::kSlotBytes;

std::string hex(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

class Loader {
 public:
  explicit Loader(const ElfImage& image) : image_(image) {}

  Result<ElfObject> run() {
    auto maps = collect_maps(image_);
    if (!maps) return maps.error();
    maps_ = std::move(maps).value();
    if (auto r = lay_out_code(); !r.ok()) return r.error();
    if (auto r = find_functions(); !r.ok()) return r.error();
    if (auto r = relocate_code(); !r.ok()) return r.error();
    if (auto r = fill_program_arrays(); !r.ok()) return r.error();
    read_license();

    obj_.program.maps = maps_.defs;
    for (const ElfFunction& f : obj_.programs)
      obj_.program.entries.push_back(vm::ProgramEntry{f.name, f.slot});
    if (!obj_.programs.empty()) {
      obj_.program.entry = obj_.programs.front().slot;
      obj_.program.name = obj_.programs.front().name;
    }
    return std::move(obj_);
  }

 private:
  // Every non-empty executable section, in section order, one after the
  // other: jumps and calls inside a section stay valid as they are.
  Result<void> lay_out_code() {
    uint64_t total = 0;
    for (const Section& s : image_.sections()) {
      if (s.index == 0 || !s.executable() || s.size == 0) continue;
      if (s.size % kSlot != 0) {
        return make_error(s.describe() + ": code size " + std::to_string(s.size) +
                          " is not a multiple of the 8-byte instruction size");
      }
      if (total + s.size / kSlot > vm::kMaxProgramSlots) {
        return make_error(s.describe() + ": the object has more than " +
                          std::to_string(vm::kMaxProgramSlots) + " instructions");
      }
      const auto base = static_cast<uint32_t>(total);
      const auto count = static_cast<uint32_t>(s.size / kSlot);
      obj_.code_sections.push_back(CodeSection{s.name, s.index, base, count});
      base_[s.index] = base;
      auto slots = isa::decode_slots(s.bytes);
      obj_.program.slots.insert(obj_.program.slots.end(), slots.begin(), slots.end());
      total += count;
    }
    if (total == 0) return make_error("ELF: the object has no code (no non-empty executable section)");
    return {};
  }

  const CodeSection* code_section(uint32_t index) const {
    for (const CodeSection& c : obj_.code_sections) {
      if (c.index == index) return &c;
    }
    return nullptr;
  }

  // A function symbol's extent in its section, in slots.
  Result<ElfFunction> function_at(const Symbol& sym, const CodeSection& code) const {
    const uint64_t bytes = uint64_t{code.slot_count} * kSlot;
    if (sym.value % kSlot != 0 || sym.value >= bytes) {
      return make_error(sym.describe() + ": function offset " + hex(sym.value) +
                        " is not an instruction of " + image_.section(code.index)->describe());
    }
    if (sym.size % kSlot != 0 || sym.size > bytes - sym.value) {
      return make_error(sym.describe() + ": function size " + std::to_string(sym.size) + " at offset " +
                        hex(sym.value) + " does not fit " + image_.section(code.index)->describe());
    }
    return ElfFunction{sym.name, code.name, code.slot + static_cast<uint32_t>(sym.value / kSlot),
                       static_cast<uint32_t>(sym.size / kSlot)};
  }

  Result<void> find_functions() {
    for (const CodeSection& code : obj_.code_sections) {
      std::vector<ElfFunction> found;
      const bool text = code.name == ".text";
      for (const Symbol& sym : image_.symbols()) {
        // Assembler-written objects may mark an entry point only as a global
        // label (`.globl main` without `.type`): in .text, that names a
        // function too.
        const bool label = text && sym.type == STT_NOTYPE && sym.bind == STB_GLOBAL;
        if (sym.shndx != code.index || (sym.type != STT_FUNC && !label)) continue;
        auto f = function_at(sym, code);
        if (!f) return f.error();
        found.push_back(std::move(f).value());
      }
      std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.slot < b.slot; });
      if (text) {
        obj_.subprograms = std::move(found);
      } else if (found.empty()) {
        // Hand-written objects may have no function symbols: the section is
        // the program.
        obj_.programs.push_back(ElfFunction{code.name, code.name, code.slot, code.slot_count});
      } else {
        for (ElfFunction& f : found)
          obj_.programs.push_back(std::move(f));
      }
    }
    return {};
  }

  Result<void> relocate_code() {
    for (const Section& rel : image_.sections()) {
      if (rel.index == 0 || (rel.type != SHT_REL && rel.type != SHT_RELA)) continue;
      const Section* target = image_.section(rel.info);
      if (target == nullptr) {
        return make_error(rel.describe() + ": applies to section " + std::to_string(rel.info) +
                          ", which does not exist");
      }
      // Relocations of debug info, BTF and .BTF.ext matter to debuggers and
      // to libbpf's CO-RE, not to running the code.
      if (!target->executable()) continue;
      if (rel.type == SHT_RELA)
        return make_error(rel.describe() + ": RELA relocations are not used for BPF code");
      const CodeSection* code = code_section(target->index);
      auto relocs = image_.relocations(rel);
      if (!relocs) return relocs.error();
      if (code == nullptr && !relocs->empty()) {
        return make_error(rel.describe() + ": relocates the empty " + target->describe());
      }
      for (std::size_t i = 0; i < relocs->size(); ++i) {
        const std::string where =
            rel.describe() + ": relocation " + std::to_string(i) + " at offset " + hex((*relocs)[i].offset);
        if (auto r = apply(*code, (*relocs)[i], where); !r.ok()) return r;
      }
    }
    return {};
  }

  Result<void> apply(const CodeSection& code, const Relocation& r, const std::string& where) {
    const uint64_t bytes = uint64_t{code.slot_count} * kSlot;
    if (r.type == kRelBpfNone) return {};
    if (r.offset % kSlot != 0 || r.offset >= bytes) {
      return make_error(where + ": offset is not an instruction of section '" + code.name + "'");
    }
    const uint32_t slot = code.slot + static_cast<uint32_t>(r.offset / kSlot);
    if (!relocated_.insert(slot).second) return make_error(where + ": the instruction is relocated twice");
    const Symbol& sym = *image_.symbol(r.symbol);
    switch (r.type) {
      case kRelBpf64_64:
        if (r.offset + 2 * kSlot > bytes || obj_.program.slots[slot].opcode != kOpLddw) {
          return make_error(where + ": R_BPF_64_64 (" + sym.describe() +
                            ") on an instruction that is not lddw");
        }
        return relocate_lddw(slot, sym, where);
      case kRelBpf64_32:
        if (obj_.program.slots[slot].opcode != kOpCall || obj_.program.slots[slot].src != kSrcLocalCall) {
          return make_error(where + ": R_BPF_64_32 (" + sym.describe() +
                            ") on an instruction that is not a bpf-to-bpf call");
        }
        return relocate_call(slot, sym, where);
      default:
        return make_error(where + ": relocation type " + std::to_string(r.type) +
                          " is not valid in code (R_BPF_64_64 and R_BPF_64_32 are)");
    }
  }

  // Where a symbol plus an addend in bytes points in the slot array.
  Result<uint32_t> code_target(const Symbol& sym, int64_t addend_bytes, const std::string& where) const {
    const CodeSection* code = code_section(sym.shndx);
    if (code == nullptr) return make_error(where + ": " + sym.describe() + " is not in a code section");
    const int64_t bytes = int64_t{code->slot_count} * static_cast<int64_t>(kSlot);
    // The symbol is checked first so the sum below cannot overflow.
    const int64_t off =
        sym.value <= static_cast<uint64_t>(bytes) ? static_cast<int64_t>(sym.value) + addend_bytes : -1;
    if (off < 0 || off >= bytes || off % kSlot != 0) {
      return make_error(where + ": target " + sym.describe() + " + " + std::to_string(addend_bytes) +
                        " is not an instruction of section '" + code->name + "'");
    }
    return code->slot + static_cast<uint32_t>(off / static_cast<int64_t>(kSlot));
  }

  Result<void> relocate_lddw(uint32_t slot, const Symbol& sym, const std::string& where) {
    isa::RawInsn& insn = obj_.program.slots[slot];
    isa::RawInsn& next = obj_.program.slots[slot + 1];
    if (insn.src != 0) {
      return make_error(where + ": the lddw already has src " + std::to_string(insn.src) +
                        ", a relocation needs a plain lddw");
    }
    if (sym.shndx == SHN_UNDEF) {
      return make_error(
          where + ": " + sym.describe() +
          " is an extern (kconfig or kernel symbol), which cannot be resolved outside a kernel");
    }
    if (sym.shndx >= SHN_LORESERVE) {
      return make_error(where + ": " + sym.describe() + " has the special section index " + hex(sym.shndx));
    }
    const Section* sec = image_.section(sym.shndx);
    if (sec == nullptr) {
      return make_error(where + ": " + sym.describe() + " is in section " + std::to_string(sym.shndx) +
                        ", which does not exist");
    }
    // The addend sits in the first imm (as clang writes it), in bytes.
    const int64_t addend = insn.imm;
    AppliedRelocation applied{slot, RelocationKind::MapHandle, sym.name, 0, 0, 0};
    if (sec->executable()) {
      auto target = code_target(sym, addend, where);
      if (!target) return target.error();
      insn.src = kSrcCode;
      insn.imm = static_cast<int32_t>(static_cast<int64_t>(*target) - slot - 1);
      next.imm = 0;
      applied.kind = RelocationKind::CodeAddress;
      applied.target = *target;
    } else if (auto data = maps_.data_map(sec->index)) {
      // The symbol is checked first so the sum below cannot overflow.
      const int64_t off = sym.value <= sec->size ? static_cast<int64_t>(sym.value) + addend : -1;
      if (off < 0 || off >= static_cast<int64_t>(sec->size)) {
        return make_error(where + ": " + sym.describe() + " + " + std::to_string(addend) + " is outside " +
                          sec->describe() + " (" + std::to_string(sec->size) + " bytes)");
      }
      insn.src = kSrcMapValue;
      insn.imm = static_cast<int32_t>(*data);
      next.imm = static_cast<int32_t>(off);
      applied.kind = RelocationKind::MapValue;
      applied.map = *data;
      applied.value_offset = static_cast<uint32_t>(off);
    } else if (sec->name == ".maps" || sec->name == "maps") {
      const uint64_t at = sym.value + static_cast<uint64_t>(addend);
      auto map = addend < 0 ? std::nullopt : maps_.definition_at(sec->index, at);
      if (!map) {
        return make_error(where + ": " + sym.describe() + " + " + std::to_string(addend) +
                          " is not the start of a map definition in " + sec->describe());
      }
      insn.src = kSrcMapHandle;
      insn.imm = static_cast<int32_t>(*map);
      next.imm = 0;
      applied.map = *map;
    } else {
      return make_error(where + ": " + sym.describe() + " is in " + sec->describe() +
                        ", which holds no map, global data or code");
    }
    obj_.relocations.push_back(std::move(applied));
    return {};
  }

  // libbpf's rule: the callee is instruction (symbol offset / 8 + imm + 1) of
  // its section: a section symbol carries the whole offset in imm, a function
  // symbol has imm = -1.
  Result<void> relocate_call(uint32_t slot, const Symbol& sym, const std::string& where) {
    isa::RawInsn& insn = obj_.program.slots[slot];
    if (sym.shndx == SHN_UNDEF || sym.shndx >= SHN_LORESERVE) {
      return make_error(where + ": call to " + sym.describe() + ", which is not defined in this object");
    }
    auto target = code_target(sym, (int64_t{insn.imm} + 1) * static_cast<int64_t>(kSlot), where);
    if (!target) return target.error();
    insn.imm = static_cast<int32_t>(static_cast<int64_t>(*target) - slot - 1);
    obj_.relocations.push_back(AppliedRelocation{slot, RelocationKind::Call, sym.name, 0, 0, *target});
    return {};
  }

  // `.values = { [k] = &prog }` in a BTF program array: 64-bit absolute
  // relocations in .rel.maps put program k's address at values + 8 * k.
  Result<void> fill_program_arrays() {
    const Section* maps_section = image_.find_section(".maps");
    if (maps_section == nullptr) return {};
    for (const Section& rel : image_.sections()) {
      if (rel.index == 0 || rel.type != SHT_REL || rel.info != maps_section->index) continue;
      auto relocs = image_.relocations(rel);
      if (!relocs) return relocs.error();
      for (std::size_t i = 0; i < relocs->size(); ++i) {
        const Relocation& r = (*relocs)[i];
        const std::string where =
            rel.describe() + ": relocation " + std::to_string(i) + " at offset " + hex(r.offset);
        if (r.type != kRelBpf64Abs64) {
          return make_error(where + ": type " + std::to_string(r.type) + " is not R_BPF_64_ABS64");
        }
        auto map = maps_.definition_containing(maps_section->index, r.offset);
        if (!map || !maps_.sources[*map].values_offset) {
          return make_error(where + ": not inside the 'values' of a program array");
        }
        const MapSource& src = maps_.sources[*map];
        const uint64_t into = r.offset - src.offset;
        if (into < *src.values_offset || (into - *src.values_offset) % 8 != 0) {
          return make_error(where + ": not an element of the 'values' of map '" + maps_.defs[*map].name +
                            "'");
        }
        const uint64_t key = (into - *src.values_offset) / 8;
        vm::MapDef& def = maps_.defs[*map];
        if (key >= def.max_entries) {
          return make_error(where + ": key " + std::to_string(key) + " is past max_entries of map '" +
                            def.name + "'");
        }
        const Symbol& sym = *image_.symbol(r.symbol);
        auto target = code_target(sym, 0, where);
        if (!target) return target.error();
        def.prog_entries.emplace_back(static_cast<uint32_t>(key), *target);
      }
    }
    return {};
  }

  void read_license() {
    const Section* s = image_.find_section("license");
    if (s == nullptr || s->nobits()) return;
    const auto end = std::find(s->bytes.begin(), s->bytes.end(), uint8_t{0});
    obj_.license.assign(s->bytes.begin(), end);
  }

  const ElfImage& image_;
  ObjectMaps maps_;
  ElfObject obj_;
  std::map<uint32_t, uint32_t> base_;  // code section index -> first slot
  std::set<uint32_t> relocated_;
};

const CodeSection* section_of(const ElfObject& object, uint32_t slot) {
  for (const CodeSection& c : object.code_sections) {
    if (slot >= c.slot && slot - c.slot < c.slot_count) return &c;
  }
  return nullptr;
}

// The object's Program for one entry. Code sections the entry cannot reach
// (other programs' sections, except those in program arrays and those their
// calls lead to) are blanked to `exit`, so the validator only judges code
// the chosen program can run: an object whose kprobe calls a helper we lack
// still runs its XDP program. Slot numbers stay those of the whole object,
// so errors and traces match `bpfdiff disasm`.
vm::Program starting_at(const ElfObject& object, const ElfFunction& f) {
  std::set<const CodeSection*> reachable;
  auto include = [&](uint32_t slot) {
    const CodeSection* c = section_of(object, slot);
    return c != nullptr && reachable.insert(c).second;
  };
  include(f.slot);
  for (const CodeSection& c : object.code_sections) {
    if (c.name == ".text") reachable.insert(&c);
  }
  for (const vm::MapDef& m : object.program.maps) {
    for (const auto& [key, slot] : m.prog_entries)
      include(slot);
  }
  for (bool grew = true; grew;) {
    grew = false;
    for (const AppliedRelocation& r : object.relocations) {
      const bool to_code = r.kind == RelocationKind::Call || r.kind == RelocationKind::CodeAddress;
      if (to_code && reachable.count(section_of(object, r.slot)) != 0) grew = include(r.target) || grew;
    }
  }

  vm::Program p = object.program;
  p.entry = f.slot;
  p.name = f.name;
  const isa::RawInsn exit{0x95, 0, 0, 0, 0};
  for (const CodeSection& c : object.code_sections) {
    if (reachable.count(&c) != 0) continue;
    std::fill_n(p.slots.begin() + c.slot, c.slot_count, exit);
  }
  std::erase_if(p.entries,
                [&](const vm::ProgramEntry& e) { return reachable.count(section_of(object, e.slot)) == 0; });
  return p;
}

std::string program_list(const ElfObject& object) {
  std::string s;
  for (const ElfFunction& f : object.programs) {
    if (!s.empty()) s += ", ";
    s += f.name + " (section " + f.section + ")";
  }
  return s.empty() ? "none" : s;
}

}  // namespace

Result<ElfObject> load_elf(std::span<const uint8_t> bytes) {
  auto image = ElfImage::parse(bytes);
  if (!image) return image.error();
  return Loader(*image).run();
}

Result<vm::Program> program_in_section(const ElfObject& object, std::string_view section) {
  const ElfFunction* found = nullptr;
  for (const ElfFunction& f : object.programs) {
    if (f.section != section) continue;
    if (found != nullptr) {
      return make_error("section '" + std::string(section) + "' holds several programs (" + found->name +
                        ", " + f.name + "); choose one by name");
    }
    found = &f;
  }
  if (found == nullptr) {
    return make_error("no program in section '" + std::string(section) +
                      "'; programs: " + program_list(object));
  }
  return starting_at(object, *found);
}

Result<vm::Program> program_named(const ElfObject& object, std::string_view name) {
  for (const ElfFunction& f : object.programs) {
    if (f.name == name) return starting_at(object, f);
  }
  for (const ElfFunction& f : object.subprograms) {
    if (f.name == name) return starting_at(object, f);
  }
  return make_error("no program or .text function named '" + std::string(name) +
                    "'; programs: " + program_list(object));
}

std::string describe_slot(const ElfObject& object, uint32_t slot) {
  for (const CodeSection& c : object.code_sections) {
    if (slot >= c.slot && slot - c.slot < c.slot_count) return c.name + "+" + std::to_string(slot - c.slot);
  }
  return "slot " + std::to_string(slot);
}

}  // namespace bpfdiff::elf
