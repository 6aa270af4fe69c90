#pragma once
// What the elf_gen fuzz target reads its input as, and what the tools
// (`bpfdiff repro/diff/minimize --target elf_gen`) rebuild from it: one to
// three generated cases (generate_limit_case: a program with its run mode,
// probes and sometimes limits at the edge of what it needs), written as one
// relocatable ELF object (fuzz/elf_object_gen.hpp) whose layout -- section
// names, legacy, BTF or global-data maps, relocation styles -- the decisions
// after the programs' choose. The loader must read the object back exactly
// as it was written; then every program of the loaded object runs in its
// own mode and input and in each other run mode on the same bytes (the
// target on the interpreter and the JIT option set its input selects, the
// tools on every engine).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/elf_object_gen.hpp"
#include "fuzz/run_modes.hpp"
#include "oracle/engine.hpp"
#include "vm/elf/elf_loader.hpp"
#include "vm/program/program.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::fuzz {

// Slots of each generated program of an elf_gen object.
inline constexpr std::size_t kElfGenSlots = 96;

struct ElfGenCase {
  std::vector<ModeCase> cases;  // per program of the object, as generated (before it was written)
  GeneratedElfObject object;
};

// The generator options of elf_gen: helper calls (so maps, written as
// legacy, BTF or global-data maps) and local calls (so a shared .text and
// calls across sections) more often than interp_vs_jit_gen has them.
GeneratorOptions elf_gen_generator_options();

// The case an elf_gen input's decisions make. Fails (with the writer's
// reason) when a generated program uses what an object cannot express: the
// target skips such inputs.
Result<ElfGenCase> generate_elf_gen_case(ByteSource& src);

// The object loaded back. Fails when it does not load or reads back other
// than it was written -- a loader bug either way, which the message says.
Result<elf::ElfObject> load_generated_object(const GeneratedElfObject& object);

// One run of a program of the loaded object.
struct ElfGenRun {
  std::size_t index = 0;  // of the program in the object (and of its case)
  std::string entry;      // its name in the object, for `bpfdiff run OBJ --program NAME`
  bool own_mode = false;  // the mode its decisions chose, or another one on the same bytes
  vm::Program program;    // as the loader read it
  oracle::EngineInput input;
};

// Every run elf_gen checks, in the order it checks them: for each program,
// first its own case's input (mode, probe, metadata layout, limits), then
// each other run mode of all_run_modes() on the case's bytes and limits
// (mbuff with a zeroed 16-byte buffer, the packet addresses at 0 and 8), as
// elf_loader runs the corpus objects. Fails when the loaded object has no
// program of an entry's name (a loader bug).
Result<std::vector<ElfGenRun>> elf_gen_runs(const ElfGenCase& c, const elf::ElfObject& loaded);

}  // namespace bpfdiff::fuzz
