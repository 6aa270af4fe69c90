#include "oracle/cli/elf_listing.hpp"

#include <cstdio>
#include <map>

#include "oracle/run/hex.hpp"
#include "vm/isa/table.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

constexpr std::size_t kMaxInitialBytesShown = 16;
constexpr std::size_t kCommentColumn = 44;

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string map_line(std::size_t index, const vm::MapDef& m) {
  std::string s = "; map " + std::to_string(index) + " '" + m.name + "': " + vm::to_string(m.type) +
                  ", key " + std::to_string(m.key_size) + " B, value " + std::to_string(m.value_size) +
                  " B, " + plural(m.max_entries, "entry", "entries");
  if (m.read_only) s += ", read-only";
  if (m.flags != 0) s += ", flags " + hex_u64(m.flags);
  if (!m.initial_values.empty()) {
    const std::size_t shown = std::min(m.initial_values.size(), kMaxInitialBytesShown);
    std::string bytes = hex_spaced(std::span(m.initial_values).first(shown));
    bytes.pop_back();  // the separator after the last byte
    s += ", initially " + bytes;
    if (shown < m.initial_values.size()) s += "... (" + std::to_string(m.initial_values.size()) + " B)";
  }
  for (const auto& [key, slot] : m.prog_entries) {
    s += "\n;   key " + std::to_string(key) + " -> slot " + std::to_string(slot);
  }
  return s;
}

class Listing {
 public:
  Listing(const elf::ElfObject& o, const vm::HelperRegistry& h, const ElfListingOptions& opt)
      : o_(o), helpers_(h), options_(opt) {
    for (const elf::ElfFunction& f : o.programs)
      names_[f.slot] = f.name;
    for (const elf::ElfFunction& f : o.subprograms)
      names_[f.slot] = f.name;
    for (const elf::CodeSection& c : o.code_sections)
      sections_[c.slot] = &c;
    for (const elf::AppliedRelocation& r : o.relocations)
      relocations_[r.slot] = &r;
  }

  std::string run() {
    header();
    const auto& slots = o_.program.slots;
    for (std::size_t pc = 0; pc < slots.size(); ++pc) {
      const auto slot = static_cast<uint32_t>(pc);
      if (auto s = sections_.find(slot); s != sections_.end()) {
        const elf::CodeSection& c = *s->second;
        out_ += "\nsection " + c.name + " (slots " + std::to_string(c.slot) + ".." +
                std::to_string(c.slot + c.slot_count - 1) + "):\n";
      }
      if (auto n = names_.find(slot); n != names_.end()) out_ += n->second + ":\n";
      const isa::RawInsn* next = pc + 1 < slots.size() ? &slots[pc + 1] : nullptr;
      const bool wide = slots[pc].opcode == 0x18 && next != nullptr;
      instruction(slot, next);
      if (wide) ++pc;
    }
    return out_;
  }

 private:
  void header() {
    out_ += "; " + plural(o_.programs.size(), "program", "programs") + ", " +
            plural(o_.program.maps.size(), "map", "maps") + ", " +
            plural(o_.program.slots.size(), "slot", "slots") + ", " +
            plural(o_.relocations.size(), "relocation", "relocations") + " resolved";
    if (!o_.license.empty()) out_ += ", license \"" + o_.license + "\"";
    out_ += "\n";
    for (std::size_t i = 0; i < o_.program.maps.size(); ++i)
      out_ += map_line(i, o_.program.maps[i]) + "\n";
    for (const elf::ElfFunction& f : o_.programs) {
      out_ += "; program " + f.name + ": section " + f.section + ", slot " + std::to_string(f.slot) + "\n";
    }
  }

  std::string function_name(uint32_t slot) const {
    auto n = names_.find(slot);
    return n != names_.end() ? n->second : elf::describe_slot(o_, slot);
  }

  std::string comment(uint32_t slot) const {
    const isa::RawInsn& insn = o_.program.slots[slot];
    if (auto r = relocations_.find(slot); r != relocations_.end()) {
      const elf::AppliedRelocation& rel = *r->second;
      switch (rel.kind) {
        case elf::RelocationKind::MapHandle:
          return "map '" + o_.program.maps[rel.map].name + "' (symbol " + rel.symbol + ")";
        case elf::RelocationKind::MapValue:
          return "'" + o_.program.maps[rel.map].name + "' + " + std::to_string(rel.value_offset) +
                 " (symbol " + rel.symbol + ")";
        case elf::RelocationKind::CodeAddress:
          return "address of " + function_name(rel.target);
        case elf::RelocationKind::Call:
          return "call " + function_name(rel.target);
      }
    }
    // Unrelocated calls: a helper by name, a local call by its target.
    if (insn.opcode == 0x85 && insn.src == 0) {
      const vm::HelperSpec* h = helpers_.find(static_cast<uint32_t>(insn.imm));
      return h != nullptr ? h->name : std::string();
    }
    if (insn.opcode == 0x85 && insn.src == 1) {
      const int64_t target = int64_t{slot} + 1 + insn.imm;
      if (target >= 0 && target < static_cast<int64_t>(o_.program.slots.size())) {
        return "call " + function_name(static_cast<uint32_t>(target));
      }
    }
    return {};
  }

  void instruction(uint32_t slot, const isa::RawInsn* next) {
    char pc[16];
    std::snprintf(pc, sizeof pc, "%6u: ", slot);
    std::string line = std::string(pc) + text::disassemble_one(o_.program.slots[slot], next);
    std::string note = comment(slot);
    if (options_.raw_bytes) {
      const auto bytes = isa::encode_slot(o_.program.slots[slot]);
      note = hex_spaced(bytes).substr(0, 23) + (note.empty() ? "" : "  " + note);
    }
    if (!note.empty()) {
      if (line.size() < kCommentColumn) line.resize(kCommentColumn, ' ');
      line += "  ; " + note;
    }
    out_ += line + "\n";
  }

  const elf::ElfObject& o_;
  const vm::HelperRegistry& helpers_;
  const ElfListingOptions& options_;
  std::map<uint32_t, std::string> names_;
  std::map<uint32_t, const elf::CodeSection*> sections_;
  std::map<uint32_t, const elf::AppliedRelocation*> relocations_;
  std::string out_;
};

}  // namespace

std::string elf_listing(const elf::ElfObject& object, const vm::HelperRegistry& helpers,
                        const ElfListingOptions& options) {
  return Listing(object, helpers, options).run();
}

}  // namespace bpfdiff::cli
