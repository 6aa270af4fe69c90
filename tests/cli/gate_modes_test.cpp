// The gate's run modes, limits and ELF phase, in process: every mode is
// reached, and an engine that goes wrong in only one of them -- one run
// mode, the call-depth limit, the budget, packet-mode ELF programs -- is
// caught in the phase meant for it, with a reproducer that carries the mode.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/gate/gate.hpp"
#include "fuzz/limits.hpp"
#include "fuzz/run_modes.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/input.hpp"
#include "tests/cli/process.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::cli::testing {
namespace {

namespace fs = std::filesystem;

const std::string kCorpus = BPFDIFF_CORPUS_DIR;

// The interpreter, run on a changed input: a stand-in for a JIT that gets
// one part of the run's setup wrong.
using InputChange = std::function<void(oracle::EngineInput&)>;

class MisreadingEngine : public oracle::Engine {
 public:
  explicit MisreadingEngine(InputChange change)
      : Engine(oracle::default_helpers()),
        inner_(std::move(oracle::make_engine("interp")).value()),
        change_(std::move(change)) {}
  std::string_view name() const override { return "misreading"; }
  oracle::Outcome run(const vm::Program& program, const oracle::EngineInput& input) override {
    oracle::EngineInput changed = input;
    change_(changed);
    oracle::Outcome o = inner_->run(program, changed);
    o.engine = "misreading";
    return o;
  }
  std::vector<oracle::Outcome> run_repeatedly(const vm::Program& program, const oracle::EngineInput& input,
                                              std::span<const LaterRun> later) override {
    oracle::EngineInput changed = input;
    change_(changed);
    std::vector<LaterRun> later_changed(later.begin(), later.end());
    for (LaterRun& r : later_changed) {
      if (r.input) change_(*r.input);
    }
    std::vector<oracle::Outcome> outcomes = inner_->run_repeatedly(program, changed, later_changed);
    for (oracle::Outcome& o : outcomes)
      o.engine = "misreading";
    return outcomes;
  }

 protected:
  Result<std::unique_ptr<oracle::Executor>> prepare_with(const vm::Program& program,
                                                         const vm::ExecLimits& limits,
                                                         const vm::HelperRegistry&) override {
    return inner_->prepare(program, limits);
  }

