#pragma once
// Generated ELF objects: several generated programs written as one
// relocatable object the way a compiler lays one out -- each program's entry
// function in its own program section, every other function of every program
// in one shared `.text`, maps as legacy `maps` definitions or as global data
// sections, and every reference across sections (a call into .text, a map
// handle, a global-data address, a code address) a relocation. Calls within
// a section are sometimes left unrelocated, and relocations name either the
// function symbol or the section symbol with the offset in the addend, as
// clang writes both.
//
// Alongside the bytes comes `expected`: the Program the ELF loader must read
// back (slots with every relocation resolved, maps in the loader's order,
// one entry per program). A difference is a loader bug; the gate runs each
// entry of the loaded object on every engine.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "vm/program/program.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::fuzz {

struct GeneratedElfObject {
  std::vector<uint8_t> bytes;
  vm::Program expected;
  // Per program given, in order: the name of its entry (a program of the
  // object, for elf::program_named).
  std::vector<std::string> entry_names;
};

// One object holding `programs` (each a single-entry program starting at
// slot 0). Layout choices (section names, data or legacy maps, relocation
// styles, padded map definitions) come from `choices`. Fails, naming the
// program and slot, when a program uses what an object cannot express: a
// map-value address of a map that cannot be global data, a variable address
// (lddw src 3), a jump out of its function, more than one entry.
Result<GeneratedElfObject> elf_object_from_programs(std::span<const vm::Program> programs,
                                                    ByteSource& choices);

// The first difference between what the loader read and what was written,
// "slot 12: ..." or "map 1 'maps_0_2': value_size 8 vs 4", or nothing.
std::optional<std::string> loaded_object_difference(const vm::Program& expected, const vm::Program& loaded);

}  // namespace bpfdiff::fuzz
