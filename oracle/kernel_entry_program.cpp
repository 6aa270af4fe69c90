#include "oracle/kernel_entry_program.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bpfdiff::oracle {
namespace {

constexpr uint8_t kLddw = 0x18;
constexpr uint8_t kCall = 0x85;     // BPF_JMP | BPF_CALL
constexpr uint8_t kJa = 0x05;       // BPF_JMP | BPF_JA
constexpr uint8_t kJmp32Ja = 0x06;  // BPF_JMP32 | BPF_JA: the target is in imm
constexpr uint8_t kPseudoCall = 1;  // call src: a local call
constexpr uint8_t kPseudoFunc = 4;  // lddw src: a code address
constexpr uint8_t kClassMask = 0x07;
constexpr uint8_t kOpMask = 0xf0;
constexpr uint8_t kClassJmp = 0x05;
constexpr uint8_t kClassJmp32 = 0x06;
constexpr uint8_t kOpCall = 0x80;
constexpr uint8_t kOpExit = 0x90;

std::string at(std::size_t pc, const std::string& what) {
  return "pc " + std::to_string(pc) + ": " + what;
}

// A local call's or a code address's target, when `insn` is one.
std::optional<int64_t> code_target(const isa::RawInsn& insn, std::size_t pc) {
  const bool local_call = insn.opcode == kCall && insn.src == kPseudoCall;
  const bool code_address = insn.opcode == kLddw && insn.src == kPseudoFunc;
  if (!local_call && !code_address) return std::nullopt;
  return static_cast<int64_t>(pc) + 1 + insn.imm;
}

// A jump's target, when `insn` is a jump (not a call or an exit).
std::optional<int64_t> jump_target(const isa::RawInsn& insn, std::size_t pc) {
  const uint8_t cls = insn.opcode & kClassMask;
  if (cls != kClassJmp && cls != kClassJmp32) return std::nullopt;
  const uint8_t op = insn.opcode & kOpMask;
  if (op == kOpCall || op == kOpExit) return std::nullopt;
  const int64_t delta = insn.opcode == kJmp32Ja ? insn.imm : insn.off;
  return static_cast<int64_t>(pc) + 1 + delta;
}

std::size_t width(const isa::RawInsn& insn) {
  return insn.opcode == kLddw ? 2 : 1;
}

// One past the last instruction of [f, end) that a path from f reaches.
// Code after it is another function no one refers to any more (a callback
// whose only reference was in a section the ELF loader blanked); a loader
// leaves such a function out, and the kernel would call it unreachable.
uint32_t reached_end(const std::vector<isa::RawInsn>& slots, uint32_t f, uint32_t end) {
  std::vector<bool> seen(end - f, false);
  std::vector<uint32_t> work{f};
  uint32_t last = f;
  while (!work.empty()) {
    const uint32_t pc = work.back();
    work.pop_back();
    if (pc < f || pc >= end || seen[pc - f]) continue;
    seen[pc - f] = true;
    const isa::RawInsn& insn = slots[pc];
    last = std::max(last, pc + static_cast<uint32_t>(width(insn)) - 1);
    if ((insn.opcode & kClassMask) == kClassJmp && (insn.opcode & kOpMask) == kOpExit) continue;
    const bool always = insn.opcode == kJa || insn.opcode == kJmp32Ja;
    if (auto t = jump_target(insn, pc)) work.push_back(static_cast<uint32_t>(*t));
    if (!always) work.push_back(pc + static_cast<uint32_t>(width(insn)));
  }
  return std::min(end, last + 1);
}

}  // namespace

