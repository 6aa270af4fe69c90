#include "fuzz/findings/target_input.hpp"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "oracle/engine.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;

struct TargetLayout {
  std::string_view name;
  FindingLayout layout;
};

constexpr TargetLayout kTargets[] = {
    {"asm_roundtrip", FindingLayout::Asm},
    {"elf_gen", FindingLayout::ElfGen},  // the run of the object the target stops at
    {"elf_loader", FindingLayout::Program},
    {"interp_raw", FindingLayout::Raw},
    {"interp_vs_jit_gen", FindingLayout::Generated},
    {"interp_vs_jit_insn", FindingLayout::SingleInsn},
    {"interp_vs_jit_raw", FindingLayout::Raw},
    {"interp_vs_kernel", FindingLayout::Kernel},
    {"jit_decode", FindingLayout::JitDecode},
    {"smt_vs_engines", FindingLayout::LoopFree},
};

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names)
    out += (out.empty() ? "" : ",") + n;
  return out;
}

// A libFuzzer/AFL campaign names generic findings "<target>.<title>".
std::optional<std::string> target_of_key(const std::string& key) {
  for (const TargetLayout& t : kTargets) {
    if (key.size() > t.name.size() && key.compare(0, t.name.size(), t.name) == 0 && key[t.name.size()] == '.')
      return std::string(t.name);
  }
  return std::nullopt;
}

Result<ReplayTarget> from_finding_dir(const fs::path& dir, const std::string& target) {
  std::error_code ec;
  ReplayTarget out;
  const bool has_data = fs::exists(dir / "case.data", ec);
  if (fs::exists(dir / "finding.json", ec) && (has_data || fs::exists(dir / "input.raw", ec))) {
    // A kernel campaign's finding: its .data test, which carries the maps;
    // a finding written before there was one has its raw input only.
    std::ifstream in(dir / "finding.json");
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return make_error((dir / "finding.json").string() + ": not JSON");
    if (has_data) {
      out.file = (dir / "case.data").string();
    } else {
      out.file = (dir / "input.raw").string();
      out.layout = to_string(FindingLayout::Raw);
    }
    if (j.contains("engines") && j["engines"].is_array()) {
      for (const auto& e : j["engines"])
        if (e.is_string()) out.engines.push_back(e.get<std::string>());
    }
    if (j.contains("budget") && j["budget"].is_number_unsigned()) out.budget = j["budget"].get<uint64_t>();
    return out;
  }
  // A divergence triaged in process: its regression test carries memory,
  // budget and the expected result.
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".data") {
      out.file = entry.path().string();
      return out;
    }
  }
  out.target = !target.empty() ? target : target_of_key(dir.filename().string()).value_or("");
  if (out.target.empty())
    return make_error(dir.string() + ": no finding.json, .data test or target in its name; give --target");
  for (const char* name : {"minimized", "input"}) {
    if (fs::exists(dir / name, ec)) {
      out.file = (dir / name).string();
      break;
    }
  }
  if (out.file.empty()) return make_error(dir.string() + ": no input or minimized file in it");
  auto layout = input_layout_of_target(out.target);
  if (!layout) return layout.error();
  out.layout = to_string(*layout);
  out.engines = engines_of_target(out.target);
  return out;
}

}  // namespace

std::vector<std::string> fuzz_target_names() {
  std::vector<std::string> out;
  for (const TargetLayout& t : kTargets)
    out.emplace_back(t.name);
  return out;
}

Result<FindingLayout> input_layout_of_target(std::string_view target) {
  for (const TargetLayout& t : kTargets) {
    if (t.name == target) return t.layout;
  }
  return make_error("unknown fuzz target '" + std::string(target) + "' (" + join(fuzz_target_names()) + ")");
}

std::vector<std::string> engines_of_target(std::string_view target) {
  if (target == "interp_vs_kernel") return {"interp", "kernel-host"};
  if (target == "smt_vs_engines") return {"interp", "smt"};
  // These compare the interpreter with the JIT option set the input selects
  // (differential.hpp): a crash file reproduces on the set it chose only
  // when every set runs.
  if (target == "interp_vs_jit_gen" || target == "interp_vs_jit_raw" || target == "interp_vs_jit_insn" ||
      target == "elf_gen") {
    return oracle::engine_names();
  }
  return {"interp", "jit"};
}

Result<ReplayTarget> resolve_replay_target(const std::string& path, const std::string& target) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return from_finding_dir(path, target);
  ReplayTarget out;
  out.file = path;
  if (target.empty()) return out;
  auto layout = input_layout_of_target(target);
  if (!layout) return layout.error();
  out.target = target;
  out.layout = to_string(*layout);
  out.engines = engines_of_target(target);
  return out;
}

Result<void> apply_replay_target(const std::string& target, std::string& file, std::string& layout,
                                 std::vector<std::string>* engines, bool engines_given, uint64_t& budget) {
  auto resolved = resolve_replay_target(file, target);
  if (!resolved) return resolved.error();
  file = resolved->file;
  if (layout.empty()) layout = resolved->layout;
  if (engines != nullptr && !engines_given && !resolved->engines.empty()) *engines = resolved->engines;
  if (budget == 0) budget = resolved->budget;
  return {};
}

std::string target_repro_command(const std::string& file, std::string_view target) {
  return "bpfdiff repro " + file + " --target " + std::string(target) + " --engines " +
         join(engines_of_target(target));
}

}  // namespace bpfdiff::cli
