#include "fuzz/kernel_campaign/kernel_accept.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <utility>

#include <filesystem>
#include <system_error>

#include "fuzz/case_source.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/findings/finding.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel/rejection_reason.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_engine.hpp"
#include "oracle/run/input.hpp"
#include "oracle/verifier_state_check.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

std::string percent(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", value);
  return buf;
}

// The forms a program holds, each once.
std::vector<bool> forms_of(const vm::Program& p) {
  std::vector<bool> seen(isa::kNumForms, false);
  for (std::size_t pc = 0; pc < p.slots.size();) {
    const auto form = isa::find_form(p.slots[pc]);
    if (!form) break;
    seen[static_cast<std::size_t>(*form)] = true;
    pc += isa::info(*form).slots;
  }
  return seen;
}

void count_example(std::map<std::string, AcceptExample>& by_reason, const std::string& reason, uint64_t seed,
                   std::string_view log, const vm::Program& program) {
  AcceptExample& e = by_reason[reason];
  if (e.count++ == 0) {
    e.seed = seed;
    e.log_line = std::string(oracle::kernel::last_log_line(log));
    e.disassembly = text::disassemble(program.slots, {.pc_prefix = true});
  }
}

std::vector<std::pair<std::string, const AcceptExample*>> most_frequent(
    const std::map<std::string, AcceptExample>& by_reason) {
  std::vector<std::pair<std::string, const AcceptExample*>> out;
  for (const auto& [reason, e] : by_reason)
    out.emplace_back(reason, &e);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second->count != b.second->count ? a.second->count > b.second->count : a.first < b.first;
  });
  return out;
}

const char* isa_name(isa::IsaVersion v) {
  switch (v) {
    case isa::IsaVersion::V1:
      return "v1";
    case isa::IsaVersion::V2:
      return "v2";
    case isa::IsaVersion::V3:
      return "v3";
    case isa::IsaVersion::V4:
      return "v4";
  }
  return "?";
}

}  // namespace

