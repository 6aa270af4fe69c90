// Kernel findings replay with their maps: a program that counts its runs in
// an array map and tail-calls itself through a program array, written as a
// kernel campaign finding and as a `kernel accept` finding, is read back the
// way `bpfdiff repro`, `diff` and `minimize` read it (resolve_replay_target,
// load_replay_input) with the same maps, and gives the same result and map
// contents on our engines; so is a `kernel check-states` violation's case.
// No kernel needed; the host-kernel half is
// tests/kernel/finding_replay_kernel_test.cpp.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "fuzz/differential.hpp"
#include "fuzz/findings/repro.hpp"
#include "fuzz/findings/target_input.hpp"
#include "fuzz/kernel_campaign/kernel_accept.hpp"
#include "fuzz/kernel_campaign/kernel_finding.hpp"
#include "fuzz/kernel_campaign/state_check_campaign.hpp"
#include "oracle/engine.hpp"
#include "tests/support/map_tail_call_program.hpp"
#include "tests/support/read_text.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

oracle::Outcome run_interp(const vm::Program& program, const oracle::EngineInput& input) {
  auto interp = oracle::make_engine("interp");
  EXPECT_TRUE(interp.ok());
  return (*interp)->run(program, input);
}

void expect_same_maps(const vm::Program& read, const vm::Program& written) {
  ASSERT_EQ(read.maps.size(), written.maps.size());
  for (std::size_t i = 0; i < read.maps.size(); ++i) {
    const vm::MapDef& r = read.maps[i];
    const vm::MapDef& w = written.maps[i];
    EXPECT_EQ(r.name, w.name);
    EXPECT_EQ(r.type, w.type);
    EXPECT_EQ(r.key_size, w.key_size);
    EXPECT_EQ(r.value_size, w.value_size);
    EXPECT_EQ(r.max_entries, w.max_entries);
    EXPECT_EQ(r.initial_values, w.initial_values) << "map " << i;
    EXPECT_EQ(r.prog_entries, w.prog_entries) << "map " << i;
  }
}

// Replays `path` as `bpfdiff repro PATH` would (a finding directory or a
// file), on the interpreter and the JIT, and checks it is the program that
// ran: the same slots and maps, the result and map contents of `original`.
void expect_faithful_replay(const std::string& path, const vm::Program& written,
                            const oracle::Outcome& original, uint64_t budget) {
  std::string file = path;
  std::string layout;
  std::vector<std::string> engines = {"interp", "jit"};
  uint64_t given_budget = 0;
  ASSERT_TRUE(apply_replay_target("", file, layout, &engines, true, given_budget).ok());
  auto input = load_replay_input(file, false, layout, oracle::default_helpers());
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_EQ(input->program.slots, written.slots);
  expect_same_maps(input->program, written);
  EXPECT_EQ(replay_budget(*input, given_budget), budget);

  auto named = make_engines(engines);
  ASSERT_TRUE(named.ok()) << named.error().message;
  const ReproAnalysis a =
      analyse_repro(*named, input->program, input->memory, replay_budget(*input, given_budget), input->setup);
  EXPECT_TRUE(a.differences.empty());
  for (const oracle::Outcome& o : a.outcomes) {
    ASSERT_TRUE(o.loaded) << o.engine << ": " << o.load_error;
    EXPECT_TRUE(o.ok()) << o.engine;
    EXPECT_EQ(o.regs[0], test_support::kMapTailCallResult) << o.engine;
    EXPECT_EQ(o.regs[0], original.regs[0]) << o.engine;
    EXPECT_TRUE(o.maps_observed) << o.engine;
    EXPECT_EQ(o.maps, original.maps) << o.engine;
  }
}

TEST(KernelFindingReplay, TheSelfCheckProgramNeedsItsMaps) {
  const vm::Program p = test_support::map_tail_call_program();
  oracle::EngineInput input;
  input.memory.assign(16, 0);
  const oracle::Outcome with = run_interp(p, input);
  ASSERT_TRUE(with.loaded) << with.load_error;
  EXPECT_EQ(with.regs[0], test_support::kMapTailCallResult);
  ASSERT_EQ(with.maps.size(), 2u);
  ASSERT_EQ(with.maps[0].entries.size(), 1u);
  EXPECT_EQ(with.maps[0].entries[0].value.at(0), test_support::kMapTailCallResult) << "the counter";
  vm::Program without = p;
  without.maps.clear();
  EXPECT_FALSE(run_interp(without, input).loaded);
}

