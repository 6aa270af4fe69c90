#pragma once
// `bpfdiff kernel accept`: how well the kernel-friendly generator
// (fuzz/kernel_friendly.hpp) fits a kernel's verifier. Generates N programs
// from consecutive seeds, runs each on a kernel engine and on our
// interpreter, and counts: the verifier's verdicts (acceptance rate, top
// rejection reasons with an example each), the kernel rules' results
// (agreements, findings, not comparable), and per form how many generated
// and how many accepted programs hold it. Serves any kernel engine by name.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/generator.hpp"
#include "oracle/outcome.hpp"
#include "vm/isa/table.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

struct AcceptOptions {
  uint64_t count = 1000;
  uint64_t seed = 1;  // program i is generated from seed + i
  isa::IsaVersion isa_version = isa::IsaVersion::V4;
  std::string engine = "kernel-host";
  std::size_t max_instructions = 128;
  // When set, each finding's case is written there as a .data test with its
  // maps, memory and budget (`bpfdiff repro FILE --engines interp,ENGINE`).
  std::string findings_dir;
  // Which generator writes the programs (fuzz/case_source.hpp), and the
  // share of mutants of accepted programs among them.
  std::string generator = "kernel-friendly";
  double mutate_rate = 0;
  // Also run the verifier-state oracle (oracle/verifier_state_check.hpp)
  // on every accepted program; each violation is a finding.
  bool check_states = false;
};

struct AcceptExample {
  uint64_t count = 0;
  uint64_t seed = 0;        // the first program with this reason
  std::string log_line;     // its verifier log's last line, verbatim
  std::string disassembly;  // its program
};

struct AcceptFinding {
  uint64_t seed = 0;
  std::string kind;  // kernel_compare's name for it
  std::string title;
  std::string file;  // where the case was saved, if it was
};

struct FormCoverage {
  isa::Form form;
  uint64_t generated = 0;  // programs holding the form
  uint64_t accepted = 0;   // of those, accepted by the verifier
};

struct AcceptReport {
  AcceptOptions options;
  std::string kernel_release;
  uint64_t programs = 0;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t unsupported = 0;                         // the recipe could not express it, or the test run failed
  std::map<std::string, uint64_t> agreement;        // kernel_compare kind -> count
  std::map<std::string, AcceptExample> rejections;  // reason -> count and example
  std::map<std::string, AcceptExample> not_comparable;
  std::vector<AcceptFinding> findings;
  // The programs the kernel took longest on (load and run), slowest first:
  // verifier time dominates throughput, and a few programs can take seconds.
  std::vector<std::pair<uint64_t, double>> slowest;  // seed, milliseconds
  std::vector<FormCoverage> forms;                   // every form the generator may emit for the ISA version
  double seconds = 0;                                // generating, both runs and comparing
  uint64_t mutants = 0;                              // programs that were mutants of accepted ones
  uint64_t mutants_accepted = 0;
  // verifier-stress: per pattern (fuzz::StressPattern), programs holding it: generated, accepted.
  std::vector<std::pair<uint64_t, uint64_t>> patterns;
  uint64_t states_checked = 0;  // accepted programs the verifier-state oracle replayed

  double acceptance_percent() const;
  double programs_per_second() const;
};

// Fails when the engine is unknown or unavailable here. `progress`, when
// given, is called after every program with the number done.
Result<AcceptReport> measure_acceptance(const AcceptOptions& options,
                                        const std::function<void(uint64_t)>& progress = {});

// Writes a finding's case into options.findings_dir as
// kernel-accept-SEED.data: the program with its maps (a program array's
// targets included), its memory and budget, and `ours` (our interpreter's
// outcome) as the expected result, so `bpfdiff repro`, `diff` and `minimize`
// replay exactly what ran. Returns the path.
Result<std::string> write_accept_case(const AcceptOptions& options, uint64_t seed,
                                      const fuzz::GeneratedCase& c, const oracle::Outcome& ours);

// The text report; `top` rejection reasons, each with its example.
std::string format_accept_report(const AcceptReport& report, std::size_t top = 10);
nlohmann::json accept_report_json(const AcceptReport& report);

}  // namespace bpfdiff::cli