Result<std::string> write_accept_case(const AcceptOptions& options, uint64_t seed,
                                      const fuzz::GeneratedCase& c, const oracle::Outcome& ours) {
  std::error_code ec;
  std::filesystem::create_directories(options.findings_dir, ec);
  const std::string path = options.findings_dir + "/kernel-accept-" + std::to_string(seed) + ".data";
  const std::string comments = "# bpfdiff kernel accept: seed " + std::to_string(seed) + " of generator " +
                               options.generator + "\n# bpfdiff repro " + path + " --engines interp," +
                               options.engine + "\n";
  const std::string text = replay_data_text(c.program, c.memory, ours, fuzz::kGeneratedInstructionBudget,
                                            run_setup_of(fuzz::engine_input(c)), comments);
  auto written = write_file(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  if (!written) return written.error();
  return path;
}

namespace {

// The file a finding's case was saved to, or why it was not.
std::string saved_case(const AcceptOptions& options, uint64_t seed, const fuzz::GeneratedCase& c,
                       const oracle::Outcome& ours) {
  auto written = write_accept_case(options, seed, c, ours);
  return written ? *written : "not saved: " + written.error().message;
}

}  // namespace

double AcceptReport::acceptance_percent() const {
  const uint64_t judged = accepted + rejected;
  return judged == 0 ? 0.0 : 100.0 * static_cast<double>(accepted) / static_cast<double>(judged);
}

double AcceptReport::programs_per_second() const {
  return seconds > 0 ? static_cast<double>(programs) / seconds : 0.0;
}

Result<AcceptReport> measure_acceptance(const AcceptOptions& options,
                                        const std::function<void(uint64_t)>& progress) {
  auto kernel = oracle::make_engine(options.engine);
  if (!kernel) return kernel.error();
  oracle::use_reason_only_logs(**kernel);
  auto interp = oracle::make_engine("interp");
  if (!interp) return interp.error();

  AcceptReport report;
  report.options = options;
  const std::vector<isa::Form> forms = fuzz::kernel_friendly_forms(options.isa_version);
  std::vector<FormCoverage> coverage(isa::kNumForms);

  auto cases = fuzz::CaseSource::create(
      {options.generator, options.isa_version, options.max_instructions, options.mutate_rate});
  if (!cases) return cases.error();
  report.patterns.assign(fuzz::kNumStressPatterns, {0, 0});
  std::unique_ptr<oracle::VerifierStateChecker> states;
  if (options.check_states) {
    auto checker = oracle::VerifierStateChecker::create();
    if (!checker) return checker.error();
    states = std::move(checker).value();
  }
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < options.count; ++i) {
    const uint64_t seed = options.seed + i;
    const fuzz::GeneratedCase c = cases->next(seed);
    const oracle::EngineInput input = fuzz::engine_input(c);
    const oracle::Outcome ours = (*interp)->run(c.program, input);
    const oracle::Outcome theirs = (*kernel)->run(c.program, input);
    ++report.programs;

    const oracle::KernelOutcome* k = theirs.kernel ? &*theirs.kernel : nullptr;
    const oracle::kernel::KernelVerdict verdict = k ? k->verdict : oracle::kernel::KernelVerdict::Failed;
    if (k && report.kernel_release.empty()) report.kernel_release = k->release;
    if (k) {
      constexpr std::size_t kSlowest = 5;
      const double ms = static_cast<double>(k->duration_ns) / 1e6;
      report.slowest.emplace_back(seed, ms);
      std::sort(report.slowest.begin(), report.slowest.end(),
                [](const auto& a, const auto& b) { return a.second > b.second; });
      if (report.slowest.size() > kSlowest) report.slowest.pop_back();
    }
    const std::vector<bool> held = forms_of(c.program);
    for (std::size_t f = 0; f < held.size(); ++f) {
      if (!held[f]) continue;
      ++coverage[f].generated;
      if (verdict == oracle::kernel::KernelVerdict::Accepted) ++coverage[f].accepted;
    }
    const bool accepted = verdict == oracle::kernel::KernelVerdict::Accepted;
    report.mutants += cases->last_was_mutant() ? 1 : 0;
    report.mutants_accepted += cases->last_was_mutant() && accepted ? 1 : 0;
    for (std::size_t p = 0; p < fuzz::kNumStressPatterns; ++p) {
      if ((cases->last_patterns() >> p & 1) == 0) continue;
      ++report.patterns[p].first;
      report.patterns[p].second += accepted ? 1 : 0;
    }
    if (accepted) cases->accepted(c);
    if (accepted && states) {
      const oracle::StateCheckResult r = states->check(c.program, c.memory);
      report.states_checked += r.status == oracle::CheckStatus::Checked ? 1 : 0;
      for (const oracle::StateViolation& v : r.violations) {
        AcceptFinding finding{seed, "verifier-state", v.describe(), ""};
        if (!options.findings_dir.empty()) finding.file = saved_case(options, seed, c, ours);
        report.findings.push_back(finding);
      }
    }
    switch (verdict) {
      case oracle::kernel::KernelVerdict::Accepted:
        ++report.accepted;
        break;
      case oracle::kernel::KernelVerdict::Rejected:
        ++report.rejected;
        count_example(report.rejections, k->rejection_reason, seed, k->log, c.program);
        break;
      case oracle::kernel::KernelVerdict::Unsupported:
      case oracle::kernel::KernelVerdict::Failed:
        ++report.unsupported;
        break;
    }

    const oracle::KernelComparison cmp = oracle::compare_with_kernel(ours, theirs);
    ++report.agreement[oracle::to_string(cmp.kind)];
    if (cmp.kind == oracle::KernelAgreement::NotComparable) {
      std::string reason = cmp.reason.substr(0, cmp.reason.find('\n'));
      if (auto colon = reason.find(": pc "); colon != std::string::npos) reason.resize(colon);
      count_example(report.not_comparable, reason.substr(0, 100), seed, k ? k->log : "", c.program);
    }
    if (cmp.finding()) {
      std::string title = cmp.reason;
      if (!cmp.differences.empty()) title += (title.empty() ? "" : ": ") + cmp.differences.front().field;
      AcceptFinding finding{seed, oracle::to_string(cmp.kind), title, ""};
      if (!options.findings_dir.empty()) finding.file = saved_case(options, seed, c, ours);
      report.findings.push_back(finding);
    }
    if (progress) progress(i + 1);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (isa::Form f : forms) {
    FormCoverage fc = coverage[static_cast<std::size_t>(f)];
    fc.form = f;
    report.forms.push_back(fc);
  }
  return report;
}

std::string format_accept_report(const AcceptReport& r, std::size_t top) {
  char line[256];
  std::string out;
  std::snprintf(line, sizeof line, "%s (%s), ISA %s, %llu programs from seed %llu, at most %zu slots each\n",
                r.options.engine.c_str(), r.kernel_release.empty() ? "?" : r.kernel_release.c_str(),
                isa_name(r.options.isa_version), static_cast<unsigned long long>(r.programs),
                static_cast<unsigned long long>(r.options.seed), r.options.max_instructions);
  out += line;
  std::snprintf(line, sizeof line,
                "verifier: %llu accepted, %llu rejected: acceptance %s; %llu unsupported or failed\n",
                static_cast<unsigned long long>(r.accepted), static_cast<unsigned long long>(r.rejected),
                percent(r.acceptance_percent()).c_str(), static_cast<unsigned long long>(r.unsupported));
  out += line;
  out += "against interp:";
  for (const auto& [kind, n] : r.agreement)
    out += " " + std::to_string(n) + " " + kind + ",";
  out.back() = '\n';
  std::snprintf(line, sizeof line, "findings: %zu; %.1f s, %.0f programs/s\n", r.findings.size(), r.seconds,
                r.programs_per_second());
  out += line;
  if (!r.slowest.empty()) {
    out += "slowest in the kernel (seed: ms):";
    for (const auto& [seed, ms] : r.slowest) {
      std::snprintf(line, sizeof line, " %llu: %.1f", static_cast<unsigned long long>(seed), ms);
      out += line;
    }
    out += "\n";
  }
  for (const AcceptFinding& f : r.findings)
    out += "  seed " + std::to_string(f.seed) + ": " + f.kind + " " + f.title +
           (f.file.empty() ? "" : " (" + f.file + ")") + "\n";

  const auto show = [&](const char* heading, const std::map<std::string, AcceptExample>& by_reason) {
    if (by_reason.empty()) return;
    out += std::string("\n") + heading + ":\n";
    std::size_t shown = 0;
    for (const auto& [reason, e] : most_frequent(by_reason)) {
      if (shown++ == top) break;
      out += "  " + std::to_string(e->count) + "  " + reason + "\n";
      out += "    example: seed " + std::to_string(e->seed) + " (bpfdiff kernel accept --count 1 --seed " +
             std::to_string(e->seed) + " --isa " + isa_name(r.options.isa_version) + ")";
      if (!e->log_line.empty()) out += "; log: " + e->log_line;
      out += "\n";
      std::size_t at = 0;
      for (int lines = 0; at < e->disassembly.size() && lines < 400; ++lines) {
        const std::size_t nl = e->disassembly.find('\n', at);
        out += "      " + e->disassembly.substr(at, nl - at) + "\n";
        if (nl == std::string::npos) break;
        at = nl + 1;
      }
    }
  };
  show("top rejection reasons", r.rejections);
  show("not comparable", r.not_comparable);

  out += "\nforms (programs holding the form: generated / accepted):\n";
  std::vector<std::string> never;
  std::string row;
  for (const FormCoverage& f : r.forms) {
    std::snprintf(line, sizeof line, "  %-20s %6llu / %-6llu", std::string(isa::info(f.form).name).c_str(),
                  static_cast<unsigned long long>(f.generated), static_cast<unsigned long long>(f.accepted));
    row += line;
    if (row.size() > 100) {
      out += row + "\n";
      row.clear();
    }
    if (f.accepted == 0) never.emplace_back(isa::info(f.form).name);
  }
  if (!row.empty()) out += row + "\n";
  if (r.options.check_states) {
    std::snprintf(line, sizeof line,
                  "verifier-state oracle: %llu accepted programs replayed against their logs\n",
                  static_cast<unsigned long long>(r.states_checked));
    out += line;
  }
  if (r.mutants > 0) {
    std::snprintf(line, sizeof line, "mutants of accepted programs: %llu, of which %llu accepted\n",
                  static_cast<unsigned long long>(r.mutants),
                  static_cast<unsigned long long>(r.mutants_accepted));
    out += line;
  }
  bool any_pattern = false;
  for (std::size_t p = 0; p < r.patterns.size(); ++p) {
    if (r.patterns[p].first == 0) continue;
    if (!any_pattern) out += "verifier-stress patterns (programs holding it: generated / accepted):\n";
    any_pattern = true;
    std::snprintf(line, sizeof line, "  %-18s %6llu / %-6llu\n",
                  std::string(fuzz::stress_pattern_name(static_cast<fuzz::StressPattern>(p))).c_str(),
                  static_cast<unsigned long long>(r.patterns[p].first),
                  static_cast<unsigned long long>(r.patterns[p].second));
    out += line;
  }
  out += "forms never accepted:";
  if (never.empty()) out += " none";
  for (const std::string& n : never)
    out += " " + n;
  out += "\n";
  return out;
}

nlohmann::json accept_report_json(const AcceptReport& r) {
  nlohmann::json j;
  j["engine"] = r.options.engine;
  j["kernel_release"] = r.kernel_release;
  j["isa"] = isa_name(r.options.isa_version);
  j["seed"] = r.options.seed;
  j["max_instructions"] = r.options.max_instructions;
  j["programs"] = r.programs;
  j["accepted"] = r.accepted;
  j["rejected"] = r.rejected;
  j["unsupported"] = r.unsupported;
  j["acceptance_percent"] = r.acceptance_percent();
  j["seconds"] = r.seconds;
  j["programs_per_second"] = r.programs_per_second();
  j["agreement"] = r.agreement;
  j["slowest"] = nlohmann::json::array();
  for (const auto& [seed, ms] : r.slowest)
    j["slowest"].push_back({{"seed", seed}, {"ms", ms}});
  const auto reasons = [](const std::map<std::string, AcceptExample>& by_reason) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& [reason, e] : most_frequent(by_reason)) {
      a.push_back({{"reason", reason},
                   {"count", e->count},
                   {"example_seed", e->seed},
                   {"log_line", e->log_line},
                   {"example", e->disassembly}});
    }
    return a;
  };
  j["rejections"] = reasons(r.rejections);
  j["not_comparable"] = reasons(r.not_comparable);
  j["findings"] = nlohmann::json::array();
  for (const AcceptFinding& f : r.findings)
    j["findings"].push_back({{"seed", f.seed}, {"kind", f.kind}, {"title", f.title}, {"file", f.file}});
  j["generator"] = r.options.generator;
  j["mutants"] = r.mutants;
  j["states_checked"] = r.states_checked;
  j["mutants_accepted"] = r.mutants_accepted;
  j["patterns"] = nlohmann::json::object();
  for (std::size_t p = 0; p < r.patterns.size(); ++p) {
    if (r.patterns[p].first == 0) continue;
    j["patterns"][std::string(fuzz::stress_pattern_name(static_cast<fuzz::StressPattern>(p)))] = {
        {"generated", r.patterns[p].first}, {"accepted", r.patterns[p].second}};
  }
  j["forms"] = nlohmann::json::array();
  for (const FormCoverage& f : r.forms) {
    j["forms"].push_back({{"form", std::string(isa::info(f.form).name)},
                          {"generated", f.generated},
                          {"accepted", f.accepted}});
  }
  return j;
}

}  // namespace bpfdiff::cli