 private:
  std::unique_ptr<oracle::Engine> inner_;
  InputChange change_;
};

NamedEngines interp_and(InputChange change) {
  NamedEngines e;
  e.names = {"interp", "misreading"};
  e.engines.push_back(std::move(oracle::make_engine("interp")).value());
  e.engines.push_back(std::make_unique<MisreadingEngine>(std::move(change)));
  return e;
}

std::size_t mode_index(vm::RunMode mode) {
  const auto modes = fuzz::all_run_modes();
  return static_cast<std::size_t>(std::find(modes.begin(), modes.end(), mode) - modes.begin());
}

GateOptions generated_only(std::size_t programs, std::size_t limit_programs) {
  GateOptions o;
  o.programs = programs;
  o.insn_per_form = 0;
  o.limit_programs = limit_programs;
  return o;
}

TEST(GateModes, GeneratedLimitsAndElfPhasesReachEveryRunMode) {
  auto engines = make_engines({"interp", "jit"});
  ASSERT_TRUE(engines.ok()) << engines.error().message;
  GateOptions options = generated_only(200, 20);
  options.corpus_dirs = {kCorpus};
  auto report = run_gate(options, *engines);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_FALSE(report->finding) << format_finding(*report->finding, nullptr);
  ASSERT_EQ(report->phases.size(), 5u);
  const GatePhaseStats& generated = report->phases[2];
  const GatePhaseStats& limits = report->phases[3];
  const GatePhaseStats& elf = report->phases[4];
  EXPECT_EQ(generated.phase, GatePhase::Generated);
  EXPECT_EQ(limits.phase, GatePhase::Limits);
  EXPECT_EQ(elf.phase, GatePhase::Elf);
  for (std::size_t m = 0; m < 4; ++m) {
    EXPECT_GT(generated.runs_by_mode[m], 20u) << "mode " << m;
    EXPECT_GT(elf.runs_by_mode[m], 0u) << "mode " << m;
  }
  EXPECT_EQ(limits.programs + limits.skipped, 20u);
  // Each program at least at, below and above its budget and depth.
  EXPECT_GE(limits.runs(), 20u * 5);
  EXPECT_EQ(elf.programs, 10u) << "the corpus objects, conformance_main.o's .text main included";
  EXPECT_EQ(elf.skipped, 0u);
  EXPECT_GT(elf.runs(), elf.programs * 4);
}

// Generated ELF objects (fuzz/elf_object_gen.hpp) in the elf phase: read
// back as written, each program in its own mode, and an engine's slip in
// one of them is caught there and written as a reproducer.
TEST(GateModes, GeneratedElfObjectsRunInEveryModeAndCatchASlip) {
  auto engines = make_engines({"interp", "jit"});
  ASSERT_TRUE(engines.ok()) << engines.error().message;
  GateOptions options = generated_only(0, 0);
  options.elf_objects = 60;
  auto report = run_gate(options, *engines);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_FALSE(report->finding) << format_finding(*report->finding, nullptr);
  const GatePhaseStats& elf = report->phases.back();
  ASSERT_EQ(elf.phase, GatePhase::Elf);
  EXPECT_EQ(elf.programs + elf.skipped, 60u);
  EXPECT_GT(elf.programs, 30u) << "most generated programs have an ELF form";
  for (std::size_t m = 0; m < 4; ++m)
    EXPECT_GT(elf.runs_by_mode[m], 0u) << "mode " << m;

  NamedEngines misreading = interp_and([](oracle::EngineInput& in) {
    if (in.mode == vm::RunMode::MetaBuffer) std::swap(in.data_offset, in.data_end_offset);
  });
  options.elf_objects = 200;
  report = run_gate(options, misreading);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(report->finding);
  EXPECT_EQ(report->finding->phase, GatePhase::Elf);
  EXPECT_NE(report->finding->gate_case.origin.find("generated ELF object"), std::string::npos)
      << report->finding->gate_case.origin;
  TempDir dir;
  auto written = write_finding(*report->finding, dir.path(), {"interp", "misreading"});
  ASSERT_TRUE(written.ok()) << written.error().message;
}

TEST(GateModes, AnEngineThatMisplacesTheMbuffAddressesIsCaughtAndTheReproducerCarriesTheMode) {
  NamedEngines engines = interp_and([](oracle::EngineInput& in) {
    if (in.mode == vm::RunMode::MetaBuffer) std::swap(in.data_offset, in.data_end_offset);
  });
  auto report = run_gate(generated_only(400, 0), engines);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(report->finding);
  const GateFinding& f = *report->finding;
  EXPECT_EQ(f.phase, GatePhase::Generated);
  EXPECT_EQ(f.gate_case.setup.mode.mode, vm::RunMode::MetaBuffer);
  EXPECT_GE(report->phases.back().runs_by_mode[mode_index(vm::RunMode::MetaBuffer)], 1u);

  TempDir dir;
  auto written = write_finding(f, dir.path(), {"interp", "jit"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  const text::DataRunMode& m = f.gate_case.setup.mode;
  const std::string flags = " --mode mbuff --mbuff-size " + std::to_string(m.mbuff_size) +
                            " --mbuff-data-offset " + std::to_string(m.data_offset) +
                            " --mbuff-data-end-offset " + std::to_string(m.data_end_offset);
  EXPECT_NE(written->repro_command.find(flags), std::string::npos) << written->repro_command;
  auto data = read_file(written->data_path);
  ASSERT_TRUE(data.ok());
  auto parsed = text::parse_data_test(std::string(data->begin(), data->end()));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_TRUE(parsed->run_mode);
  EXPECT_EQ(*parsed->run_mode, m);
  // The .data test replays the finding in its mode.
  auto input = load_replay_input(written->data_path, false, oracle::default_helpers());
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_EQ(input->setup.mode, m);
  NamedEngines again = interp_and([](oracle::EngineInput& in) {
    if (in.mode == vm::RunMode::MetaBuffer) std::swap(in.data_offset, in.data_end_offset);
  });
  EXPECT_FALSE(differences_from_first(
                   run_on_each(again, input->program, input->memory, replay_budget(*input, 0), input->setup))
                   .empty());
}

TEST(GateModes, AnEngineThatIgnoresTheCallDepthIsCaughtByTheLimitsPhase) {
  NamedEngines engines = interp_and([](oracle::EngineInput& in) { in.limits.max_call_depth = 8; });
  auto report = run_gate(generated_only(300, 300), engines);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(report->finding);
  const GateFinding& f = *report->finding;
  EXPECT_NE(f.gate_case.setup.max_call_depth, 8u);
  // Fewer frames: a call fails, or a pointer into a deeper frame's stack is out of bounds.
  EXPECT_FALSE(f.outcomes[0].ok());
  TempDir dir;
  auto written = write_finding(f, dir.path(), {"interp", "jit"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  const std::string depth = " --max-call-depth " + std::to_string(f.gate_case.setup.max_call_depth);
  EXPECT_NE(written->repro_command.find(depth), std::string::npos) << written->repro_command;
  auto data = read_file(written->data_path);
  ASSERT_TRUE(data.ok());
  auto parsed = text::parse_data_test(std::string(data->begin(), data->end()));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->max_call_depth, f.gate_case.setup.max_call_depth);
}

TEST(GateModes, AnEngineOneInstructionOverBudgetIsCaughtByTheLimitsPhase) {
  NamedEngines engines = interp_and([](oracle::EngineInput& in) { ++in.limits.instruction_budget; });
  auto report = run_gate(generated_only(100, 100), engines);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(report->finding);
  EXPECT_TRUE(report->finding->phase == GatePhase::Limits || report->finding->phase == GatePhase::Generated);
  EXPECT_EQ(report->finding->outcomes[0].error.kind, vm::ErrorKind::BudgetExhausted);
}

TEST(GateModes, AnEngineWrongOnlyForPacketModeElfProgramsIsCaughtByTheElfPhase) {
  TempDir dir;
  fs::create_directories(dir.path() + "/corpus/fuzz/elf_loader");
  fs::create_directories(dir.path() + "/corpus/elf/inputs");
  fs::copy_file(kCorpus + "/fuzz/elf_loader/packet_filter.o", dir.path() + "/corpus/fuzz/elf_loader/p.o");
  fs::copy_file(kCorpus + "/elf/inputs/tcp-80.bin", dir.path() + "/corpus/elf/inputs/tcp-80.bin");
  NamedEngines engines = interp_and([](oracle::EngineInput& in) {
    if (in.mode == vm::RunMode::Packet && !in.memory.empty()) in.memory.back() ^= 1;
  });
  GateOptions options = generated_only(0, 0);
  options.corpus_dirs = {dir.path() + "/corpus"};
  auto report = run_gate(options, engines);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(report->finding);
  EXPECT_EQ(report->finding->phase, GatePhase::Elf);
  EXPECT_EQ(report->finding->gate_case.setup.mode.mode, vm::RunMode::Packet);
  EXPECT_NE(report->finding->gate_case.origin.find("p.o, program "), std::string::npos)
      << report->finding->gate_case.origin;
}

}  // namespace
}  // namespace bpfdiff::cli::testing
