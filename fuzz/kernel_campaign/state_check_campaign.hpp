#pragma once
// `bpfdiff kernel check-states`: the verifier-state oracle
// (oracle/verifier_state_check.hpp) over generated programs. Program i comes
// from seed + i (fuzz/case_source.hpp: any generator, mutants of accepted
// programs at a rate); each is loaded with a level-2 log and replayed in our
// interpreter. Counts what was checked and how much of each run could be
// compared, and keeps every violation with its program.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/case_source.hpp"
#include "fuzz/generator.hpp"
#include "oracle/verifier_state_check.hpp"
#include "vm/isa/raw.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::fuzz {

struct StateCheckCampaignOptions {
  CaseSourceOptions cases;
  uint64_t count = 1000;
  uint64_t seed = 1;
  oracle::StateCheckOptions check;
  // When set, each program with a violation is written there before
  // anything else happens, as check-states-SEED.data (write_state_check_case)
  // and, for a program without maps, also as check-states-SEED.bin, the raw
  // input scripts/state-check-loader.c reads.
  std::string findings_dir;
};

struct StateCheckFinding {
  uint64_t seed = 0;
  oracle::StateViolation violation;
  std::vector<isa::RawInsn> program;
  std::vector<uint8_t> memory;
  std::string file;  // the .data test the case was saved as, or why it was not
};

struct StateCheckReport {
  StateCheckCampaignOptions options;
  uint64_t programs = 0;
  std::map<std::string, uint64_t> status;   // oracle::to_string(CheckStatus) -> programs
  std::map<std::string, uint64_t> reasons;  // why programs were not checked, first line
  uint64_t steps = 0;
  uint64_t steps_checked = 0;
  uint64_t values_checked = 0;
  uint64_t incomplete_logs = 0;
  std::vector<StateCheckFinding> findings;
  double seconds = 0;

  uint64_t checked() const;
  double checked_per_second() const;
};

// Fails when bpf() cannot be used or the options are wrong. `progress` is
// called after every program with the number done.
Result<StateCheckReport> run_state_check(const StateCheckCampaignOptions& options,
                                         const std::function<void(uint64_t)>& progress = {});

// Writes `c` to DIR/check-states-SEED.data as a .data test `bpfdiff repro`
// replays: its maps, memory and budget, our interpreter's result as the
// expectation, and comment lines naming the generator, each violation and the
// repro command (kernel_campaign/kernel_finding.hpp writes case.data the same
// way). A program without maps also goes to DIR/check-states-SEED.bin, the
// raw input (u32 length | program | memory) of scripts/state-check-loader.c.
// Returns the .data file's path.
Result<std::string> write_state_check_case(const std::string& dir, uint64_t seed,
                                           const std::string& generator, const GeneratedCase& c,
                                           const std::vector<oracle::StateViolation>& violations);

std::string format_state_check_report(const StateCheckReport& report);

// {"generator", "seed", "mutate_rate", "programs", "status", "not_checked",
// "steps", "steps_checked", "values_checked", "incomplete_logs", "seconds",
// "checked_per_second", "violations": [{"seed", "kind", "pc", "where",
// "value", "claim", "file"}]}: what `bpfdiff kernel check-states --json` prints.
nlohmann::json state_check_report_json(const StateCheckReport& report);

}  // namespace bpfdiff::fuzz
