// The gate half of "a JIT bug introduced on purpose is caught": the gate's
// library run against an engine with the planted JMP32 bug (jsgt32 compared
// unsigned, tests/fuzz/planted_engine.hpp), each phase on its own, so every
// phase is shown to catch it -- not only the regression test that an earlier
// finding left in corpus/regressions. The same bug planted in the JIT itself
// (BPFDIFF_PLANT_JIT_BUG, its own build directory) is what
// scripts/planted-bug.sh runs `bpfdiff gate` and a campaign against.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "fuzz/gate/gate.hpp"
#include "oracle/engine.hpp"
#include "tests/cli/process.hpp"
#include "tests/fuzz/planted_engine.hpp"
#include "vm/isa/table.hpp"
#include "vm/jit/planted.hpp"

namespace bpfdiff::cli::testing {
namespace {

NamedEngines interp_and_planted() {
  NamedEngines e;
  e.names = {"interp", "planted"};
  e.engines.push_back(std::move(oracle::make_engine("interp")).value());
  e.engines.push_back(
      std::make_unique<fuzz::testing::PlantedEngine>(isa::Form::jsgt32_reg, isa::Form::jgt32_reg));
  return e;
}

GateReport gate_with(const GateOptions& options) {
  NamedEngines engines = interp_and_planted();
  auto report = run_gate(options, engines);
  EXPECT_TRUE(report.ok()) << report.error().message;
  return report.ok() ? std::move(report).value() : GateReport{};
}

void expect_named_by_the_planted_form(const GateReport& report) {
  ASSERT_TRUE(report.finding);
  ASSERT_TRUE(report.finding->signature) << "the divergence must reproduce under bisection";
  EXPECT_EQ(report.finding->signature->title(), "divergence interp vs planted: next_pc at jsgt32_reg");
  EXPECT_EQ(report.finding->divergent_engine(), "planted");
}

TEST(GatePlanted, TheSingleInstructionPhaseCatchesIt) {
  GateOptions options;
  options.programs = 0;
  const GateReport report = gate_with(options);
  expect_named_by_the_planted_form(report);
  EXPECT_EQ(report.finding->phase, GatePhase::SingleInsn);
  EXPECT_EQ(report.finding->gate_case.id.rfind("single-insn-jsgt32_reg-", 0), 0u)
      << report.finding->gate_case.id;
}

TEST(GatePlanted, TheGeneratedBatchAloneCatchesIt) {
  GateOptions options;
  options.insn_per_form = 0;
  options.programs = 2'000;  // the --quick batch; the first hit comes far earlier
  const GateReport report = gate_with(options);
  expect_named_by_the_planted_form(report);
  EXPECT_EQ(report.finding->phase, GatePhase::Generated);
  ASSERT_EQ(report.phases.size(), 3u);
  EXPECT_LT(report.phases[2].programs, options.programs) << "the gate stops at the first divergence";
}

TEST(GatePlanted, TheFindingIsWrittenAsAReproducer) {
  GateOptions options;
  options.programs = 0;
  const GateReport report = gate_with(options);
  ASSERT_TRUE(report.finding);
  TempDir dir;
  auto written = write_finding(*report.finding, dir.path(), report.engines);
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_TRUE(std::filesystem::is_regular_file(written->input_path));
  EXPECT_TRUE(std::filesystem::is_regular_file(written->data_path));
  EXPECT_NE(written->repro_command.find("bpfdiff repro"), std::string::npos);
}

// The planted JIT bug exists only in the build directories of the planted
// presets; every build that runs the tests has none.
TEST(GatePlanted, ThisBuildsJitHasNoPlantedBug) {
  EXPECT_EQ(jit::planted_bug(), "");
}

}  // namespace
}  // namespace bpfdiff::cli::testing
