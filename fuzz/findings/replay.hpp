#pragma once
// Shared by `bpfdiff diff` and `bpfdiff repro`: loading a program with its
// input memory from any file a user or a fuzzer produced (assembly, raw
// bytecode, a .data test, a raw fuzz input), choosing engines by a comma
// list, and running one program on each of them.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/raw_input.hpp"
#include "oracle/compare.hpp"
#include "oracle/engine.hpp"
#include "oracle/outcome.hpp"
#include "oracle/run/input.hpp"
#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/text/data_file.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

// A fuzz input replays with the raw targets' budget unless --budget says
// otherwise, so that a divergence found at BudgetExhausted reproduces.
inline constexpr uint64_t kFuzzTargetBudget = fuzz::kRawInputInstructionBudget;

// How a program runs besides its memory and budget: the run mode (with the
// metadata layout of mbuff mode) and the call-depth limit. From a .data
// test's `-- mode` and "# max-call-depth N", from generator decisions, or
// from the command line (RunSetupOverride).
struct RunSetup {
  text::DataRunMode mode;  // memory mode unless set
  uint32_t max_call_depth = vm::ExecLimits{}.max_call_depth;
  bool operator==(const RunSetup&) const = default;
};

// The input of one run: `memory` (the packet in the packet modes), `budget`
// and the mode's zeroed metadata buffer, under `setup`.
oracle::EngineInput engine_input(std::span<const uint8_t> memory, uint64_t budget, const RunSetup& setup);
// The setup an engine input runs under (its metadata buffer must be zeroed,
// as every tool hands it over).
RunSetup run_setup_of(const oracle::EngineInput& input);

// The command-line flags that give `setup` to `bpfdiff run`, `diff`, `repro`
// or `minimize`: " --mode mbuff --mbuff-size 24 ..." for what differs from
// the default setup, empty for the default.
std::string run_setup_flags(const RunSetup& setup);

// Settings given on a command line: each one set replaces the input's own.
struct RunSetupOverride {
  std::optional<vm::RunMode> mode;
  std::optional<uint32_t> mbuff_size;
  std::optional<uint32_t> data_offset;
  std::optional<uint32_t> data_end_offset;
  std::optional<uint32_t> max_call_depth;
  RunSetup applied_to(RunSetup setup) const;
};

struct ReplayInput {
  vm::Program program;
  std::vector<uint8_t> memory;
  RunSetup setup;    // a .data test's or a generated input's; memory mode otherwise
  std::string kind;  // "assembly", "bytecode", "data test" or "fuzz input"
  bool fuzz_layout = false;
  uint64_t budget = 0;  // the fuzz target's budget with a --layout, a .data test's "# budget N"; else 0
  // An elf-gen input: the generated object and the name of `program` in it.
  std::vector<uint8_t> elf_object;
  std::string elf_program;
};

// A raw fuzz input (u32 program_length | program | memory), told apart from
// the other inputs: not named .asm/.s/.data, not ELF, not printable text,
// and not a whole number of 8-byte slots.
bool looks_like_fuzz_input(std::string_view path, std::span<const uint8_t> bytes);

// Reads `path` as a fuzz input when `fuzz_input` is set or it looks like one,
// else as load_program_file does (`elf` picks an ELF object's program, and
// is an error for any other file). Memory: the fuzz input's or the .data
// test's, else empty. Errors name the file.
Result<ReplayInput> load_replay_input(const std::string& path, bool fuzz_input,
                                      const vm::HelperRegistry& helpers, const ElfChoice& elf = {});

// Reads `path` the way the fuzz target of `layout` reads its input ("raw",
// "generated", "single-insn"; "program": as load_program_file does), with
// that target's budget. Generator decisions rebuild the whole program, maps
// included. An empty `layout` is load_replay_input.
Result<ReplayInput> load_replay_input(const std::string& path, bool fuzz_input, std::string_view layout,
                                      const vm::HelperRegistry& helpers, const ElfChoice& elf = {});

// The budget a replay runs with: `given` unless 0, else the input's own (the
// target's, for a --layout), else the raw targets' for a fuzz input, else
// the default budget.
uint64_t replay_budget(const ReplayInput& input, uint64_t given);

// The memory given by --mem (hex) or --mem-file, if either is set.
Result<std::optional<std::vector<uint8_t>>> memory_override(const std::string& mem_hex,
                                                            const std::string& mem_file);

struct NamedEngines {
  std::vector<std::string> names;
  std::vector<std::unique_ptr<oracle::Engine>> engines;
};

// Makes each named engine (every one of oracle::engine_names() when `names`
// is empty); fails on an unknown or repeated name.
Result<NamedEngines> make_engines(const std::vector<std::string>& names);

// One run per engine, each on its own copy of `memory`, under `setup`
// (memory mode by default).
std::vector<oracle::Outcome> run_on_each(NamedEngines& engines, const vm::Program& program,
                                         std::span<const uint8_t> memory, uint64_t budget,
                                         const RunSetup& setup = {});

// A difference between the first engine (the reference) and another one.
struct EngineDifference {
  std::string left;  // engine names
  std::string right;
  oracle::Difference difference;
};

// Each engine's outcome against the first's, under CompareRules::everything().
std::vector<EngineDifference> differences_from_first(const std::vector<oracle::Outcome>& outcomes);

// "r0 0x2a after 7 instructions", "pc 3: out-of-bounds ... after 4 instructions",
// "rejected: <message>".
std::string summarize(const oracle::Outcome& outcome);

}  // namespace bpfdiff::cli