Result<vm::Program> program_from_entry(const vm::Program& program) {
  const std::size_t n = program.slots.size();
  // Another program of the object in a program array: it becomes a block of
  // its own after the entry's (a tail-call target the kernel loads apart).
  const auto is_other_program = [&](uint32_t slot) {
    return slot != program.entry && std::any_of(program.entries.begin(), program.entries.end(),
                                                [&](const vm::ProgramEntry& e) { return e.slot == slot; });
  };
  bool other_programs = false;
  for (const vm::MapDef& m : program.maps) {
    for (const auto& [key, slot] : m.prog_entries)
      other_programs = other_programs || is_other_program(slot);
  }
  if (program.entry == 0 && !other_programs) return program;
  if (program.entry >= n)
    return make_error("the entry point " + std::to_string(program.entry) + " is outside the program");

  // Function starts of the whole object, as the validator draws them.
  std::set<uint32_t> starts{program.entry};
  for (const vm::ProgramEntry& e : program.entries)
    starts.insert(e.slot);
  for (const vm::MapDef& m : program.maps) {
    for (const auto& [key, slot] : m.prog_entries)
      starts.insert(slot);
  }
  for (std::size_t pc = 0; pc < n; pc += width(program.slots[pc])) {
    if (auto t = code_target(program.slots[pc], pc)) {
      if (*t < 0 || *t >= static_cast<int64_t>(n))
        return make_error(
            at(pc, "a call or code address leaves the object (target " + std::to_string(*t) + ")"));
      starts.insert(static_cast<uint32_t>(*t));
    }
  }
  const auto end_of = [&](uint32_t start) {
    auto next = starts.upper_bound(start);
    return next == starts.end() ? static_cast<uint32_t>(n) : *next;
  };

  // One block per root: the entry, then every other program a program
  // array holds (in object order). A block is its root's function first,
  // then the subprograms it reaches in object order, each without the code
  // after its last reachable instruction, with calls and code addresses
  // relocated inside the block; a subprogram two roots reach is copied into
  // both, since the kernel's programs share no code.
  std::vector<uint32_t> roots{program.entry};
  for (const vm::MapDef& m : program.maps) {
    for (const auto& [key, slot] : m.prog_entries) {
      if (slot != program.entry && slot < n && std::find(roots.begin(), roots.end(), slot) == roots.end())
        roots.push_back(slot);
    }
  }
  std::sort(roots.begin() + 1, roots.end());
  vm::Program out = program;
  out.slots.clear();
  std::map<uint32_t, uint32_t> block_start;
  for (const uint32_t root : roots) {
    std::set<uint32_t> reached;
    std::map<uint32_t, uint32_t> kept_end;
    std::vector<uint32_t> work{root};
    while (!work.empty()) {
      const uint32_t f = work.back();
      work.pop_back();
      if (!reached.insert(f).second) continue;
      const uint32_t end = end_of(f);
      kept_end[f] = reached_end(program.slots, f, end);
      for (std::size_t pc = f; pc < kept_end[f]; pc += width(program.slots[pc])) {
        const isa::RawInsn& insn = program.slots[pc];
        if (auto t = code_target(insn, pc)) work.push_back(static_cast<uint32_t>(*t));
        if (auto t = jump_target(insn, pc); t && (*t < f || *t >= end)) {
          return make_error(at(pc, "a jump to pc " + std::to_string(*t) + " leaves its function (pc " +
                                       std::to_string(f) + ".." + std::to_string(end - 1) +
                                       "), which a program loaded from the entry cannot express"));
        }
      }
    }
    std::vector<uint32_t> order{root};
    for (uint32_t f : reached) {
      if (f != root) order.push_back(f);
    }
    std::map<uint32_t, uint32_t> new_start;
    block_start[root] = static_cast<uint32_t>(out.slots.size());
    for (uint32_t f : order) {
      new_start[f] = static_cast<uint32_t>(out.slots.size());
      out.slots.insert(out.slots.end(), program.slots.begin() + f, program.slots.begin() + kept_end[f]);
    }
    for (uint32_t f : order) {
      for (std::size_t pc = f; pc < kept_end[f]; pc += width(program.slots[pc])) {
        const auto t = code_target(program.slots[pc], pc);
        if (!t) continue;
        const int64_t moved_pc = new_start[f] + static_cast<int64_t>(pc - f);
        out.slots[static_cast<std::size_t>(moved_pc)].imm =
            static_cast<int32_t>(new_start[static_cast<uint32_t>(*t)] - moved_pc - 1);
      }
    }
  }

  out.entry = 0;
  out.entries.clear();
  for (const vm::ProgramEntry& e : program.entries) {
    if (e.slot == program.entry) out.entries.push_back({e.name, 0});
  }
  for (auto& m : out.maps) {
    for (auto& [key, slot] : m.prog_entries) {
      if (auto b = block_start.find(slot); b != block_start.end()) slot = b->second;
    }
  }
  return out;
}

}  // namespace bpfdiff::oracle
