// ELF loader robustness: any byte string is either rejected with a message or
// becomes a Program whose every part (programs, relocations, maps) points
// inside it. What loads and validates then runs in the interpreter and every
// JIT option set, which must agree: real compiled programs, mutated, are
// inputs the raw-bytes targets rarely reach (maps, global data, subprograms).
#include <cstdint>
#include <string>

#include "fuzz/check.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/raw_input.hpp"
#include "fuzz/run_modes.hpp"
#include "vm/elf/elf_loader.hpp"

using namespace bpfdiff;

namespace {

void check_object(const elf::ElfObject& o) {
  const std::size_t n = o.program.slots.size();
  BPFDIFF_FUZZ_CHECK(n > 0, "elf: loaded an object without code", "");
  BPFDIFF_FUZZ_CHECK(o.program.entries.size() == o.programs.size(), "elf: entries and programs differ",
                     std::to_string(o.program.entries.size()) + " vs " + std::to_string(o.programs.size()));
  for (const auto* list : {&o.programs, &o.subprograms}) {
    for (const elf::ElfFunction& f : *list) {
      BPFDIFF_FUZZ_CHECK(f.slot < n && f.slot_count <= n - f.slot, "elf: function outside the slots",
                         f.name + " at " + std::to_string(f.slot));
    }
  }
  for (const elf::AppliedRelocation& r : o.relocations) {
    BPFDIFF_FUZZ_CHECK(r.slot < n, "elf: relocation outside the slots", std::to_string(r.slot));
    switch (r.kind) {
      case elf::RelocationKind::MapHandle:
      case elf::RelocationKind::MapValue:
        BPFDIFF_FUZZ_CHECK(r.map < o.program.maps.size(), "elf: relocation to a missing map",
                           std::to_string(r.map));
        BPFDIFF_FUZZ_CHECK(r.slot + 1 < n, "elf: lddw relocation without its second slot", r.symbol);
        break;
      case elf::RelocationKind::CodeAddress:
      case elf::RelocationKind::Call:
        BPFDIFF_FUZZ_CHECK(r.target < n, "elf: code relocation outside the slots", std::to_string(r.target));
        break;
    }
  }
  auto maps_ok = vm::check_maps(o.program.maps);
  BPFDIFF_FUZZ_CHECK(maps_ok.ok(), "elf: loaded inconsistent maps",
                     maps_ok.ok() ? "" : maps_ok.error().message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto object = elf::load_elf({data, size});
  if (!object) {
    BPFDIFF_FUZZ_CHECK(!object.error().message.empty(), "elf: empty rejection message", "");
    return 0;
  }
  check_object(*object);
  for (const elf::ElfFunction& f : object->programs) {
    auto program = elf::program_named(*object, f.name);
    BPFDIFF_FUZZ_CHECK(program.ok(), "elf: a listed program cannot be chosen", f.name);
  }
  // Most objects are packet programs: give them an XDP context over a small
  // packet so they get past their bounds checks; then the same packet
  // through an mbuff metadata buffer, as plain memory, and no data at all.
  // Every program of the object runs, in every mode: the input is the object.
  oracle::EngineInput input;
  for (uint8_t i = 0; i < 64; ++i)
    input.memory.push_back(i);
  input.limits.instruction_budget = fuzz::kRawInputInstructionBudget;
  for (const elf::ElfFunction& f : object->programs) {
    auto program = elf::program_named(*object, f.name);
    if (!program) continue;
    for (const vm::RunMode mode : fuzz::all_run_modes()) {
      input.mode = mode;
      input.metadata.assign(mode == vm::RunMode::MetaBuffer ? 16 : 0, 0);
      fuzz::check_engines_agree(*program, input);
    }
  }
  return 0;
}
