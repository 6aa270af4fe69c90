// `bpfdiff minimize` and its library (fuzz/findings/finding): reading crash
// inputs in each target's layout, shrinking a planted divergence (an engine
// with a bug put there on purpose, tests/fuzz/planted_engine.hpp) to a tiny
// regression test, writing it; and the regression suite itself: every
// corpus/regressions/*.data agrees on every engine and matches its result.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/byte_source.hpp"
#include "fuzz/findings/finding.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/gate/gate.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/raw_input.hpp"
#include "oracle/interp_engine.hpp"
#include "oracle/run/input.hpp"
#include "tests/cli/process.hpp"
#include "tests/fuzz/planted_engine.hpp"
#include "vm/isa/encode.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::cli::testing {
namespace {

namespace fs = std::filesystem;

const std::string kBpfdiff = BPFDIFF_BIN;
const std::string kCorpus = BPFDIFF_CORPUS_DIR;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

NamedEngines interp_and_planted() {
  NamedEngines e;
  e.names = {"interp", "planted"};
  e.engines.push_back(std::make_unique<oracle::InterpEngine>(oracle::default_helpers()));
  e.engines.push_back(
      std::make_unique<fuzz::testing::PlantedEngine>(isa::Form::jsgt32_reg, isa::Form::jgt32_reg));
  return e;
}

// A raw fuzz input, as interp_vs_jit_raw would have saved it, that trips the
// planted bug among a dozen unrelated instructions.
std::vector<uint8_t> planted_raw_input() {
  using isa::encode;
  using isa::Form;
  std::vector<isa::RawInsn> slots = {encode(Form::mov_imm, 6, 0, 0, 77),
                                     encode(Form::mov_imm, 3, 0, 0, 0),
                                     encode(Form::add_imm, 6, 0, 0, 3),
                                     encode(Form::mov32_imm, 0, 0, 0, -5),
                                     encode(Form::stxdw, 10, 6, -8),
                                     encode(Form::ldxdw, 7, 10, -8),
                                     encode(Form::mul_imm, 7, 0, 0, 9),
                                     encode(Form::jsgt32_reg, 0, 3, 2),
                                     encode(Form::mov_imm, 0, 0, 0, 1),
                                     encode(Form::ja, 0, 0, 1),
                                     encode(Form::mov_imm, 0, 0, 0, 2),
                                     encode(Form::xor_imm, 7, 0, 0, 5),
                                     encode(Form::exit)};
  const std::vector<uint8_t> memory = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  return fuzz::join_raw_input(isa::encode_slots(slots), memory);
}

TEST(Finding, LayoutsOfTheDifferentialTargets) {
  EXPECT_EQ(layout_of_target("interp_vs_jit_raw"), FindingLayout::Raw);
  EXPECT_EQ(layout_of_target("interp_vs_jit_gen"), FindingLayout::Generated);
  EXPECT_EQ(layout_of_target("interp_vs_jit_insn"), FindingLayout::SingleInsn);
  EXPECT_FALSE(layout_of_target("interp_raw"));
  EXPECT_EQ(finding_layout_named("single-insn"), FindingLayout::SingleInsn);
  EXPECT_FALSE(finding_layout_named("x"));
}

TEST(Finding, ReadsEachLayoutWithItsTargetsBudget) {
  TempDir dir;
  const std::vector<uint8_t> raw = planted_raw_input();
  const std::string path = dir.write("crash-raw", std::string(raw.begin(), raw.end()));
  auto r = read_finding(path, FindingLayout::Raw);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->program.slots.size(), 13u);
  EXPECT_EQ(r->memory.size(), 10u);
  EXPECT_EQ(r->budget, fuzz::kRawInputInstructionBudget);
  auto g = read_finding(path, FindingLayout::Generated);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->budget, fuzz::kGeneratedInstructionBudget);
  fuzz::ByteSource src{std::span<const uint8_t>(raw)};
  EXPECT_EQ(g->program.slots, fuzz::generate(src, {kGateGeneratedSlots}).program.slots);
  const std::string data = dir.write("t.data", "# budget 77\n-- asm\nmov r0, 1\nexit\n-- result\n0x1\n");
  auto d = read_finding(data, FindingLayout::Program);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->budget, 77u);
  EXPECT_FALSE(read_finding(dir.path() + "/missing", FindingLayout::Raw));
}

TEST(Finding, APlantedDivergenceBecomesATinyRegressionTest) {
  TempDir dir;
  NamedEngines engines = interp_and_planted();
  const std::vector<uint8_t> raw = planted_raw_input();
  auto c = read_finding(dir.write("crash-1", std::string(raw.begin(), raw.end())), FindingLayout::Raw);
  ASSERT_TRUE(c);
  const auto signature = signature_of(*c, engines);
  ASSERT_TRUE(signature);
  EXPECT_EQ(signature->title(), "divergence interp vs planted: next_pc at jsgt32_reg");

  const MinimizedFinding m = minimize_finding(*c, *signature, engines);
  EXPECT_EQ(m.signature, *signature);
  // mov32 r0, -5 (or another negative low half); jsgt32 r0, r3, +1; exit; exit -- or close to it.
  EXPECT_LE(m.minimized.program.slots.size(), 5u) << regression_test_text(m, "crash-1", "x.data");
  EXPECT_TRUE(m.minimized.memory.empty());

  auto path = write_regression_test(m, "crash-1", dir.path() + "/regressions");
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(fs::path(*path).filename(), "interp-vs-planted.next_pc.jsgt32_reg.data");
  const std::string text = slurp(*path);
  EXPECT_NE(text.find("# budget 4096"), std::string::npos);
  EXPECT_NE(text.find("# bpfdiff repro "), std::string::npos);
  auto test = text::parse_data_test(text);
  ASSERT_TRUE(test) << test.error().message;
  EXPECT_EQ(test->result, m.reference.regs[0]);

  // The same test again is the same file; a different one with the same
  // signature gets its own name.
  EXPECT_EQ(*write_regression_test(m, "crash-1", dir.path() + "/regressions"), *path);
  auto other = write_regression_test(m, "crash-2", dir.path() + "/regressions");
  ASSERT_TRUE(other);
  EXPECT_EQ(fs::path(*other).filename(), "interp-vs-planted.next_pc.jsgt32_reg-2.data");

  // With the bug gone -- every real engine -- the regression test passes.
  auto reread = read_finding(*path, FindingLayout::Program);
  ASSERT_TRUE(reread);
  auto real = make_engines({});
  ASSERT_TRUE(real);
  EXPECT_FALSE(signature_of(*reread, *real));
}

