#include "fuzz/elf_object_gen.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

#include "fuzz/elf_writer.hpp"
#include "fuzz/program_edit.hpp"
#include "vm/elf/elf_image.hpp"

namespace bpfdiff::fuzz {
namespace {

constexpr uint8_t kOpLddw = 0x18;
constexpr uint8_t kOpCall = 0x85;
// lddw src: map handle by fd or index, map value by fd or index, variable, code.
constexpr uint8_t kSrcMapFd = 1, kSrcMapValueFd = 2, kSrcVariable = 3, kSrcCode = 4, kSrcMapIdx = 5,
                  kSrcMapValueIdx = 6;
constexpr uint8_t kSrcLocalCall = 1;

constexpr std::array<const char*, 5> kProgramSections = {"xdp", "tc", "socket", "kprobe/sys_nanosleep",
                                                         "classifier"};

bool is_map_handle(const isa::RawInsn& i) {
  return i.opcode == kOpLddw && (i.src == kSrcMapFd || i.src == kSrcMapIdx);
}
bool is_map_value(const isa::RawInsn& i) {
  return i.opcode == kOpLddw && (i.src == kSrcMapValueFd || i.src == kSrcMapValueIdx);
}

// One program cut into functions: [starts[f], starts[f+1]).
struct Functions {
  std::vector<uint32_t> starts;
  uint32_t of(uint32_t slot) const {
    return static_cast<uint32_t>(std::upper_bound(starts.begin(), starts.end(), slot) - starts.begin() - 1);
  }
};

// A call into the program or a code address: the start of a function.
bool refers_to_a_function(const isa::RawInsn& i) {
  return (i.opcode == kOpLddw && i.src == kSrcCode) || (i.opcode == kOpCall && i.src == kSrcLocalCall);
}

// The slot a pc-relative instruction reaches (program_edit's target_field
// says which field holds it), or nothing.
std::optional<int64_t> target_of(const isa::RawInsn& i, std::size_t slot) {
  switch (target_field(i)) {
    case TargetField::None:
      return std::nullopt;
    case TargetField::Off:
      return static_cast<int64_t>(slot) + 1 + i.off;
    case TargetField::Imm:
      return static_cast<int64_t>(slot) + 1 + i.imm;
  }
  return std::nullopt;
}

Result<Functions> cut_into_functions(const vm::Program& p, const std::string& who) {
  const auto n = static_cast<int64_t>(p.slots.size());
  const std::vector<std::size_t> insns = instruction_starts(p.slots);
  // Slots are copied by instruction: an lddw needs its second half, and a
  // target inside one would be cut from it.
  if (p.slots[insns.back()].opcode == kOpLddw && insns.back() + 1 == p.slots.size())
    return make_error(who + ", slot " + std::to_string(insns.back()) + ": an lddw without its second slot");
  std::vector<bool> starts_an_instruction(p.slots.size(), false);
  for (const std::size_t s : insns)
    starts_an_instruction[s] = true;
  const auto inside_an_lddw = [&](int64_t t) {
    return t >= 0 && t < n && !starts_an_instruction[static_cast<std::size_t>(t)];
  };
  std::set<uint32_t> starts{0};
  for (const std::size_t s : insns) {
    if (!refers_to_a_function(p.slots[s])) continue;
    const int64_t t = *target_of(p.slots[s], s);
    if (t < 0 || t >= n)
      return make_error(who + ", slot " + std::to_string(s) + ": code target " + std::to_string(t) +
                        " outside the program");
    if (inside_an_lddw(t))
      return make_error(who + ", slot " + std::to_string(s) + ": code target " + std::to_string(t) +
                        " is the second slot of an lddw");
    starts.insert(static_cast<uint32_t>(t));
  }
  Functions f{{starts.begin(), starts.end()}};
  for (const std::size_t s : insns) {
    if (refers_to_a_function(p.slots[s])) continue;
    const auto t = target_of(p.slots[s], s);  // a jump
    if (t && inside_an_lddw(*t))
      return make_error(who + ", slot " + std::to_string(s) + ": a jump into the second slot of an lddw");
    if (t && (*t < 0 || *t >= n || f.of(static_cast<uint32_t>(*t)) != f.of(static_cast<uint32_t>(s)))) {
      return make_error(who + ", slot " + std::to_string(s) +
                        ": a jump leaves its function (an object's sections move apart)");
    }
  }
  return f;
}

// Where each function of each program goes: its section and first slot
// there, and its slot in the loaded object's slot array.
struct Placement {
  uint32_t section = 0;
  uint32_t slot = 0;    // in the section
  uint32_t loaded = 0;  // in the object
};

class ObjectBuilder {
 public:
  ObjectBuilder(std::span<const vm::Program> programs, ByteSource& choices)
      : programs_(programs), choices_(choices) {}

