// Generated ELF objects (fuzz/elf_gen_case.hpp): the input bytes are the
// decisions of one to three generated programs -- each with its run mode,
// probes and limits -- and of the object's layout (program sections, a
// shared .text, legacy, BTF or global-data maps, relocations by function or
// section symbol), so a mutation of the input is a mutation of the object.
// The loader must read back exactly the program that was written (a loader
// bug otherwise); then every program of the loaded object runs in its own
// mode and in every other one, on the interpreter and the JIT option set
// the input selects (as the gen, raw and insn targets do, differential.hpp:
// 2.7 times the executions per CPU second of all four sets; the replay
// tools and the gate's elf phase still run all four), which must agree. elf_loader mutates compiled objects;
// this target reaches the relocation kinds and map layouts those few objects do not hold.
#include <cstdint>

#include "fuzz/byte_source.hpp"
#include "fuzz/check.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/elf_gen_case.hpp"

using namespace bpfdiff;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ByteSource src({data, size});
  auto c = fuzz::generate_elf_gen_case(src);
  if (!c) return 0;  // a program the format cannot express (a jump out of its function, ...)
  auto loaded = fuzz::load_generated_object(c->object);
  BPFDIFF_FUZZ_CHECK(loaded.ok(), "elf_gen: the loader does not read back the object written",
                     loaded.ok() ? "" : loaded.error().message);
  auto runs = fuzz::elf_gen_runs(*c, *loaded);
  BPFDIFF_FUZZ_CHECK(runs.ok(), "elf_gen: a program of the object cannot be chosen",
                     runs.ok() ? "" : runs.error().message);
  for (const fuzz::ElfGenRun& run : *runs)
    fuzz::check_selected_engine_agrees(run.program, run.input, {data, size});
  return 0;
}
