#include "fuzz/findings/replay.hpp"

#include <filesystem>
#include <set>

#include "fuzz/findings/finding.hpp"
#include "fuzz/raw_input.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/input.hpp"
#include "vm/isa/raw.hpp"

namespace bpfdiff::cli {

oracle::EngineInput engine_input(std::span<const uint8_t> memory, uint64_t budget, const RunSetup& setup) {
  oracle::EngineInput input;
  input.mode = setup.mode.mode;
  input.memory.assign(memory.begin(), memory.end());
  input.limits.instruction_budget = budget;
  input.limits.max_call_depth = setup.max_call_depth;
  if (input.mode == vm::RunMode::MetaBuffer) input.metadata.assign(setup.mode.mbuff_size, 0);
  input.data_offset = setup.mode.data_offset;
  input.data_end_offset = setup.mode.data_end_offset;
  return input;
}

RunSetup run_setup_of(const oracle::EngineInput& input) {
  RunSetup setup;
  setup.mode.mode = input.mode;
  if (input.mode == vm::RunMode::MetaBuffer) {
    setup.mode.mbuff_size = static_cast<uint32_t>(input.metadata.size());
    setup.mode.data_offset = input.data_offset;
    setup.mode.data_end_offset = input.data_end_offset;
  }
  setup.max_call_depth = input.limits.max_call_depth;
  return setup;
}

std::string run_setup_flags(const RunSetup& setup) {
  std::string out;
  const text::DataRunMode& m = setup.mode;
  if (m.mode != vm::RunMode::Memory) out += " --mode " + std::string(text::run_mode_name(m.mode));
  if (m.mode == vm::RunMode::MetaBuffer) {
    out += " --mbuff-size " + std::to_string(m.mbuff_size) + " --mbuff-data-offset " +
           std::to_string(m.data_offset) + " --mbuff-data-end-offset " + std::to_string(m.data_end_offset);
  }
  if (setup.max_call_depth != vm::ExecLimits{}.max_call_depth)
    out += " --max-call-depth " + std::to_string(setup.max_call_depth);
  return out;
}

RunSetup RunSetupOverride::applied_to(RunSetup setup) const {
  if (mode) setup.mode.mode = *mode;
  if (mbuff_size) setup.mode.mbuff_size = *mbuff_size;
  if (data_offset) setup.mode.data_offset = *data_offset;
  if (data_end_offset) setup.mode.data_end_offset = *data_end_offset;
  if (max_call_depth) setup.max_call_depth = *max_call_depth;
  return setup;
}

bool looks_like_fuzz_input(std::string_view path, std::span<const uint8_t> bytes) {
  const std::string ext = lowercase_extension(path);
  if (ext == ".data" || ext == ".asm" || ext == ".s") return false;
  if (has_elf_magic(bytes)) return false;
  if (bytes.size() % isa::kSlotBytes == 0) return false;
  return !is_printable_text(bytes);
}

Result<ReplayInput> load_replay_input(const std::string& path, bool fuzz_input,
                                      const vm::HelperRegistry& helpers, const ElfChoice& elf) {
  auto bytes = read_file(path);
  if (!bytes) return bytes.error();
  ReplayInput out;
  if (fuzz_input || looks_like_fuzz_input(path, *bytes)) {
    if (!elf.empty()) return make_error(path + ": --section and --program choose a program of an ELF object");
    const fuzz::RawInput raw = fuzz::split_raw_input(*bytes);
    auto program = vm::program_from_bytes(raw.program);
    if (!program) return make_error(path + ": " + program.error().message);
    out.program = std::move(program).value();
    out.program.name = std::filesystem::path(path).stem().string();
    out.memory.assign(raw.memory.begin(), raw.memory.end());
    out.kind = "fuzz input";
    out.fuzz_layout = true;
    return out;
  }
  auto loaded = load_program_file(path, helpers, elf);
  if (!loaded) return loaded.error();
  out.kind = to_string(loaded->kind);
  out.program = std::move(loaded->program);
  if (loaded->data) {
    out.memory = loaded->data->memory;
    if (loaded->data->run_mode) out.setup.mode = *loaded->data->run_mode;
    out.budget = loaded->data->budget.value_or(0);
    if (loaded->data->max_call_depth) out.setup.max_call_depth = *loaded->data->max_call_depth;
  }
  return out;
}

Result<ReplayInput> load_replay_input(const std::string& path, bool fuzz_input, std::string_view layout,
                                      const vm::HelperRegistry& helpers, const ElfChoice& elf) {
  if (layout.empty()) return load_replay_input(path, fuzz_input, helpers, elf);
  if (!elf.empty())
    return make_error(
        path + ": --section and --program choose a program of an ELF object, not of a fuzz target's input");
  const std::optional<FindingLayout> l = finding_layout_named(layout);
  if (!l) return make_error("unknown layout '" + std::string(layout) + "'");
  auto c = read_finding(path, *l);
  if (!c) return c.error();
  ReplayInput out;
  out.program = std::move(c->program);
  out.memory = std::move(c->memory);
  out.setup = c->setup;
  out.kind = std::string(to_string(*l)) + " input" + (c->part.empty() ? "" : ", " + c->part);
  out.fuzz_layout = *l != FindingLayout::Program;
  out.budget = c->budget;
  out.elf_object = std::move(c->elf_object);
  out.elf_program = std::move(c->elf_program);
  return out;
}

Result<std::optional<std::vector<uint8_t>>> memory_override(const std::string& mem_hex,
                                                            const std::string& mem_file) {
  if (!mem_hex.empty()) {
    auto bytes = parse_hex_arg(mem_hex);
    if (!bytes) return make_error("--mem: " + bytes.error().message);
    return std::optional<std::vector<uint8_t>>(std::move(bytes).value());
  }
  if (!mem_file.empty()) {
    auto bytes = read_file(mem_file);
    if (!bytes) return bytes.error();
    return std::optional<std::vector<uint8_t>>(std::move(bytes).value());
  }
  return std::optional<std::vector<uint8_t>>();
}

Result<NamedEngines> make_engines(const std::vector<std::string>& names) {
  NamedEngines out;
  out.names = names.empty() ? oracle::engine_names() : names;
  std::set<std::string> seen;
  for (const std::string& name : out.names) {
    if (!seen.insert(name).second) return make_error("engine '" + name + "' is listed twice");
    auto engine = oracle::make_engine(name);
    if (!engine) return engine.error();
    out.engines.push_back(std::move(engine).value());
  }
  if (out.engines.empty()) return make_error("no engines to run");
  return out;
}

std::vector<oracle::Outcome> run_on_each(NamedEngines& engines, const vm::Program& program,
                                         std::span<const uint8_t> memory, uint64_t budget,
                                         const RunSetup& setup) {
  const oracle::EngineInput input = engine_input(memory, budget, setup);
  std::vector<oracle::Outcome> outcomes;
  for (const auto& engine : engines.engines)
    outcomes.push_back(engine->run(program, input));
  return outcomes;
}

std::vector<EngineDifference> differences_from_first(const std::vector<oracle::Outcome>& outcomes) {
  std::vector<EngineDifference> out;
  for (std::size_t i = 1; i < outcomes.size(); ++i) {
    for (oracle::Difference& d :
         oracle::compare(outcomes.front(), outcomes[i], oracle::CompareRules::everything())) {
      out.push_back({outcomes.front().engine, outcomes[i].engine, std::move(d)});
    }
  }
  return out;
}

std::string summarize(const oracle::Outcome& outcome) {
  if (!outcome.loaded) return "rejected: " + outcome.load_error;
  const std::string count = " after " + std::to_string(outcome.instructions) + " instructions";
  if (outcome.ok()) return "r0 " + hex_u64(outcome.regs[0]) + count;
  return vm::describe(outcome.error) + count;
}

uint64_t replay_budget(const ReplayInput& input, uint64_t given) {
  if (given != 0) return given;
  if (input.budget != 0) return input.budget;
  return input.fuzz_layout ? kFuzzTargetBudget : vm::ExecLimits{}.instruction_budget;
}

}  // namespace bpfdiff::cli
