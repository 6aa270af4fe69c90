// Generated programs with maps: the raw layout cannot carry their maps, so
// the gate writes the generator's decisions (<id>.gen) and `bpfdiff repro` /
// `bpfdiff diff` read them back with --layout generated, maps included.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/gate/gate.hpp"
#include "fuzz/generator.hpp"
#include "tests/cli/process.hpp"

namespace bpfdiff::cli::testing {
namespace {

const std::string kBpfdiff = BPFDIFF_BIN;

// The first seed whose program (as the gate and interp_vs_jit_gen make it)
// declares maps and calls helpers, with the bytes its generation consumed.
struct CaseWithMaps {
  fuzz::GeneratedCase c;
  std::vector<uint8_t> decisions;
};

CaseWithMaps case_with_maps() {
  fuzz::GeneratorOptions options;
  options.max_instructions = kGateGeneratedSlots;
  for (uint64_t seed = 1;; ++seed) {
    fuzz::ByteSource src(seed);
    fuzz::GeneratedCase c = fuzz::generate(src, options);
    if (c.program.maps.empty()) continue;
    fuzz::ByteSource again(seed);
    std::vector<uint8_t> decisions(src.consumed());
    for (uint8_t& b : decisions)
      b = again.byte();
    return {std::move(c), std::move(decisions)};
  }
}

std::string write_decisions(const TempDir& dir, const std::vector<uint8_t>& bytes) {
  return dir.write("case.gen", std::string(bytes.begin(), bytes.end()));
}

TEST(LayoutReplay, DecisionsReadBackAsTheSameProgramWithItsMaps) {
  const CaseWithMaps m = case_with_maps();
  fuzz::ByteSource src(m.decisions);
  fuzz::GeneratorOptions options;
  options.max_instructions = kGateGeneratedSlots;
  const fuzz::GeneratedCase again = fuzz::generate(src, options);
  EXPECT_EQ(again.program.slots, m.c.program.slots);
  EXPECT_EQ(again.program.maps.size(), m.c.program.maps.size());
  EXPECT_EQ(again.memory, m.c.memory);
}

TEST(LayoutReplay, ReproAndDiffRunAProgramWithMapsFromItsDecisions) {
  TempDir dir;
  const std::string file = write_decisions(dir, case_with_maps().decisions);
  const ProcessResult repro =
      run_process({kBpfdiff, "repro", file, "--layout", "generated", "--engines", "interp,jit"});
  EXPECT_EQ(repro.exit_code, 0) << repro.out << repro.err;
  EXPECT_NE(repro.out.find("engines agree"), std::string::npos) << repro.out;
  const ProcessResult diff = run_process({kBpfdiff, "diff", file, "--layout", "generated"});
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
}

TEST(LayoutReplay, AnUnknownLayoutIsAUsageError) {
  TempDir dir;
  const std::string file = write_decisions(dir, {1, 2, 3});
  const ProcessResult r = run_process({kBpfdiff, "repro", file, "--layout", "sideways"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST(LayoutReplay, TheGateWritesDecisionsAndReplaysThemWhenTheProgramHasMaps) {
  CaseWithMaps m = case_with_maps();
  GateFinding f;
  f.phase = GatePhase::Generated;
  f.gate_case.id = "generated-s1-000007";
  f.gate_case.origin = "seed 1, program 7";
  f.gate_case.program = m.c.program;
  f.gate_case.memory = m.c.memory;
  f.gate_case.budget = fuzz::kGeneratedInstructionBudget;
  f.gate_case.decisions = m.decisions;
  oracle::Outcome interp;
  interp.engine = "interp";
  oracle::Outcome jit = interp;
  jit.engine = "jit";
  f.outcomes = {interp, jit};
  f.differences = {{"interp", "jit", {"r0", "0x1", "0x2"}}};
  TempDir dir;
  auto written = write_finding(f, dir.path(), {"interp", "jit"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(written->decisions_path, dir.path() + "/generated-s1-000007.gen");
  EXPECT_TRUE(std::filesystem::is_regular_file(written->decisions_path));
  // The budget and depth spelled out: the limits phase runs decisions with other limits than theirs.
  EXPECT_EQ(written->repro_command,
            "bpfdiff repro " + written->decisions_path +
                " --layout generated --budget 10000 --max-call-depth 8 --engines interp,jit");
  EXPECT_NE(format_finding(f, &*written).find(written->decisions_path), std::string::npos);
  // Without maps the raw input is enough: the commands stay on it.
  f.gate_case.program.maps.clear();
  auto plain = write_finding(f, dir.path(), {"interp", "jit"});
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_NE(plain->repro_command.find(plain->input_path + " --fuzz-input"), std::string::npos)
      << plain->repro_command;
}

}  // namespace
}  // namespace bpfdiff::cli::testing