  Result<GeneratedElfObject> build() {
    for (std::size_t k = 0; k < programs_.size(); ++k) {
      const std::string who = "program " + std::to_string(k);
      const vm::Program& p = programs_[k];
      if (!p.entries.empty() || p.entry != 0)
        return make_error(who + ": more than one entry, or not at slot 0");
      if (p.slots.empty()) return make_error(who + ": no instructions");
      auto f = cut_into_functions(p, who);
      if (!f) return f.error();
      functions_.push_back(std::move(f).value());
    }
    if (auto r = place_maps(); !r.ok()) return r.error();
    place_code();
    if (auto r = fill_program_arrays(); !r.ok()) return r.error();
    if (auto r = translate(); !r.ok()) return r.error();
    GeneratedElfObject out;
    out.bytes = write_elf_object(spec_);
    out.expected = std::move(expected_);
    out.entry_names = std::move(entry_names_);
    return out;
  }

 private:
  // Map definitions (legacy or BTF) first, then global data, as the loader
  // numbers them.
  Result<void> place_maps() {
    spec_.btf_maps = choices_.chance(0.5);
    spec_.map_def_bytes = 20 + 4 * choices_.below(3);
    map_index_.resize(programs_.size());
    std::vector<std::vector<bool>> as_data(programs_.size());
    for (std::size_t k = 0; k < programs_.size(); ++k) {
      const vm::Program& p = programs_[k];
      std::vector<bool> handle(p.maps.size()), value(p.maps.size());
      for (const std::size_t s : instruction_starts(p.slots)) {
        const isa::RawInsn& i = p.slots[s];
        if ((is_map_handle(i) || is_map_value(i)) && static_cast<uint32_t>(i.imm) >= p.maps.size())
          return make_error("program " + std::to_string(k) + ", slot " + std::to_string(s) + ": map " +
                            std::to_string(i.imm) + " is not declared");
        if (is_map_handle(i)) handle[i.imm] = true;
        if (is_map_value(i)) {
          value[i.imm] = true;
          const int32_t off = p.slots[s + 1].imm;
          if (off < 0 || static_cast<uint32_t>(off) >= p.maps[i.imm].value_size)
            return make_error("program " + std::to_string(k) + ", slot " + std::to_string(s) +
                              ": map value offset " + std::to_string(off) +
                              " is outside the value (a relocation cannot say it)");
        }
        if (i.opcode == kOpLddw && i.src == kSrcVariable)
          return make_error("program " + std::to_string(k) + ", slot " + std::to_string(s) +
                            ": a variable address (lddw src 3) has no ELF form");
      }
      for (std::size_t m = 0; m < p.maps.size(); ++m) {
        const vm::MapDef& d = p.maps[m];
        const bool can_be_data =
            d.type == vm::MapType::Array && d.max_entries == 1 && d.value_size > 0 && !handle[m];
        if (value[m] && !can_be_data)
          return make_error("program " + std::to_string(k) + ": map " + std::to_string(m) + " '" + d.name +
                            "' has its value address taken but cannot be global data");
        as_data[k].push_back(value[m] || (can_be_data && choices_.chance(0.5)));
      }
    }
    for (std::size_t k = 0; k < programs_.size(); ++k) {
      map_index_[k].assign(programs_[k].maps.size(), UINT32_MAX);
      for (std::size_t m = 0; m < programs_[k].maps.size(); ++m) {
        if (as_data[k][m]) continue;
        const vm::MapDef& d = programs_[k].maps[m];
        ElfMapSpec l;
        l.name = "map_" + std::to_string(k) + "_" + std::to_string(m);
        l.type = static_cast<uint32_t>(d.type);
        l.key_size = d.key_size;
        l.value_size = d.value_size;
        l.max_entries = d.max_entries;
        l.flags = d.flags;
        l.key_as_type = spec_.btf_maps && d.key_size > 0 && choices_.chance(0.5);
        l.value_as_type = spec_.btf_maps && d.value_size > 0 && choices_.chance(0.5);
        vm::MapDef e;
        e.name = l.name;
        e.type = d.type;
        e.key_size = d.key_size;
        e.value_size = d.value_size;
        e.max_entries = d.max_entries;
        e.flags = d.flags;
        map_index_[k][m] = static_cast<uint32_t>(spec_.maps.size());
        spec_.maps.push_back(std::move(l));
        expected_.maps.push_back(std::move(e));
      }
    }
    data_index_.resize(programs_.size());
    for (std::size_t k = 0; k < programs_.size(); ++k) {
      data_index_[k].resize(programs_[k].maps.size(), UINT32_MAX);
      for (std::size_t m = 0; m < programs_[k].maps.size(); ++m) {
        if (!as_data[k][m]) continue;
        const vm::MapDef& d = programs_[k].maps[m];
        const std::string suffix = "." + std::to_string(k) + "_" + std::to_string(m);
        ElfDataSpec s;
        vm::MapDef e;
        e.type = vm::MapType::Array;
        e.key_size = 4;
        e.value_size = d.value_size;
        e.max_entries = 1;
        if (d.read_only || !d.initial_values.empty() || choices_.chance(0.5)) {
          s.name = (d.read_only ? ".rodata" : ".data") + suffix;
          s.bytes = d.initial_values;
          s.bytes.resize(d.value_size, 0);
          e.initial_values = s.bytes;
          e.read_only = d.read_only;
        } else {
          s.name = ".bss" + suffix;  // zeros, no bytes in the file
        }
        s.size = d.value_size;
        e.name = s.name;
        map_index_[k][m] = static_cast<uint32_t>(expected_.maps.size());
        data_index_[k][m] = static_cast<uint32_t>(spec_.data.size());
        spec_.data.push_back(std::move(s));
        expected_.maps.push_back(std::move(e));
      }
    }
    return vm::check_maps(expected_.maps);
  }

