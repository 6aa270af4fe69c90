// Every fuzz target's inputs replay as the target ran them
// (fuzz/findings/target_input.hpp): `--target NAME` picks the layout and
// engines, a campaign's finding directory is recognised, and every finding
// of a campaign names a `bpfdiff repro` command that shows its program.
#include "fuzz/findings/target_input.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/utsname.h>

#include "fuzz/campaign/campaign_triage.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "fuzz/kernel_mix.hpp"
#include "oracle/engine.hpp"
#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

namespace fs = std::filesystem;
const std::string kBpfdiff = BPFDIFF_BIN;

std::string bytes_text(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// An interp_vs_kernel input whose first byte picks the verifier-stressing
// generator: read as a raw input it would be a different program.
std::vector<uint8_t> kernel_target_input() {
  std::vector<uint8_t> bytes(400);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>(i * 131 + 7);
  bytes[0] = 2;  // even: generated; bits 1-2 = 1: verifier-stress
  return bytes;
}

std::size_t generated_slots(const std::vector<uint8_t>& bytes) {
  utsname u{};
  const auto isa = fuzz::isa_version_for_kernel(uname(&u) == 0 ? u.release : "");
  return fuzz::kernel_target_case(bytes, isa).value().c.program.slots.size();
}

TEST(TargetInput, EveryFuzzTargetHasALayoutAndEngines) {
  std::vector<std::string> sources;
  for (const auto& entry : fs::directory_iterator(fs::path(BPFDIFF_SOURCE_DIR) / "fuzz" / "targets"))
    sources.push_back(entry.path().stem().string());
  std::sort(sources.begin(), sources.end());
  EXPECT_EQ(fuzz_target_names(), sources) << "a target without a layout cannot be replayed";
  for (const std::string& t : fuzz_target_names()) {
    EXPECT_TRUE(input_layout_of_target(t)) << t;
    EXPECT_GE(engines_of_target(t).size(), 2u) << t;
  }
  EXPECT_EQ(engines_of_target("interp_vs_kernel"), (std::vector<std::string>{"interp", "kernel-host"}));
  EXPECT_FALSE(input_layout_of_target("no_such_target"));
}

TEST(TargetInput, AKernelTargetInputIsReadAsTheProgramTheTargetRan) {
  TempDir dir;
  const auto bytes = kernel_target_input();
  const std::string file = dir.write("crash-1", bytes_text(bytes));
  auto c = read_finding(file, input_layout_of_target("interp_vs_kernel").value());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->program.slots.size(), generated_slots(bytes));
  EXPECT_EQ(c->budget, fuzz::kGeneratedInstructionBudget);

  const auto r =
      run_process({kBpfdiff, "repro", file, "--target", "interp_vs_kernel", "--engines", "interp,jit"});
  EXPECT_NE(r.out.find("kernel input, " + std::to_string(generated_slots(bytes)) + " slots"),
            std::string::npos)
      << r.out << r.err;
}

TEST(TargetInput, ACampaignFindingDirectoryIsRecognised) {
  TempDir dir;
  // A kernel campaign's finding: input.raw with its engines and budget.
  const fs::path kernel = fs::path(dir.path()) / "interp-vs-kernel-host.mismatch.state";
  fs::create_directories(kernel);
  std::ofstream(kernel / "finding.json") << R"({"engines": ["interp", "kernel-host"], "budget": 10000})";
  std::ofstream(kernel / "input.raw") << "x";
  auto k = resolve_replay_target(kernel.string(), "");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->file, (kernel / "input.raw").string());
  EXPECT_EQ(k->layout, "raw");
  EXPECT_EQ(k->engines, (std::vector<std::string>{"interp", "kernel-host"}));
  EXPECT_EQ(k->budget, 10000u);
  // One written since it has a .data test: that, which carries the maps.
  std::ofstream(kernel / "case.data") << "-- asm\nexit\n";
  auto d = resolve_replay_target(kernel.string(), "");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->file, (kernel / "case.data").string());
  EXPECT_EQ(d->layout, "");
  EXPECT_EQ(d->engines, (std::vector<std::string>{"interp", "kernel-host"}));
  EXPECT_EQ(d->budget, 10000u);

  // A libFuzzer campaign's: the target is the key's prefix; the minimized
  // input is preferred.
  const fs::path generic = fs::path(dir.path()) / "interp_vs_kernel.mismatch-r0";
  fs::create_directories(generic);
  std::ofstream(generic / "input") << "x";
  auto g = resolve_replay_target(generic.string(), "");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->target, "interp_vs_kernel");
  EXPECT_EQ(g->layout, "kernel");
  EXPECT_EQ(g->file, (generic / "input").string());
  std::ofstream(generic / "minimized") << "y";
  EXPECT_EQ(resolve_replay_target(generic.string(), "")->file, (generic / "minimized").string());

  const fs::path unknown = fs::path(dir.path()) / "something";
  fs::create_directories(unknown);
  EXPECT_FALSE(resolve_replay_target(unknown.string(), ""));
  EXPECT_FALSE(resolve_replay_target(unknown.string(), "interp_raw")) << "no input in it";
}

TEST(TargetInput, ACrashOfAnyTargetNamesABpfdiffReproCommand) {
  TempDir out;
  const auto bytes = kernel_target_input();
  fs::create_directories(fs::path(out.path()) / "crashes");
  out.write("crashes/leak-1", bytes_text(bytes));
  CampaignState state;
  state.crashes.push_back({"crashes/leak-1", "interp_vs_kernel", false, ""});
  TriageContext context;
  context.out_dir = out.path();
  context.fuzz_bin_dir = (fs::path(out.path()) / "no-binaries").string();
  ASSERT_TRUE(triage_crash(state, 0, context));
  ASSERT_EQ(state.findings.size(), 1u);
  const FindingRecord& f = state.findings.front();
  EXPECT_EQ(f.repro_command.rfind("bpfdiff repro ", 0), 0u) << f.repro_command;
  EXPECT_NE(f.repro_command.find("--target interp_vs_kernel --engines interp,kernel-host"), std::string::npos)
      << f.repro_command;
  EXPECT_NE(f.replay_command.find("fuzz_interp_vs_kernel"), std::string::npos) << f.replay_command;
  EXPECT_EQ(f.original_slots, generated_slots(bytes));
  EXPECT_EQ(f.minimized_slots, f.original_slots);
}

// interp_vs_jit_gen and _raw compare the option set each input selects, so
// their crash files replay on every set, the one the title names among them.
TEST(TargetInput, TheInterpVsJitTargetsReplayOnEveryOptionSet) {
  for (const char* target : {"interp_vs_jit_gen", "interp_vs_jit_raw", "interp_vs_jit_insn"}) {
    EXPECT_EQ(engines_of_target(target), oracle::engine_names()) << target;
    std::string all;
    for (const std::string& name : oracle::engine_names())
      all += (all.empty() ? "" : ",") + name;
    EXPECT_NE(target_repro_command("crash-1", target).find("--engines " + all), std::string::npos) << target;
  }
  const std::vector<std::string> interp_jit = {"interp", "jit"};
  EXPECT_EQ(engines_of_target("interp_raw"), interp_jit);
}

}  // namespace
}  // namespace bpfdiff::cli::testing