// A divergence that depends on a map's contents: the regression test
// declares the map (-- map-def, read-only and initial values included), so
// it loads and reproduces the reference result from the file alone.
TEST(Finding, AMapFindingBecomesARegressionTestWithItsMaps) {
  TempDir dir;
  NamedEngines engines = interp_and_planted();
  using isa::encode;
  using isa::Form;
  const auto value = isa::encode_lddw(Form::lddw_map_value, 1, 0, 4);
  std::vector<isa::RawInsn> slots = {value[0],
                                     value[1],
                                     encode(Form::ldxw, 0, 1, 0),
                                     encode(Form::mov_imm, 3, 0, 0, 0),
                                     encode(Form::add_imm, 3, 0, 0, 0),
                                     encode(Form::jsgt32_reg, 0, 3, 1),
                                     encode(Form::mov_imm, 0, 0, 0, 1),
                                     encode(Form::exit)};
  FindingCase c;
  c.program.slots = slots;
  vm::MapDef rodata;
  rodata.name = ".rodata";
  rodata.value_size = 8;
  rodata.max_entries = 1;
  rodata.read_only = true;
  rodata.initial_values = {0, 0, 0, 0, 0xfb, 0xff, 0xff, 0xff};  // -5 at offset 4
  c.program.maps = {rodata};
  c.budget = 100;
  const auto signature = signature_of(c, engines);
  ASSERT_TRUE(signature);
  const MinimizedFinding m = minimize_finding(c, *signature, engines);
  auto path = write_regression_test(m, "crash-map", dir.path() + "/regressions");
  ASSERT_TRUE(path) << path.error().message;
  const std::string text = slurp(*path);
  EXPECT_NE(text.find("-- map-def .rodata\n"), std::string::npos) << text;
  EXPECT_NE(text.find("read_only\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# budget 100\n"), std::string::npos) << text;

  auto reread = read_finding(*path, FindingLayout::Program);
  ASSERT_TRUE(reread) << reread.error().message;
  ASSERT_EQ(reread->program.maps.size(), 1u);
  EXPECT_EQ(reread->program.maps[0].initial_values, rodata.initial_values);
  EXPECT_TRUE(reread->program.maps[0].read_only);
  EXPECT_EQ(reread->budget, 100u);
  // Still the planted divergence, and on the real engines the recorded result.
  EXPECT_EQ(signature_of(*reread, engines), m.signature);
  auto real = make_engines({});
  ASSERT_TRUE(real);
  EXPECT_FALSE(signature_of(*reread, *real));
  auto test = text::parse_data_test(text);
  ASSERT_TRUE(test);
  const auto outcomes = run_on_each(*real, reread->program, reread->memory, reread->budget);
  ASSERT_TRUE(outcomes[0].ok());
  EXPECT_EQ(test->result, outcomes[0].regs[0]);
}

TEST(MinimizeCommand, SaysWhenTheEnginesAgree) {
  TempDir dir;
  const auto r =
      run_process({kBpfdiff, "minimize", kCorpus + "/conformance/jmp32.data", "--out", dir.path()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("nothing to minimize"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(MinimizeCommand, TriesEveryFuzzLayoutOfACrashFile) {
  TempDir dir;
  const std::vector<uint8_t> raw = planted_raw_input();
  const std::string crash = dir.write("crash-0abc", std::string(raw.begin(), raw.end()));
  const auto r = run_process({kBpfdiff, "minimize", crash, "--out", dir.path() + "/out"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("raw, generated, single-insn"), std::string::npos) << r.out;
}

TEST(MinimizeCommand, UnreadableInputIsAUsageError) {
  const auto r = run_process({kBpfdiff, "minimize", "/nonexistent/crash-1"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
}

// Every fixed finding stays fixed: the regression tests of the corpus run on
// every engine with their budget, agree, and produce what the file expects.
TEST(Regressions, EveryRegressionTestAgreesOnEveryEngine) {
  const fs::path dir = fs::path(kCorpus) / "regressions";
  ASSERT_TRUE(fs::is_directory(dir));
  auto engines = make_engines({});
  ASSERT_TRUE(engines);
  std::size_t tests = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".data") continue;
    ++tests;
    auto c = read_finding(e.path().string(), FindingLayout::Program);
    ASSERT_TRUE(c) << c.error().message;
    const auto s = signature_of(*c, *engines);
    EXPECT_FALSE(s) << e.path() << ": " << s->title();
    auto test = text::parse_data_test(slurp(e.path()));
    ASSERT_TRUE(test);
    const auto outcomes = run_on_each(*engines, c->program, c->memory, c->budget);
    if (test->result) {
      EXPECT_TRUE(outcomes[0].ok()) << e.path();
      EXPECT_EQ(outcomes[0].regs[0], *test->result) << e.path();
    }
  }
  EXPECT_GT(tests, 0u);
}

}  // namespace
}  // namespace bpfdiff::cli::testing