TEST(KernelFindingReplay, ACampaignFindingReplaysFromItsDirectoryWithItsMaps) {
  TempDir dir("bpfdiff-kfinding-maps");
  KernelCase c;
  c.program = test_support::map_tail_call_program();
  c.input.memory = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  c.input.limits.instruction_budget = 777;
  oracle::Outcome ours = run_interp(c.program, c.input);
  ASSERT_TRUE(ours.loaded) << ours.load_error;
  oracle::Outcome kernel = ours;
  kernel.engine = "kernel-host";
  kernel.kernel = oracle::KernelOutcome{};
  kernel.regs[0] = 6;
  c.outcomes = {ours, kernel};
  KernelFindingRecord f;
  f.signature = "interp-vs-kernel-host.mismatch.state";
  f.kind = "mismatch";
  f.title = "r0 differs";
  f.differences = {{"r0", "0x8", "0x6"}};
  vm::Program original = c.program;
  original.slots.insert(original.slots.begin() + 1, isa::RawInsn{0xb7, 8, 0, 0, 3});  // mov r8, 3
  f.original_program = original;
  f.original_memory = c.input.memory;
  auto written = write_kernel_finding(dir.path.string(), f, c, {"interp", "kernel-host"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  const fs::path d = *written;

  const std::string repro = nlohmann::json::parse(test_support::read_text(d / "finding.json"))["repro"];
  EXPECT_NE(repro.find("/case.data"), std::string::npos) << repro;
  EXPECT_EQ(repro.find("--fuzz-input"), std::string::npos) << repro;
  const std::string data = test_support::read_text(d / "case.data");
  EXPECT_NE(data.find("-- map-def counter"), std::string::npos) << data;
  EXPECT_NE(data.find("prog 0 0"), std::string::npos) << data;
  EXPECT_NE(data.find("-- result\n0x8"), std::string::npos) << data;

  // `bpfdiff repro DIR` and `bpfdiff repro DIR/case.data` alike.
  expect_faithful_replay(d.string(), c.program, ours, 777);
  expect_faithful_replay((d / "case.data").string(), c.program, ours, 777);

  // The program as found, before minimization, keeps its maps too.
  auto as_found = load_replay_input((d / "original.data").string(), false, oracle::default_helpers());
  ASSERT_TRUE(as_found.ok()) << as_found.error().message;
  EXPECT_EQ(as_found->program.slots, original.slots);
  expect_same_maps(as_found->program, original);

  // What the raw input alone makes of it: the program without its maps.
  auto raw = load_replay_input((d / "input.raw").string(), true, oracle::default_helpers());
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  EXPECT_TRUE(raw->program.maps.empty());
}

TEST(KernelFindingReplay, AKernelAcceptFindingIsWrittenAsADataTestWithItsMaps) {
  TempDir dir("bpfdiff-kaccept-maps");
  fuzz::GeneratedCase c;
  c.program = test_support::map_tail_call_program();
  c.memory.assign(32, 0xab);
  const oracle::Outcome ours = run_interp(c.program, fuzz::engine_input(c));
  ASSERT_TRUE(ours.loaded) << ours.load_error;
  AcceptOptions options;
  options.findings_dir = dir.path.string();
  options.generator = "verifier-stress";
  auto path = write_accept_case(options, 42, c, ours);
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_EQ(fs::path(*path).filename(), "kernel-accept-42.data");
  const std::string text = test_support::read_text(*path);
  EXPECT_NE(text.find("# bpfdiff repro " + *path + " --engines interp,kernel-host"), std::string::npos)
      << text;
  expect_faithful_replay(*path, c.program, ours, fuzz::kGeneratedInstructionBudget);
  auto input = load_replay_input(*path, false, oracle::default_helpers());
  ASSERT_TRUE(input.ok());
  EXPECT_EQ(input->memory, c.memory);
}

// A finding's test must replay the very program that was found, an
// encoding with a field no mnemonic spells included.
TEST(KernelFindingReplay, AnOddEncodingSurvivesTheDataTest) {
  TempDir dir("bpfdiff-kaccept-odd");
  fuzz::GeneratedCase c;
  c.program.slots = {isa::RawInsn{0xb7, 0, 3, 0, 7}, isa::RawInsn{0xb7, 1, 0, 5, 9},
                     isa::RawInsn{0x95, 0, 0, 0, 0}};
  c.memory.assign(16, 0);
  const oracle::Outcome ours = run_interp(c.program, fuzz::engine_input(c));
  AcceptOptions options;
  options.findings_dir = dir.path.string();
  auto path = write_accept_case(options, 7, c, ours);
  ASSERT_TRUE(path.ok()) << path.error().message;
  auto input = load_replay_input(*path, false, oracle::default_helpers());
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_EQ(input->program.slots, c.program.slots) << test_support::read_text(*path);
}

// `bpfdiff kernel check-states --findings DIR`: a violation's program is
// saved as a .data test with its maps, which `bpfdiff repro` replays as the
// program that was checked (a raw input would lose the maps).
TEST(KernelFindingReplay, AStateCheckViolationIsWrittenAsADataTestWithItsMaps) {
  TempDir dir("bpfdiff-kstates-maps");
  fuzz::GeneratedCase c;
  c.program = test_support::map_tail_call_program();
  c.memory.assign(16, 0x5a);
  const oracle::Outcome ours = run_interp(c.program, fuzz::engine_input(c));
  ASSERT_TRUE(ours.loaded) << ours.load_error;
  const std::vector<oracle::StateViolation> violations = {
      {oracle::ViolationKind::Value, 9, "r7", 6, "R7=scalar(umax=5)"},
      {oracle::ViolationKind::Unvisited, 12, "", 0, "never visited"}};
  auto path = fuzz::write_state_check_case(dir.path.string(), 314, "verifier-stress", c, violations);
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_EQ(fs::path(*path).filename(), "check-states-314.data");
  EXPECT_FALSE(fs::exists(dir.path / "check-states-314.bin")) << "a raw input cannot carry the maps";
  const std::string text = test_support::read_text(*path);
  EXPECT_NE(text.find("# bpfdiff kernel check-states: seed 314 of generator verifier-stress"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# verifier-state violation: " + violations[0].describe()), std::string::npos) << text;
  EXPECT_NE(text.find("# verifier-state violation: " + violations[1].describe()), std::string::npos) << text;
  EXPECT_NE(text.find("# bpfdiff repro " + *path + " --engines interp,kernel-host"), std::string::npos)
      << text;
  EXPECT_NE(text.find("-- map-def counter"), std::string::npos) << text;
  expect_faithful_replay(*path, c.program, ours, fuzz::kGeneratedInstructionBudget);
  auto input = load_replay_input(*path, false, oracle::default_helpers());
  ASSERT_TRUE(input.ok());
  EXPECT_EQ(input->memory, c.memory);
}

TEST(KernelFindingReplay, AStateCheckCaseWithoutMapsAlsoGetsTheRawLoadersInput) {
  TempDir dir("bpfdiff-kstates-raw");
  fuzz::GeneratedCase c;
  c.program.slots = {isa::RawInsn{0xb7, 0, 0, 0, 7}, isa::RawInsn{0x95, 0, 0, 0, 0}};
  c.memory = {1, 2, 3, 4};
  auto path = fuzz::write_state_check_case(dir.path.string(), 5, "kernel-friendly", c, {});
  ASSERT_TRUE(path.ok()) << path.error().message;
  auto input = load_replay_input(*path, false, oracle::default_helpers());
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_EQ(input->program.slots, c.program.slots);
  EXPECT_NE(test_support::read_text(*path).find("-- result\n0x7"), std::string::npos);
  auto raw = load_replay_input((dir.path / "check-states-5.bin").string(), true, oracle::default_helpers());
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  EXPECT_EQ(raw->program.slots, c.program.slots);
  EXPECT_EQ(raw->memory, c.memory);
}

}  // namespace
}  // namespace bpfdiff::cli