  // Program sections in program order, then .text with every other function.
  void place_code() {
    const std::size_t count = programs_.size();
    placement_.resize(count);
    uint32_t loaded = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const Functions& f = functions_[k];
      placement_[k].resize(f.starts.size());
      const uint32_t end =
          f.starts.size() > 1 ? f.starts[1] : static_cast<uint32_t>(programs_[k].slots.size());
      ElfCodeSpec c;
      c.name =
          std::string(kProgramSections[choices_.below(kProgramSections.size())]) + "/" + std::to_string(k);
      c.slots.assign(programs_[k].slots.begin(), programs_[k].slots.begin() + end);
      placement_[k][0] = {static_cast<uint32_t>(k), 0, loaded};
      spec_.functions.push_back({"prog_" + std::to_string(k), static_cast<uint32_t>(k), 0, end, true});
      expected_.entries.push_back({"prog_" + std::to_string(k), loaded});
      entry_names_.push_back("prog_" + std::to_string(k));
      loaded += end;
      spec_.code.push_back(std::move(c));
    }
    ElfCodeSpec text;
    text.name = ".text";
    const auto text_section = static_cast<uint32_t>(count);
    for (std::size_t k = 0; k < count; ++k) {
      const Functions& f = functions_[k];
      for (std::size_t fn = 1; fn < f.starts.size(); ++fn) {
        const uint32_t begin = f.starts[fn];
        const uint32_t end =
            fn + 1 < f.starts.size() ? f.starts[fn + 1] : static_cast<uint32_t>(programs_[k].slots.size());
        const auto at = static_cast<uint32_t>(text.slots.size());
        placement_[k][fn] = {text_section, at, loaded + at};
        spec_.functions.push_back({"f_" + std::to_string(k) + "_" + std::to_string(fn), text_section, at,
                                   end - begin, choices_.chance(0.25)});
        text.slots.insert(text.slots.end(), programs_[k].slots.begin() + begin,
                          programs_[k].slots.begin() + end);
      }
    }
    if (!text.slots.empty()) spec_.code.push_back(std::move(text));
    expected_.entry = 0;
    expected_.name = entry_names_.front();
  }

