#pragma once
// Program: what every front end produces (assembler, raw bytes, ELF loader,
// generator) and what validation turns into a LoadedProgram for the engines.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vm/isa/raw.hpp"
#include "vm/isa/table.hpp"
#include "vm/program/maps.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::vm {

inline constexpr std::size_t kMaxProgramSlots = 1'000'000;

struct Program {
  std::vector<isa::RawInsn> slots;  // lddw occupies two slots
  uint32_t entry = 0;               // slot index where execution starts
  std::string name;
  std::vector<MapDef> maps;  // lddw map_fd/map_idx/map_value imm: an index here
  // Every program of the object (ELF sections), all in `slots`; `entry` is
  // one of them. Tail calls reach them through ProgArray maps, so one
  // validation and one JIT compilation cover the whole object.
  std::vector<ProgramEntry> entries;
};

// Raw little-endian bytecode; rejects sizes that are not a multiple of 8.
Result<Program> program_from_bytes(std::span<const uint8_t> bytes);

// One instruction after validation, laid out for the interpreter's dispatch
// loop: the form is resolved, jump and call targets are absolute slot
// indexes, and lddw carries its full 64-bit value.
struct Insn {
  isa::Form form = isa::Form::exit;
  uint8_t dst = 0;
  uint8_t src = 0;
  int16_t off = 0;
  int32_t imm = 0;
  uint32_t target = 0;  // jumps, local calls, lddw code: absolute slot index
  uint64_t imm64 = 0;   // lddw: the value loaded
};

struct LoadedProgram {
  Program source;
  std::vector<Insn> insns;                // one per slot; the second slot of lddw is never executed
  std::vector<uint32_t> function_starts;  // sorted: the entry, local-call targets, lddw code targets
};

}  // namespace bpfdiff::vm
