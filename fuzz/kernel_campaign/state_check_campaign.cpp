#include "fuzz/kernel_campaign/state_check_campaign.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "fuzz/differential.hpp"
#include "fuzz/findings/atomic_file.hpp"
#include "fuzz/findings/finding.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/raw_input.hpp"
#include "oracle/engine.hpp"
#include "vm/isa/raw.hpp"

namespace bpfdiff::fuzz {

Result<std::string> write_state_check_case(const std::string& dir, uint64_t seed,
                                           const std::string& generator, const GeneratedCase& c,
                                           const std::vector<oracle::StateViolation>& violations) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("cannot create " + dir + ": " + ec.message());
  const std::string stem = dir + "/check-states-" + std::to_string(seed);
  if (c.program.maps.empty()) {
    const std::vector<uint8_t> raw = join_raw_input(isa::encode_slots(c.program.slots), c.memory);
    if (auto w = cli::write_file_atomically(stem + ".bin", raw); !w) return w.error();
  }
  std::string comments =
      "# bpfdiff kernel check-states: seed " + std::to_string(seed) + " of generator " + generator + "\n";
  for (const oracle::StateViolation& v : violations) {
    std::string line = v.describe();
    std::replace(line.begin(), line.end(), '\n', ' ');  // one comment line each
    comments += "# verifier-state violation: " + line + "\n";
  }
  comments +=
      "# the result expected is our interpreter's; the violation is in the verifier's log (level 2)\n";
  comments += "# bpfdiff repro " + stem + ".data --engines interp,kernel-host\n";
  auto interp = oracle::make_engine("interp");
  if (!interp) return interp.error();
  const oracle::EngineInput input = engine_input(c);
  const oracle::Outcome ours = (*interp)->run(c.program, input);
  const std::string text = cli::replay_data_text(c.program, c.memory, ours, kGeneratedInstructionBudget,
                                                 cli::run_setup_of(input), comments);
  if (auto w = cli::write_text_atomically(stem + ".data", text); !w) return w.error();
  return stem + ".data";
}

uint64_t StateCheckReport::checked() const {
  auto it = status.find(oracle::to_string(oracle::CheckStatus::Checked));
  return it == status.end() ? 0 : it->second;
}

double StateCheckReport::checked_per_second() const {
  return seconds > 0 ? static_cast<double>(checked()) / seconds : 0.0;
}

Result<StateCheckReport> run_state_check(const StateCheckCampaignOptions& options,
                                         const std::function<void(uint64_t)>& progress) {
  auto cases = CaseSource::create(options.cases);
  if (!cases) return cases.error();
  auto checker = oracle::VerifierStateChecker::create(options.check);
  if (!checker) return checker.error();
  StateCheckReport report;
  report.options = options;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < options.count; ++i) {
    const uint64_t seed = options.seed + i;
    const GeneratedCase c = cases->next(seed);
    const oracle::StateCheckResult r = (*checker)->check(c.program, c.memory);
    ++report.programs;
    ++report.status[oracle::to_string(r.status)];
    if (r.status == oracle::CheckStatus::Checked) {
      cases->accepted(c);
      report.steps += r.steps;
      report.steps_checked += r.steps_checked;
      report.values_checked += r.values_checked;
      report.incomplete_logs += r.log_complete ? 0 : 1;
    } else {
      ++report.reasons[r.reason.substr(0, r.reason.find('\n'))];
    }
    if (!r.violations.empty()) {
      std::string file;
      if (!options.findings_dir.empty()) {
        auto saved =
            write_state_check_case(options.findings_dir, seed, options.cases.generator, c, r.violations);
        file = saved ? *saved : "not saved: " + saved.error().message;
      }
      for (const oracle::StateViolation& v : r.violations) {
        report.findings.push_back({seed, v, c.program.slots, c.memory, file});
      }
    }
    if (progress) progress(i + 1);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::string format_state_check_report(const StateCheckReport& r) {
  char line[512];
  std::string out;
  std::snprintf(line, sizeof line, "%s programs from seed %llu (mutants %.0f%%), %llu programs:",
                r.options.cases.generator.c_str(), static_cast<unsigned long long>(r.options.seed),
                100 * r.options.cases.mutate_rate, static_cast<unsigned long long>(r.programs));
  out += line;
  for (const auto& [status, n] : r.status)
    out += " " + std::to_string(n) + " " + status + ",";
  out.back() = '\n';
  const double share =
      r.steps == 0 ? 0 : 100.0 * static_cast<double>(r.steps_checked) / static_cast<double>(r.steps);
  std::snprintf(
      line, sizeof line,
      "replayed: %llu instructions, %llu (%.1f%%) compared against the verifier's states before the "
      "first pruning point; %llu values compared; %llu logs incomplete\n",
      static_cast<unsigned long long>(r.steps), static_cast<unsigned long long>(r.steps_checked), share,
      static_cast<unsigned long long>(r.values_checked), static_cast<unsigned long long>(r.incomplete_logs));
  out += line;
  std::snprintf(line, sizeof line, "violations: %zu; %.1f s, %.0f programs checked/s\n", r.findings.size(),
                r.seconds, r.checked_per_second());
  out += line;
  for (const StateCheckFinding& f : r.findings) {
    out += "  seed " + std::to_string(f.seed) + ": " + f.violation.describe() +
           (f.file.empty() ? "" : " (" + f.file + ")") + "\n";
  }
  if (!r.reasons.empty()) {
    out += "not checked:\n";
    for (const auto& [reason, n] : r.reasons)
      out += "  " + std::to_string(n) + "  " + reason + "\n";
  }
  return out;
}

nlohmann::json state_check_report_json(const StateCheckReport& r) {
  nlohmann::json j;
  j["generator"] = r.options.cases.generator;
  j["seed"] = r.options.seed;
  j["mutate_rate"] = r.options.cases.mutate_rate;
  j["programs"] = r.programs;
  j["status"] = r.status;
  j["not_checked"] = r.reasons;
  j["steps"] = r.steps;
  j["steps_checked"] = r.steps_checked;
  j["values_checked"] = r.values_checked;
  j["incomplete_logs"] = r.incomplete_logs;
  j["seconds"] = r.seconds;
  j["checked_per_second"] = r.checked_per_second();
  j["violations"] = nlohmann::json::array();
  for (const StateCheckFinding& f : r.findings) {
    j["violations"].push_back({{"seed", f.seed},
                               {"kind", oracle::to_string(f.violation.kind)},
                               {"pc", f.violation.pc},
                               {"where", f.violation.where},
                               {"value", f.violation.value},
                               {"claim", f.violation.claim},
                               {"file", f.file}});
  }
  return j;
}

}  // namespace bpfdiff::fuzz
