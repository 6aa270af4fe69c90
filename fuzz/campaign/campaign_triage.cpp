#include "fuzz/campaign/campaign_triage.hpp"

#include <chrono>
#include <filesystem>

#include "fuzz/campaign/subprocess.hpp"
#include "fuzz/findings/atomic_file.hpp"
#include "fuzz/findings/finding.hpp"
#include "fuzz/findings/target_input.hpp"
#include "fuzz/signature.hpp"
#include "oracle/run/input.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFindingMarker = "==bpfdiff== FINDING: ";
constexpr std::string_view kSummaryMarker = "SUMMARY: ";
constexpr std::size_t kMaxKeyTitle = 80;

std::string line_after(std::string_view output, std::string_view marker) {
  const std::size_t at = output.find(marker);
  if (at == std::string_view::npos) return {};
  std::string_view rest = output.substr(at + marker.size());
  return std::string(rest.substr(0, rest.find('\n')));
}

// A sanitizer summary without the source position, which moves with every
// edit: "AddressSanitizer: heap-buffer-overflow /x/y.cpp:12:3 in f" ->
// "AddressSanitizer: heap-buffer-overflow in f".
std::string without_position(std::string summary) {
  const std::size_t in = summary.rfind(" in ");
  const std::size_t slash = summary.find(" /");
  if (slash != std::string::npos && (in == std::string::npos || slash < in)) {
    summary.erase(slash, in == std::string::npos ? std::string::npos : in - slash);
  }
  return summary;
}

Result<void> copy_atomically(const std::string& from, const fs::path& to) {
  auto bytes = read_file(from);
  if (!bytes) return bytes.error();
  return write_file_atomically(to.string(), *bytes);
}

std::string rel(const std::string& out_dir, const fs::path& p) {
  return fs::relative(p, out_dir).string();
}

// A divergence finding: signature, dedup, minimized .data.
Result<bool> triage_divergence(CampaignState& state, CrashRecord& crash, const TriageContext& ctx) {
  const auto layout = layout_of_target(crash.target);
  if (!layout || ctx.engines == nullptr) return false;
  const std::string path = (fs::path(ctx.out_dir) / crash.file).string();
  auto c = read_finding(path, *layout);
  if (!c) return false;
  const auto signature = signature_of(*c, *ctx.engines);
  if (!signature) return false;  // the engines agree: it died some other way
  const std::string key = signature->key();
  crash.signature = key;
  crash.triaged = true;
  if (FindingRecord* f = state.finding(key)) {
    ++f->count;
    return true;
  }
  const fs::path dir = fs::path(ctx.out_dir) / "findings" / key;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(dir.string() + ": " + ec.message());
  if (auto w = copy_atomically(path, dir / "input"); !w) return w.error();

  fuzz::MinimizeOptions options;
  options.max_tests = ctx.max_minimize_tests;
  const MinimizedFinding m = minimize_finding(*c, *signature, *ctx.engines, options);
  auto data = write_regression_test(m, crash.file, dir.string());
  if (!data) return data.error();

  FindingRecord f;
  f.key = key;
  f.title = signature->title();
  f.target = crash.target;
  f.kind = "divergence";
  f.first_input = rel(ctx.out_dir, dir / "input");
  f.count = 1;
  f.minimized = rel(ctx.out_dir, *data);
  f.original_slots = c->program.slots.size();
  f.minimized_slots = m.minimized.program.slots.size();
  f.repro_command = "bpfdiff repro " + *data + " --budget " + std::to_string(m.minimized.budget) +
                    " --engines " + signature->reference + "," + signature->engine;
  state.findings.push_back(std::move(f));
  return true;
}

// Every target's input reads as a program (fuzz/findings/target_input.hpp):
// the finding names the `bpfdiff repro` command that shows it on the
// target's engines, and its size before and after minimization; the target
// binary's own replay stays beside it (a sanitizer report needs it).
void name_bpfdiff_repro(FindingRecord& f, const std::string& target, const fs::path& dir) {
  auto layout = input_layout_of_target(target);
  if (!layout) return;
  std::error_code ec;
  const fs::path minimized = dir / "minimized";
  const fs::path file = fs::exists(minimized, ec) ? minimized : dir / "input";
  f.replay_command = f.repro_command;
  f.repro_command = target_repro_command(file.string(), target);
  if (auto c = read_finding((dir / "input").string(), *layout)) f.original_slots = c->program.slots.size();
  f.minimized_slots = f.original_slots;
  if (file == minimized) {
    if (auto c = read_finding(minimized.string(), *layout)) f.minimized_slots = c->program.slots.size();
  }
}