  // A program array's entries, which only BTF maps can carry (`.values`):
  // each names a function of its program by symbol, and the loader must
  // resolve it to where that function landed. Legacy maps load empty.
  Result<void> fill_program_arrays() {
    if (!spec_.btf_maps) return {};
    for (std::size_t k = 0; k < programs_.size(); ++k) {
      const Functions& f = functions_[k];
      for (std::size_t m = 0; m < programs_[k].maps.size(); ++m) {
        const vm::MapDef& d = programs_[k].maps[m];
        if (d.type != vm::MapType::ProgArray || d.prog_entries.empty()) continue;
        const uint32_t i = map_index_[k][m];
        for (const auto& [key, slot] : d.prog_entries) {
          const uint32_t fn = f.of(slot);
          if (slot >= programs_[k].slots.size() || f.starts[fn] != slot || key >= d.max_entries)
            return make_error("program " + std::to_string(k) + ": map " + std::to_string(m) + " holds slot " +
                              std::to_string(slot) + " at key " + std::to_string(key) +
                              ", which is not a function start a `.values` entry can name");
          spec_.maps[i].program_values.emplace_back(key, function_symbol(k, fn));
          expected_.maps[i].prog_entries.emplace_back(key, where(k, slot).loaded);
        }
      }
    }
    return {};
  }

  // Where slot s of program k lands: (section, slot in section, loaded slot).
  Placement where(std::size_t k, uint32_t s) const {
    const Functions& f = functions_[k];
    const uint32_t fn = f.of(s);
    Placement p = placement_[k][fn];
    p.slot += s - f.starts[fn];
    p.loaded += s - f.starts[fn];
    return p;
  }

  // The index in spec_.functions: the programs' entry functions first (one
  // each, in program order), then the .text functions in program order.
  uint32_t function_symbol(std::size_t k, uint32_t fn) const {
    if (fn == 0) return static_cast<uint32_t>(k);
    auto index = static_cast<uint32_t>(programs_.size());
    for (std::size_t j = 0; j < k; ++j)
      index += static_cast<uint32_t>(functions_[j].starts.size() - 1);
    return index + fn - 1;
  }

  // A code reference by function symbol (the addend the offset into the
  // function) or by section symbol (the addend the offset into the section).
  // A code address (`address`) names a function symbol only when it is
  // global: clang takes a static function's address through the section
  // symbol, and libbpf refuses an lddw relocation against a local one.
  ElfSymbolRef code_symbol(std::size_t k, uint32_t target, int64_t& addend_bytes, bool address) {
    const Functions& f = functions_[k];
    const uint32_t fn = f.of(target);
    const Placement t = where(k, target);
    const bool by_function = f.starts[fn] == target && choices_.chance(0.5);
    if (by_function && (!address || spec_.functions[function_symbol(k, fn)].global)) {
      addend_bytes = 0;
      return {ElfSymbolRef::Kind::Function, function_symbol(k, fn)};
    }
    addend_bytes = int64_t{t.slot} * static_cast<int64_t>(isa::kSlotBytes);
    return {ElfSymbolRef::Kind::CodeSection, t.section};
  }

