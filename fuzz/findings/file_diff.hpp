#pragma once
// `bpfdiff diff` as a library: a file (or every file under a directory) run
// on several engines, each outcome compared with the first engine's, the
// result as text or JSON, and the kernel rules tallied over many files.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/findings/replay.hpp"
#include "oracle/kernel_tally.hpp"
#include "oracle/outcome.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

struct FileDiff {
  std::string path;
  std::optional<std::string> load_error;  // the file could not be read or parsed
  std::vector<oracle::Outcome> outcomes;  // one per engine, in the engines' order
  std::vector<EngineDifference> differences;
  uint64_t budget = 0;
  RunSetup setup;  // what the programs ran under
  std::string kind;
  // With the gate's runs (diff --gate-runs, fuzz/gate/gate_runs.hpp): how
  // many runs of one prepared program were compared, and the run whose
  // outcomes are above when one differs (0 the first) with what it ran on.
  std::size_t runs = 1;
  std::optional<std::size_t> diverged_run;
  std::string run_note;

  bool agree() const { return !load_error && differences.empty(); }
};

struct FileDiffOptions {
  uint64_t budget = 0;                         // 0: the input's own (see replay_budget)
  bool fuzz_input = false;                     // read every file as a raw fuzz input
  std::string layout;                          // read every file as this fuzz target's input
  std::optional<std::vector<uint8_t>> memory;  // replaces each file's memory
  RunSetupOverride setup;                      // replaces parts of each file's run mode and call depth
  ElfChoice elf;                               // the program of each ELF object
};

FileDiff diff_file(const std::string& path, const FileDiffOptions& options, NamedEngines& engines);

// The file read as diff_file reads it: its diff with nothing run yet (or
// its load error), and the input to run.
struct PreparedFileDiff {
  FileDiff diff;
  std::optional<ReplayInput> input;
};
PreparedFileDiff prepare_file_diff(const std::string& path, const FileDiffOptions& options);

// "PATH: agree (N engines): r0 ...", or "PATH: disagree" and a line per
// difference; then a verdict line per kernel outcome.
std::string format_file_diff(const FileDiff& d);
// {"file", "kind", "budget", "agree", "engines", "reference", "kernels"?, "differences"} or {"file",
// "error"}.
nlohmann::ordered_json file_diff_json(const FileDiff& d);

// The first kernel engine against the reference under the kernel rules,
// when the reference is one of ours.
void tally_kernel(const FileDiff& d, oracle::KernelTally& tally);

// Every regular file under `dir`, sorted by path so runs are reproducible.
Result<std::vector<std::string>> files_under(const std::string& dir);

}  // namespace bpfdiff::cli
