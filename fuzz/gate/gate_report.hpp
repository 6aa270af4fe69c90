#pragma once
// What `bpfdiff gate` says about a run, as a library: its defaults, the
// progress lines, the text and JSON summaries, and a finding recorded (its
// reproducer on disk first, then the words about it). The command line only
// parses options and prints these.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/gate/gate.hpp"

namespace bpfdiff::cli {

inline constexpr std::size_t kGateDefaultPrograms = 20'000;
inline constexpr std::size_t kGateQuickPrograms = 2'000;  // --quick, what CI runs
inline constexpr const char* kGateDefaultCorpus = "corpus";

// The corpus roots to use: `given`, else ./corpus when it is a directory,
// else none (`note` then says why the corpus phase is empty).
std::vector<std::string> gate_corpus_dirs(const std::vector<std::string>& given, std::string& note);

// "  generated   2000 programs (seed 1) in 1.2 s" per phase, then the total.
std::string gate_summary_text(const GateReport& report, const GateOptions& options);

// {"result", "engines", "seed", "insn_per_form", "corpus", "phases",
// "total_programs", "seconds", "programs_per_second", "finding": null}.
nlohmann::ordered_json gate_summary_json(const GateReport& report, const GateOptions& options);

// The "finding" member of the JSON summary; the files when they were written.
nlohmann::ordered_json gate_finding_json(const GateFinding& finding,
                                         const std::optional<WrittenFinding>& written);

// A finding of `report`, recorded: the reproducer is written into `out_dir`
// before any text exists, so that what is printed names files that are there.
struct RecordedGateFinding {
  std::optional<WrittenFinding> files;  // unset when they could not be written
  std::string write_error;              // why not
  std::string text;                     // format_finding and the summary
  nlohmann::ordered_json json;          // the summary with its "finding"
};
RecordedGateFinding record_gate_finding(const GateReport& report, const GateOptions& options,
                                        const std::string& out_dir);

// Progress lines ("gate: generated 500/2000 (812 programs/s)"), at most one a
// second: the rate is over the current phase.
class GateProgressLines {
 public:
  std::optional<std::string> operator()(GatePhase phase, std::size_t done, std::size_t total);

 private:
  std::optional<GatePhase> phase_;
  std::chrono::steady_clock::time_point start_;
  ProgressThrottle throttle_;
};

}  // namespace bpfdiff::cli