  Result<void> translate() {
    std::size_t total = 0;
    for (const ElfCodeSpec& c : spec_.code)
      total += c.slots.size();
    expected_.slots.resize(total);
    for (std::size_t k = 0; k < programs_.size(); ++k) {
      const vm::Program& p = programs_[k];
      for (uint32_t s = 0; s < p.slots.size(); ++s) {
        const Placement at = where(k, s);
        isa::RawInsn file = p.slots[s];
        isa::RawInsn loaded = p.slots[s];
        std::vector<isa::RawInsn>& section = spec_.code[at.section].slots;
        const auto relocate = [&](uint32_t type, ElfSymbolRef symbol) {
          spec_.code[at.section].relocations.push_back({at.slot, type, symbol});
        };
        if (is_map_handle(file)) {
          relocate(elf::kRelBpf64_64, {ElfSymbolRef::Kind::Map, spec_index(k, file.imm)});
          loaded.src = kSrcMapFd;
          loaded.imm = static_cast<int32_t>(map_index_[k][file.imm]);
          file.src = 0;
          file.imm = 0;
          section[at.slot + 1].imm = 0;
        } else if (is_map_value(file)) {
          const int32_t off = p.slots[s + 1].imm;
          relocate(elf::kRelBpf64_64, {ElfSymbolRef::Kind::DataSection, data_index_[k][file.imm]});
          loaded.src = kSrcMapValueFd;
          loaded.imm = static_cast<int32_t>(map_index_[k][file.imm]);
          file.src = 0;
          file.imm = off;  // the addend: the offset into the section
          section[at.slot + 1].imm = 0;
        } else if (file.opcode == kOpLddw && file.src == kSrcCode) {
          const uint32_t target = s + 1 + static_cast<uint32_t>(file.imm);
          int64_t addend = 0;
          relocate(elf::kRelBpf64_64, code_symbol(k, target, addend, /*address=*/true));
          loaded.imm = static_cast<int32_t>(static_cast<int64_t>(where(k, target).loaded) - at.loaded - 1);
          file.src = 0;
          file.imm = static_cast<int32_t>(addend);
          section[at.slot + 1].imm = 0;
        } else if (file.opcode == kOpCall && file.src == kSrcLocalCall) {
          const uint32_t target = s + 1 + static_cast<uint32_t>(file.imm);
          const Placement t = where(k, target);
          loaded.imm = static_cast<int32_t>(static_cast<int64_t>(t.loaded) - at.loaded - 1);
          // Within one section a call may stay pc-relative, as assemblers leave it.
          if (t.section != at.section || choices_.chance(0.5)) {
            int64_t addend = 0;
            const ElfSymbolRef symbol = code_symbol(k, target, addend, /*address=*/false);
            relocate(elf::kRelBpf64_32, symbol);
            // libbpf's rule: the callee is (symbol offset + imm + 1) instructions in.
            file.imm = static_cast<int32_t>(addend / static_cast<int64_t>(isa::kSlotBytes) - 1);
          }
        }
        section[at.slot] = file;
        expected_.slots[at.loaded] = loaded;
        if (p.slots[s].opcode == kOpLddw && s + 1 < p.slots.size()) {
          ++s;
          isa::RawInsn next = p.slots[s];
          if (is_map_handle(loaded) || loaded.src == kSrcCode) next.imm = 0;
          expected_.slots[at.loaded + 1] = next;
        }
      }
    }
    return {};
  }

  uint32_t spec_index(std::size_t k, int32_t map) const { return map_index_[k][static_cast<uint32_t>(map)]; }