Result<void> triage_by_replay(CampaignState& state, CrashRecord& crash, const TriageContext& ctx) {
  const std::string path = (fs::path(ctx.out_dir) / crash.file).string();
  const std::string bin = (fs::path(ctx.fuzz_bin_dir) / ("fuzz_" + crash.target)).string();
  const std::string scratch = (fs::path(ctx.out_dir) / "logs" / "triage.log").string();
  const std::string name = fs::path(crash.file).filename().string();
  CrashTitle title{"crash", "crash"};
  std::error_code ec;
  if (fs::exists(bin, ec)) {
    auto run = run_to_completion({bin, path}, scratch, std::chrono::seconds(60));
    if (!run) return run.error();
    title = title_from_output(run->output, run->timed_out ? -1 : run->exit_code, name);
  } else {
    title = title_from_output("", -1, name);
  }
  const std::string key = generic_finding_key(crash.target, title.title);
  crash.signature = key;
  crash.triaged = true;
  if (FindingRecord* f = state.finding(key)) {
    ++f->count;
    return {};
  }
  const fs::path dir = fs::path(ctx.out_dir) / "findings" / key;
  fs::create_directories(dir, ec);
  if (ec) return make_error(dir.string() + ": " + ec.message());
  if (auto w = copy_atomically(path, dir / "input"); !w) return w.error();

  FindingRecord f;
  f.key = key;
  f.title = title.title;
  f.target = crash.target;
  f.kind = title.kind;
  f.first_input = rel(ctx.out_dir, dir / "input");
  f.count = 1;
  f.repro_command = bin + " " + (dir / "input").string();
  if (ctx.libfuzzer && fs::exists(bin, ec) && title.kind != "timeout" && title.kind != "oom") {
    const fs::path minimized = dir / "minimized";
    auto run = run_to_completion(
        {bin, "-minimize_crash=1", "-max_total_time=20", "-exact_artifact_path=" + minimized.string(), path},
        scratch, std::chrono::seconds(60));
    if (run && fs::exists(minimized, ec)) {
      f.minimized = rel(ctx.out_dir, minimized);
      f.repro_command = bin + " " + minimized.string();
    }
  }
  name_bpfdiff_repro(f, crash.target, dir);
  state.findings.push_back(std::move(f));
  return {};
}

}  // namespace

CrashTitle title_from_output(std::string_view output, int exit_code, std::string_view artifact_name) {
  if (artifact_name.rfind("timeout", 0) == 0) return {"timeout", "timeout"};
  if (artifact_name.rfind("oom", 0) == 0) return {"oom", "out of memory"};
  if (std::string t = line_after(output, kFindingMarker); !t.empty()) {
    // A divergence reported by a target this triage cannot run in process
    // (another layout, another engine pair) still says so in its title.
    return {fuzz::parse_divergence_title(t) ? "divergence" : "invariant", t};
  }
  if (std::string t = line_after(output, kSummaryMarker); !t.empty()) {
    return {"sanitizer", without_position(t)};
  }
  if (exit_code == 0) return {"crash", "does not reproduce"};
  return {"crash", "crash (exit status " + std::to_string(exit_code) + ")"};
}

std::string generic_finding_key(const std::string& target, const std::string& title) {
  std::string key = fuzz::file_safe(target + "." + title);
  if (key.size() > kMaxKeyTitle) key.resize(kMaxKeyTitle);
  return key;
}

Result<void> triage_crash(CampaignState& state, std::size_t index, const TriageContext& context) {
  CrashRecord& crash = state.crashes[index];
  const std::string name = fs::path(crash.file).filename().string();
  if (name.rfind("crash", 0) == 0 || name.rfind("id:", 0) == 0 || name.rfind("afl-", 0) == 0) {
    auto handled = triage_divergence(state, state.crashes[index], context);
    if (!handled) return handled.error();
    if (*handled) return {};
  }
  return triage_by_replay(state, state.crashes[index], context);
}

}  // namespace bpfdiff::cli
