#include "fuzz/elf_gen_case.hpp"

#include <utility>

#include "fuzz/limits.hpp"

namespace bpfdiff::fuzz {
namespace {

// The metadata buffer of the mbuff runs in a mode other than a program's
// own: elf_loader's, the packet addresses at EngineInput's default offsets.
constexpr std::size_t kOtherModeMbuffBytes = 16;

}  // namespace

GeneratorOptions elf_gen_generator_options() {
  GeneratorOptions options;
  options.max_instructions = kElfGenSlots;
  options.helper_rate = 0.2;  // maps: legacy, BTF and global-data definitions
  options.call_rate = 0.15;   // subprograms: a shared .text and calls across sections
  return options;
}

Result<ElfGenCase> generate_elf_gen_case(ByteSource& src) {
  const GeneratorOptions options = elf_gen_generator_options();
  ElfGenCase out;
  out.cases.resize(1 + src.below(3));
  std::vector<vm::Program> programs;
  for (ModeCase& m : out.cases) {
    m = generate_limit_case(src, options);
    programs.push_back(m.program);
  }
  auto object = elf_object_from_programs(programs, src);
  if (!object) return object.error();
  out.object = std::move(object).value();
  return out;
}

Result<elf::ElfObject> load_generated_object(const GeneratedElfObject& object) {
  auto loaded = elf::load_elf(object.bytes);
  if (!loaded)
    return make_error("the generated object does not load (an ELF loader bug): " + loaded.error().message);
  if (auto d = loaded_object_difference(object.expected, loaded->program))
    return make_error("the generated object reads back differently (an ELF loader bug): " + *d);
  return loaded;
}

Result<std::vector<ElfGenRun>> elf_gen_runs(const ElfGenCase& c, const elf::ElfObject& loaded) {
  std::vector<ElfGenRun> runs;
  for (std::size_t k = 0; k < c.cases.size(); ++k) {
    const std::string& entry = c.object.entry_names[k];
    auto program = elf::program_named(loaded, entry);
    if (!program)
      return make_error("the loaded object has no program '" + entry + "': " + program.error().message);
    const oracle::EngineInput& own = c.cases[k].input;
    runs.push_back({k, entry, true, *program, own});
    for (const vm::RunMode mode : all_run_modes()) {
      if (mode == own.mode) continue;
      oracle::EngineInput input;
      input.mode = mode;
      input.memory = own.memory;
      input.limits = own.limits;
      input.metadata.assign(mode == vm::RunMode::MetaBuffer ? kOtherModeMbuffBytes : 0, 0);
      runs.push_back({k, entry, false, *program, std::move(input)});
    }
  }
  return runs;
}

}  // namespace bpfdiff::fuzz