  std::span<const vm::Program> programs_;
  ByteSource& choices_;
  std::vector<Functions> functions_;
  std::vector<std::vector<Placement>> placement_;  // per program, per function
  std::vector<std::vector<uint32_t>> map_index_;   // per program, per map: index in the object
  std::vector<std::vector<uint32_t>> data_index_;  // per program, per map: data section, if global data
  ElfObjectSpec spec_;
  vm::Program expected_;
  std::vector<std::string> entry_names_;
};

std::string hex_bytes(const isa::RawInsn& i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "op %02x dst %u src %u off %d imm %d", i.opcode, i.dst, i.src, i.off, i.imm);
  return buf;
}

}  // namespace

Result<GeneratedElfObject> elf_object_from_programs(std::span<const vm::Program> programs,
                                                    ByteSource& choices) {
  if (programs.empty()) return make_error("an object needs at least one program");
  return ObjectBuilder(programs, choices).build();
}

std::optional<std::string> loaded_object_difference(const vm::Program& expected, const vm::Program& loaded) {
  if (expected.slots.size() != loaded.slots.size())
    return "slots: " + std::to_string(expected.slots.size()) + " vs " + std::to_string(loaded.slots.size());
  for (std::size_t s = 0; s < expected.slots.size(); ++s) {
    if (!(expected.slots[s] == loaded.slots[s]))
      return "slot " + std::to_string(s) + ": " + hex_bytes(expected.slots[s]) + " vs " +
             hex_bytes(loaded.slots[s]);
  }
  if (expected.maps.size() != loaded.maps.size())
    return "maps: " + std::to_string(expected.maps.size()) + " vs " + std::to_string(loaded.maps.size());
  for (std::size_t m = 0; m < expected.maps.size(); ++m) {
    const vm::MapDef& a = expected.maps[m];
    const vm::MapDef& b = loaded.maps[m];
    const std::string at = "map " + std::to_string(m) + " '" + a.name + "': ";
    if (a.name != b.name) return at + "name vs '" + b.name + "'";
    if (a.type != b.type) return at + "type " + vm::to_string(a.type) + " vs " + vm::to_string(b.type);
    if (a.key_size != b.key_size || a.value_size != b.value_size || a.max_entries != b.max_entries ||
        a.flags != b.flags)
      return at + "sizes " + std::to_string(a.key_size) + "/" + std::to_string(a.value_size) + "/" +
             std::to_string(a.max_entries) + "/" + std::to_string(a.flags) + " vs " +
             std::to_string(b.key_size) + "/" + std::to_string(b.value_size) + "/" +
             std::to_string(b.max_entries) + "/" + std::to_string(b.flags);
    if (a.initial_values != b.initial_values) return at + "initial values differ";
    if (a.initial_entries != b.initial_entries) return at + "starting entries differ";
    if (a.read_only != b.read_only)
      return at + "read-only " + std::to_string(a.read_only) + " vs " + std::to_string(b.read_only);
    if (a.prog_entries != b.prog_entries) return at + "program-array entries differ";
  }
  if (expected.entries.size() != loaded.entries.size())
    return "entries: " + std::to_string(expected.entries.size()) + " vs " +
           std::to_string(loaded.entries.size());
  for (std::size_t e = 0; e < expected.entries.size(); ++e) {
    if (expected.entries[e].name != loaded.entries[e].name ||
        expected.entries[e].slot != loaded.entries[e].slot)
      return "entry " + std::to_string(e) + ": " + expected.entries[e].name + "@" +
             std::to_string(expected.entries[e].slot) + " vs " + loaded.entries[e].name + "@" +
             std::to_string(loaded.entries[e].slot);
  }
  if (expected.entry != loaded.entry)
    return "entry slot " + std::to_string(expected.entry) + " vs " + std::to_string(loaded.entry);
  return std::nullopt;
}

}  // namespace bpfdiff::fuzz
