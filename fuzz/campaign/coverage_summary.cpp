#include "fuzz/campaign/coverage_summary.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "fuzz/campaign/subprocess.hpp"
#include "oracle/run/input.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;

CoverageCount count_of(const nlohmann::json& summary, const char* key) {
  const auto it = summary.find(key);
  if (it == summary.end()) return {};
  return {it->value("count", uint64_t{0}), it->value("covered", uint64_t{0})};
}

void add(CoverageCount& to, const CoverageCount& c) {
  to.count += c.count;
  to.covered += c.covered;
}

nlohmann::ordered_json count_json(const CoverageCount& c) {
  return {{"count", c.count}, {"covered", c.covered}, {"percent", c.percent()}};
}

}  // namespace

Result<CoverageSummary> parse_llvm_cov_export(const nlohmann::json& j, const std::string& source_root) {
  CoverageSummary out;
  if (!j.contains("data") || !j["data"].is_array() || j["data"].empty()) {
    return make_error("llvm-cov export: no \"data\" in its output");
  }
  std::string root = source_root;
  if (!root.empty() && root.back() != '/') root += '/';
  for (const auto& file : j["data"][0].value("files", nlohmann::json::array())) {
    std::string name = file.value("filename", std::string());
    if (!root.empty()) {
      if (name.rfind(root, 0) != 0) continue;
      name = name.substr(root.size());
    }
    // Build trees and tests are not what a campaign covers.
    if (name.rfind("build", 0) == 0 || name.rfind("tests/", 0) == 0) continue;
    const nlohmann::json& summary = file.value("summary", nlohmann::json::object());
    FileCoverage f{name, count_of(summary, "lines"), count_of(summary, "functions"),
                   count_of(summary, "regions")};
    add(out.lines, f.lines);
    add(out.functions, f.functions);
    add(out.regions, f.regions);
    out.files.push_back(std::move(f));
  }
  std::sort(out.files.begin(), out.files.end(),
            [](const FileCoverage& a, const FileCoverage& b) { return a.file < b.file; });
  return out;
}

nlohmann::ordered_json to_json(const CoverageSummary& s) {
  nlohmann::ordered_json j;
  j["lines"] = count_json(s.lines);
  j["functions"] = count_json(s.functions);
  j["regions"] = count_json(s.regions);
  j["files"] = nlohmann::ordered_json::array();
  for (const FileCoverage& f : s.files) {
    j["files"].push_back({{"file", f.file},
                          {"lines", count_json(f.lines)},
                          {"functions", count_json(f.functions)},
                          {"regions", count_json(f.regions)}});
  }
  return j;
}

Result<CoverageSummary> measure_coverage(const CoverageRun& run) {
  std::error_code ec;
  fs::create_directories(run.out_dir, ec);
  if (ec) return make_error(run.out_dir + ": " + ec.message());
  std::vector<std::string> binaries;
  std::vector<std::string> profiles;
  const std::string scratch = (fs::path(run.out_dir) / "run.log").string();
  for (const auto& [target, corpus] : run.corpora) {
    const fs::path bin = fs::path(run.coverage_bin_dir) / ("fuzz_" + target + "_replay");
    if (!fs::exists(bin, ec)) continue;
    if (!fs::is_directory(corpus, ec) || fs::is_empty(corpus, ec)) continue;
    const std::string profile = (fs::path(run.out_dir) / (target + ".profraw")).string();
    fs::remove(profile, ec);
    auto r = run_to_completion({bin.string(), corpus}, scratch, std::chrono::seconds(600),
                               {{"LLVM_PROFILE_FILE", profile}});
    if (!r) return r.error();
    if (!fs::exists(profile, ec)) continue;  // the replay died before writing its profile
    binaries.push_back(bin.string());
    profiles.push_back(profile);
  }
  if (binaries.empty()) {
    return make_error("no coverage replay binaries in " + run.coverage_bin_dir +
                      " (build them with: cmake --preset coverage && cmake --build --preset coverage)");
  }
  const std::string merged = (fs::path(run.out_dir) / "merged.profdata").string();
  std::vector<std::string> merge = {"llvm-profdata-14", "merge", "-sparse", "-o", merged};
  merge.insert(merge.end(), profiles.begin(), profiles.end());
  auto m = run_to_completion(merge, scratch, std::chrono::seconds(300));
  if (!m) return m.error();
  if (m->exit_code != 0) return make_error("llvm-profdata-14 merge failed: " + m->output);

  std::vector<std::string> objects;
  for (std::size_t i = 0; i < binaries.size(); ++i) {
    if (i > 0) objects.push_back("-object");
    objects.push_back(binaries[i]);
  }
  std::vector<std::string> report = {"llvm-cov-14", "report", "-instr-profile=" + merged};
  report.insert(report.end(), objects.begin(), objects.end());
  if (auto r = run_to_completion(report, scratch, std::chrono::seconds(300)); r && r->exit_code == 0) {
    const auto* p = reinterpret_cast<const uint8_t*>(r->output.data());
    (void)write_file((fs::path(run.out_dir) / "report.txt").string(), {p, r->output.size()});
  }
  // Export goes through a file: its JSON is large and run_to_completion reads the log back whole.
  std::vector<std::string> exporter = {"llvm-cov-14", "export", "-summary-only", "-instr-profile=" + merged};
  exporter.insert(exporter.end(), objects.begin(), objects.end());
  const std::string export_log = (fs::path(run.out_dir) / "export").string();
  auto e = run_to_completion(exporter, export_log + ".tmp", std::chrono::seconds(300), {}, true);
  if (!e) return e.error();
  if (e->exit_code != 0) return make_error("llvm-cov-14 export failed: " + e->output.substr(0, 500));
  const auto j = nlohmann::json::parse(e->output, nullptr, false);
  if (j.is_discarded()) return make_error("llvm-cov-14 export: output is not JSON");
  return parse_llvm_cov_export(j, run.source_root);
}

}  // namespace bpfdiff::cli
