#include "fuzz/gate/gate_report.hpp"

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "fuzz/run_modes.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::cli {
namespace {

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string phase_line(const GatePhaseStats& p, const GateOptions& options) {
  std::string what = std::to_string(p.programs) + " programs";
  if (p.phase == GatePhase::SingleInsn) what += " (" + std::to_string(options.insn_per_form) + " per form)";
  if (p.phase == GatePhase::Generated) what += " (seed " + std::to_string(options.seed) + ")";
  if (p.phase == GatePhase::Limits || p.phase == GatePhase::Elf)
    what += " in " + std::to_string(p.runs()) + " runs";
  if (p.phase != GatePhase::Corpus && p.phase != GatePhase::SingleInsn) {
    std::string modes;
    const auto names = fuzz::all_run_modes();
    for (std::size_t m = 0; m < names.size(); ++m)
      modes += (modes.empty() ? "" : ", ") + std::string(text::run_mode_name(names[m])) + " " +
               std::to_string(p.runs_by_mode[m]);
    what += " [" + modes + "]";
  }
  if (p.skipped > 0) what += ", " + std::to_string(p.skipped) + " skipped";
  std::string name = to_string(p.phase);
  name.resize(12, ' ');
  return "  " + name + what + " in " + fixed(p.seconds, 1) + " s\n";
}

}  // namespace

std::vector<std::string> gate_corpus_dirs(const std::vector<std::string>& given, std::string& note) {
  note.clear();
  if (!given.empty()) return given;
  std::error_code ec;
  if (std::filesystem::is_directory(kGateDefaultCorpus, ec)) return {kGateDefaultCorpus};
  note = std::string("no ./") + kGateDefaultCorpus + " directory and no --corpus: corpus phase is empty";
  return {};
}

std::string gate_summary_text(const GateReport& report, const GateOptions& options) {
  std::string out;
  for (const GatePhaseStats& p : report.phases)
    out += phase_line(p, options);
  out += "  total       " + std::to_string(report.total_programs()) + " programs in " +
         fixed(report.seconds, 1) + " s (" + fixed(report.programs_per_second(), 0) + " programs/s)\n";
  return out;
}

nlohmann::ordered_json gate_summary_json(const GateReport& report, const GateOptions& options) {
  nlohmann::ordered_json j;
  j["result"] = report.finding ? "fail" : "pass";
  j["engines"] = report.engines;
  j["seed"] = options.seed;
  j["insn_per_form"] = options.insn_per_form;
  j["corpus"] = options.corpus_dirs;
  auto phases = nlohmann::ordered_json::array();
  for (const GatePhaseStats& p : report.phases) {
    nlohmann::ordered_json modes;
    const auto names = fuzz::all_run_modes();
    for (std::size_t m = 0; m < names.size(); ++m)
      modes[text::run_mode_name(names[m])] = p.runs_by_mode[m];
    phases.push_back({{"phase", to_string(p.phase)},
                      {"programs", p.programs},
                      {"runs", p.runs()},
                      {"runs_by_mode", std::move(modes)},
                      {"skipped", p.skipped},
                      {"seconds", p.seconds}});
  }
  j["phases"] = std::move(phases);
  j["total_programs"] = report.total_programs();
  j["seconds"] = report.seconds;
  j["programs_per_second"] = report.programs_per_second();
  j["finding"] = nullptr;
  return j;
}

nlohmann::ordered_json gate_finding_json(const GateFinding& f, const std::optional<WrittenFinding>& written) {
  nlohmann::ordered_json j;
  j["phase"] = to_string(f.phase);
  j["case"] = f.gate_case.id;
  j["origin"] = f.gate_case.origin;
  j["engine"] = f.divergent_engine();
  j["signature"] =
      f.signature ? nlohmann::ordered_json(f.signature->title()) : nlohmann::ordered_json(nullptr);
  j["budget"] = f.gate_case.budget;
  j["mode"] = text::run_mode_name(f.gate_case.setup.mode.mode);
  j["max_call_depth"] = f.gate_case.setup.max_call_depth;
  // Of the prepared program: 1 the first, 2 the same input again, 3 the
  // varied input, 4 the first input after a map reset (kGateReruns).
  j["run"] = f.run + 1;
  auto diffs = nlohmann::ordered_json::array();
  for (const EngineDifference& d : f.differences) {
    diffs.push_back({{"left_engine", d.left},
                     {"right_engine", d.right},
                     {"field", d.difference.field},
                     {"left", d.difference.left},
                     {"right", d.difference.right}});
  }
  j["differences"] = std::move(diffs);
  if (written) {
    j["input"] = written->input_path;
    j["data"] = written->data_path;
    j["repro_command"] = written->repro_command;
    j["diff_command"] = written->diff_command;
  }
  return j;
}

RecordedGateFinding record_gate_finding(const GateReport& report, const GateOptions& options,
                                        const std::string& out_dir) {
  const GateFinding& f = *report.finding;
  RecordedGateFinding out;
  auto written = write_finding(f, out_dir, report.engines);
  if (written) {
    out.files = *written;
  } else {
    out.write_error = written.error().message;
  }
  out.text = format_finding(f, out.files ? &*out.files : nullptr);
  out.text += "after:\n" + gate_summary_text(report, options);
  out.json = gate_summary_json(report, options);
  out.json["finding"] = gate_finding_json(f, out.files);
  return out;
}

std::optional<std::string> GateProgressLines::operator()(GatePhase phase, std::size_t done,
                                                         std::size_t total) {
  if (!phase_ || *phase_ != phase) {
    phase_ = phase;
    start_ = std::chrono::steady_clock::now();
  }
  if (!throttle_.ready()) return std::nullopt;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return "gate: " + std::string(to_string(phase)) + " " + std::to_string(done) + "/" + std::to_string(total) +
         " (" + fixed(s > 0 ? static_cast<double>(done) / s : 0, 0) + " programs/s)\n";
}

}  // namespace bpfdiff::cli
