// `bpfdiff gate`: spawned as CI runs it (small counts), and its library in
// process -- the phases with a deliberately broken engine, so that the
// fail-fast path and the finding writer are exercised on a real divergence.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/gate/gate.hpp"
#include "fuzz/raw_input.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/input.hpp"
#include "tests/cli/process.hpp"
#include "vm/isa/raw.hpp"
#include "vm/isa/table.hpp"
#include "vm/runtime/error.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::cli::testing {
namespace {

namespace fs = std::filesystem;

const std::string kBpfdiff = BPFDIFF_BIN;
const std::string kCorpus = BPFDIFF_CORPUS_DIR;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// ---------------------------------------------------------------------------
// Spawned.

class GateCommand : public ::testing::Test {
 protected:
  TempDir dir;
};

TEST_F(GateCommand, QuickRunWithSmallCountsPassesAndSummarises) {
  const auto r = run_process({kBpfdiff, "gate", "--quick", "--programs", "200", "--insn-per-form", "2",
                              "--corpus", kCorpus, "--out", dir.path() + "/findings"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("gate: pass: 5 engines agree (interp, jit, jit-bmi2, jit+blind, jit+blind-bmi2)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  corpus      "), std::string::npos) << r.out;
  const std::string insn =
      "  single-insn " + std::to_string(isa::all_forms().size() * 2) + " programs (2 per form)";
  EXPECT_NE(r.out.find(insn), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  generated   200 programs (seed 1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  total       "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("programs/s)"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir.path() + "/findings")) << "nothing to write when all agree";
}

TEST_F(GateCommand, JsonSummaryHasOneEntryPerPhase) {
  const auto r = run_process({kBpfdiff, "gate", "--json", "--programs", "30", "--insn-per-form", "1",
                              "--seed", "7", "--engines", "interp,jit", "--corpus", kCorpus});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["result"], "pass");
  EXPECT_EQ(j["engines"], nlohmann::json({"interp", "jit"}));
  EXPECT_EQ(j["seed"], 7);
  EXPECT_EQ(j["insn_per_form"], 1);
  EXPECT_EQ(j["corpus"], nlohmann::json({kCorpus}));
  ASSERT_EQ(j["phases"].size(), 5u) << r.out;
  EXPECT_EQ(j["phases"][0]["phase"], "corpus");
  EXPECT_EQ(j["phases"][1]["phase"], "single-insn");
  EXPECT_EQ(j["phases"][2]["phase"], "generated");
  EXPECT_EQ(j["phases"][3]["phase"], "limits");
  EXPECT_EQ(j["phases"][4]["phase"], "elf");
  EXPECT_EQ(j["phases"][3]["programs"].get<std::size_t>() + j["phases"][3]["skipped"].get<std::size_t>(), 1u)
      << "30 / 20 programs";
  EXPECT_GT(j["phases"][4]["runs_by_mode"]["mbuff"].get<std::size_t>(), 0u) << r.out;
  EXPECT_GT(j["phases"][0]["programs"].get<std::size_t>(), 0u);
  EXPECT_GT(j["phases"][0]["skipped"].get<std::size_t>(), 0u) << "asm_roundtrip seeds are skipped";
  EXPECT_EQ(j["phases"][1]["programs"], isa::all_forms().size());
  EXPECT_EQ(j["phases"][2]["programs"], 30);
  std::size_t total = 0;
  for (const auto& p : j["phases"]) {
    EXPECT_TRUE(p["seconds"].is_number()) << p;
    EXPECT_EQ(p["skipped"].is_number_unsigned(), true) << p;
    total += p["programs"].get<std::size_t>();
  }
  EXPECT_EQ(j["total_programs"], total);
  EXPECT_TRUE(j["seconds"].is_number());
  EXPECT_TRUE(j["programs_per_second"].is_number());
  EXPECT_TRUE(j["finding"].is_null());
}

TEST_F(GateCommand, ReadsEachFuzzTargetsSeedsItsWayAndReplaysRegressions) {
  const std::string corpus = dir.path() + "/corpus";
  fs::create_directories(corpus + "/regressions/sub");
  fs::create_directories(corpus + "/fuzz/interp_vs_jit_raw");
  fs::create_directories(corpus + "/fuzz/interp_vs_jit_gen");
  fs::create_directories(corpus + "/fuzz/asm_roundtrip");
  dir.write("corpus/regressions/sub/a.data", "# budget 50\n-- asm\nmov r0, 1\nexit\n-- result\n0x1\n");
  dir.write("corpus/regressions/README.md", "not a test\n");
  // u32 length 16 | mov r0, 0x2a; exit | 1 byte of memory
  const unsigned char raw[] = {16, 0, 0, 0, 0xb7, 0, 0, 0, 0x2a, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0, 0xaa};
  dir.write("corpus/fuzz/interp_vs_jit_raw/seed",
            std::string(reinterpret_cast<const char*>(raw), sizeof raw));
  dir.write("corpus/fuzz/interp_vs_jit_gen/seed", "any bytes are generator decisions");
  dir.write("corpus/fuzz/asm_roundtrip/seed", "mov r0, 1\n");
  const auto r = run_process(
      {kBpfdiff, "gate", "--json", "--programs", "0", "--insn-per-form", "0", "--corpus", corpus});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["phases"][0]["programs"], 3) << r.out;
  EXPECT_EQ(j["phases"][0]["skipped"], 1) << r.out;
  EXPECT_EQ(j["total_programs"], 3) << r.out;
}

TEST_F(GateCommand, ARegressionThatDoesNotLoadIsAnError) {
  fs::create_directories(dir.path() + "/c/regressions");
  dir.write("c/regressions/bad.data", "-- asm\nfrobnicate r0\n");
  const auto r = run_process({kBpfdiff, "gate", "--corpus", dir.path() + "/c", "--programs", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("bad.data"), std::string::npos) << r.err;
}

TEST_F(GateCommand, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"--engines", "interp,nosuch"},
      {"--engines", "interp"},
      {"--engines", "interp,interp"},
      {"--programs", "many"},
      {"--seed", "-"},
      {"--corpus", dir.path() + "/missing"},
      {"--frobnicate"},
      {"stray-argument"},
  };
  for (const auto& args : bad) {
    std::vector<std::string> argv = {kBpfdiff, "gate", "--programs", "1", "--insn-per-form", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_process(argv);
    EXPECT_EQ(r.exit_code, 2) << args.front() << "\n" << r.out << r.err;
    EXPECT_TRUE(r.out.find("gate: pass") == std::string::npos) << r.out;
  }
}

TEST_F(GateCommand, HelpDescribesThePhasesAndExitStatus) {
  const auto r = run_process({kBpfdiff, "gate", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* word : {"--engines", "--seed", "--programs", "--insn-per-form", "--corpus", "--out",
                           "--json", "--quick", "single-insn", "Exit status"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word << "\n" << r.out;
  }
}

// ---------------------------------------------------------------------------
// In process.

// An interpreter that returns r0 + 1: a stand-in for a broken JIT.
class OffByOneExecutor : public oracle::Executor {
 public:
  explicit OffByOneExecutor(std::unique_ptr<oracle::Executor> inner) : inner_(std::move(inner)) {}
  vm::RunResult run(vm::RunInput input) override {
    vm::RunResult r = inner_->run(input);
    if (r.ok()) ++r.regs[0];
    return r;
  }
  std::span<const uint8_t> stack() const override { return inner_->stack(); }
  uint64_t load_ns() const override { return inner_->load_ns(); }
  uint64_t compile_ns() const override { return inner_->compile_ns(); }

 private:
  std::unique_ptr<oracle::Executor> inner_;
};

class OffByOneEngine : public oracle::Engine {
 public:
  OffByOneEngine()
      : Engine(oracle::default_helpers()), inner_(std::move(oracle::make_engine("interp")).value()) {}
  std::string_view name() const override { return "off-by-one"; }

 protected:
  Result<std::unique_ptr<oracle::Executor>> prepare_with(const vm::Program& program,
                                                         const vm::ExecLimits& limits,
                                                         const vm::HelperRegistry&) override {
    auto inner = inner_->prepare(program, limits);
    if (!inner) return inner.error();
    return std::unique_ptr<oracle::Executor>(std::make_unique<OffByOneExecutor>(std::move(inner).value()));
  }

 private:
  std::unique_ptr<oracle::Engine> inner_;
};

NamedEngines interp_and(std::unique_ptr<oracle::Engine> other) {
  NamedEngines e;
  e.names = {"interp", std::string(other->name())};
  e.engines.push_back(std::move(oracle::make_engine("interp")).value());
  e.engines.push_back(std::move(other));
  return e;
}

TEST(GateLibrary, AllPhasesRunWhenTheEnginesAgree) {
  auto engines = make_engines({"interp", "jit"});
  ASSERT_TRUE(engines.ok()) << engines.error().message;
  GateOptions options;
  options.programs = 10;
  options.insn_per_form = 1;
  std::size_t calls = 0;
  auto report = run_gate(options, *engines, [&](GatePhase, std::size_t done, std::size_t total) {
    ++calls;
    EXPECT_LE(done, total);
  });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_FALSE(report->finding);
  ASSERT_EQ(report->phases.size(), 5u);
  EXPECT_EQ(report->phases[0].programs, 0u) << "no corpus given";
  EXPECT_EQ(report->phases[1].programs, isa::all_forms().size());
  EXPECT_EQ(report->phases[2].programs, 10u);
  EXPECT_EQ(report->phases[3].programs + report->phases[3].skipped, 10u) << "at most --programs";
  EXPECT_EQ(report->phases[4].programs, 0u) << "no corpus given";
  EXPECT_EQ(report->total_programs(), isa::all_forms().size() + 10 + report->phases[3].programs);
  EXPECT_EQ(calls, report->total_programs());
}

TEST(GateLibrary, StopsAtTheFirstDivergence) {
  NamedEngines engines = interp_and(std::make_unique<OffByOneEngine>());
  GateOptions options;
  options.programs = 1000;
  options.insn_per_form = 4;
  auto report = run_gate(options, engines);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(report->finding);
  const GateFinding& f = *report->finding;
  EXPECT_EQ(f.phase, GatePhase::SingleInsn);
  ASSERT_EQ(report->phases.size(), 2u) << "the generated phase never starts";
  EXPECT_LT(report->phases[1].programs, isa::all_forms().size() * 4);
  EXPECT_EQ(f.divergent_engine(), "off-by-one");
  ASSERT_FALSE(f.differences.empty());
  EXPECT_EQ(f.differences.front().difference.field, "r0");
  EXPECT_EQ(f.outcomes.size(), 2u);
  EXPECT_EQ(f.outcomes[1].regs[0], f.outcomes[0].regs[0] + 1);
  EXPECT_EQ(f.gate_case.id.rfind("single-insn-", 0), 0u) << f.gate_case.id;
}

// An interpreter whose runs after the first return r0 + 1: a stand-in for a
// JIT that mishandles the state one run leaves for the next.
class SecondRunExecutor : public oracle::Executor {
 public:
  explicit SecondRunExecutor(std::unique_ptr<oracle::Executor> inner) : inner_(std::move(inner)) {}
  vm::RunResult run(vm::RunInput input) override {
    vm::RunResult r = inner_->run(input);
    if (r.ok() && runs_++ > 0) ++r.regs[0];
    return r;
  }
  std::span<const uint8_t> stack() const override { return inner_->stack(); }
  uint64_t load_ns() const override { return inner_->load_ns(); }
  uint64_t compile_ns() const override { return inner_->compile_ns(); }

 private:
  std::unique_ptr<oracle::Executor> inner_;
  int runs_ = 0;
};

class SecondRunEngine : public oracle::Engine {
 public:
  SecondRunEngine()
      : Engine(oracle::default_helpers()), inner_(std::move(oracle::make_engine("interp")).value()) {}
  std::string_view name() const override { return "second-run"; }

 protected:
  Result<std::unique_ptr<oracle::Executor>> prepare_with(const vm::Program& program,
                                                         const vm::ExecLimits& limits,
                                                         const vm::HelperRegistry&) override {
    auto inner = inner_->prepare(program, limits);
    if (!inner) return inner.error();
    return std::unique_ptr<oracle::Executor>(std::make_unique<SecondRunExecutor>(std::move(inner).value()));
  }

 private:
  std::unique_ptr<oracle::Engine> inner_;
};

TEST(GateLibrary, RerunsOfOnePreparedProgramCatchStateCarriedWrongly) {
  NamedEngines engines = interp_and(std::make_unique<SecondRunEngine>());
  GateOptions options;
  options.programs = 0;  // the stand-in records no helper calls: single instructions only
  options.insn_per_form = 2;
  auto report = run_gate(options, engines);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(report->finding) << "the first runs agree; only a second run on the prepared program differs";
  const GateFinding& f = *report->finding;
  EXPECT_EQ(f.phase, GatePhase::SingleInsn);
  EXPECT_EQ(f.run, 1u);
  EXPECT_FALSE(f.signature) << "a signature replays one run";
  ASSERT_FALSE(f.differences.empty());
  EXPECT_EQ(f.differences.front().difference.field, "r0");
  const std::string text = format_finding(f, nullptr);
  EXPECT_NE(text.find("on run 2 of one prepared program"), std::string::npos) << text;
  EXPECT_NE(text.find("--repeat 2"), std::string::npos) << text;
  EXPECT_NE(text.find("repro --gate-runs"), std::string::npos) << text;
  TempDir dir;
  auto written = write_finding(f, dir.path(), {"interp", "second-run"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_NE(written->repro_command.find(" --gate-runs"), std::string::npos) << written->repro_command;
  EXPECT_TRUE(written->varied_memory_path.empty()) << "run 2 is on the first input";
  auto replay = load_replay_input(written->input_path, true, oracle::default_helpers());
  ASSERT_TRUE(replay.ok()) << replay.error().message;
  const GateRuns runs = run_like_the_gate(
      engines, replay->program, engine_input(replay->memory, f.gate_case.budget, f.gate_case.setup));
  ASSERT_TRUE(runs.diverged);
  EXPECT_EQ(*runs.diverged, 1u);

  options.reruns = false;
  auto single = run_gate(options, engines);
  ASSERT_TRUE(single.ok()) << single.error().message;
  EXPECT_FALSE(single->finding) << "one run per case cannot see it:\n"
                                << (single->finding ? format_finding(*single->finding, nullptr) : "");
}

// The interpreter, reporting a call-depth error with the error address of
// the last fault before it: what a JIT does whose depth-error stub forgets
// to clear the address in the context that persists between runs (the
// mutant of that stub which the first rerun schedule, all runs on one
// input, let through -- a stale value equals the fresh one there).
class StaleErrorAddressEngine : public oracle::Engine {
 public:
  StaleErrorAddressEngine()
      : Engine(oracle::default_helpers()), inner_(std::move(oracle::make_engine("interp")).value()) {}
  std::string_view name() const override { return "stale-address"; }
  std::vector<oracle::Outcome> run_repeatedly(const vm::Program& program, const oracle::EngineInput& input,
                                              std::span<const LaterRun> later) override {
    std::vector<oracle::Outcome> outcomes = inner_->run_repeatedly(program, input, later);
    uint64_t last_address = 0;  // the context starts zeroed
    for (oracle::Outcome& o : outcomes) {
      o.engine = "stale-address";
      if (o.error.kind == vm::ErrorKind::CallDepthExceeded) {
        o.error.address = last_address;
      } else if (o.error.kind != vm::ErrorKind::None) {
        last_address = o.error.address;
      }
    }
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
};

TEST(GateLibrary, TheVariedRerunShowsAStaleErrorAddress) {
  NamedEngines engines = interp_and(std::make_unique<StaleErrorAddressEngine>());
  GateOptions options;
  options.programs = 400;
  options.insn_per_form = 0;
  options.limit_programs = 100;
  auto report = run_gate(options, engines);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(report->finding) << "a stale address shows only after a run that faulted elsewhere";
  const GateFinding& f = *report->finding;
  ASSERT_FALSE(f.differences.empty());
  EXPECT_EQ(f.differences.front().difference.field, "error.address");
  EXPECT_EQ(f.outcomes[0].error.kind, vm::ErrorKind::CallDepthExceeded);
  EXPECT_EQ(f.outcomes[0].error.address, 0u);
  // The first runs agree; the run after the varied one (the first input
  // again) finds the varied run's fault address left behind.
  EXPECT_EQ(f.run, 3u);
  TempDir dir;
  auto written = write_finding(f, dir.path(), {"interp", "stale-address"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  ASSERT_FALSE(written->varied_memory_path.empty());
  auto varied = read_file(written->varied_memory_path);
  ASSERT_TRUE(varied.ok()) << varied.error().message;
  EXPECT_EQ(varied->size(), f.gate_case.memory.size() / 2);
  for (std::size_t i = 0; i < varied->size(); ++i)
    ASSERT_EQ((*varied)[i], static_cast<uint8_t>(~f.gate_case.memory[i])) << i;
  const std::string text = format_finding(f, &*written);
  EXPECT_NE(text.find("on run 4 of one prepared program (the first input again"), std::string::npos) << text;
  EXPECT_NE(text.find(written->varied_memory_path), std::string::npos) << text;
  EXPECT_NE(written->repro_command.find(" --gate-runs"), std::string::npos) << written->repro_command;

  // What `bpfdiff repro --gate-runs` replays: the program and memory read
  // back from the file the repro command names, the gate's four runs.
  const bool generated = written->repro_command.find("--layout generated") != std::string::npos;
  auto replay = load_replay_input(generated ? written->decisions_path : written->input_path, !generated,
                                  generated ? "generated" : "", oracle::default_helpers());
  ASSERT_TRUE(replay.ok()) << replay.error().message;
  EXPECT_EQ(replay->program.slots, f.gate_case.program.slots);
  const oracle::EngineInput input = engine_input(replay->memory, f.gate_case.budget, f.gate_case.setup);
  const GateRuns runs = run_like_the_gate(engines, replay->program, input);
  ASSERT_TRUE(runs.diverged) << "the finding replays outside the gate";
  EXPECT_EQ(*runs.diverged, 3u);
  EXPECT_EQ(runs.runs, 4u);
  ASSERT_FALSE(runs.differences.empty());
  EXPECT_EQ(runs.differences.front().difference.field, "error.address");
  EXPECT_EQ(runs.differences.front().right, "stale-address");
  EXPECT_FALSE(run_like_the_gate(engines, replay->program, input, /*reruns=*/false).diverged)
      << "one run of the program shows nothing";

  // What `bpfdiff minimize --gate-runs` does with it: shrunk while run 4
  // still diverges on the same field, written as a regression test that
  // replays the same way.
  FindingCase c;
  c.program = replay->program;
  c.memory = replay->memory;
  c.budget = f.gate_case.budget;
  c.setup = f.gate_case.setup;
  EXPECT_FALSE(signature_of(c, engines)) << "the first run agrees";
  const auto signature = gate_runs_signature(c, engines);
  ASSERT_TRUE(signature);
  EXPECT_EQ(signature->title(), "divergence interp vs stale-address: error.address at run4");
  fuzz::MinimizeOptions shrink;
  shrink.max_tests = 400;
  const MinimizedFinding m = minimize_gate_runs_finding(c, *signature, engines, shrink);
  EXPECT_LE(m.minimized.program.slots.size(), c.program.slots.size());
  auto path = write_regression_test(m, written->input_path, dir.path() + "/regressions");
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(fs::path(*path).filename(), "interp-vs-stale-address.error.address.run4.data");
  EXPECT_NE(slurp(*path).find(" --gate-runs\n"), std::string::npos) << slurp(*path);
  auto reread = read_finding(*path, FindingLayout::Program);
  ASSERT_TRUE(reread) << reread.error().message;
  const auto again = gate_runs_signature(*reread, engines);
  ASSERT_TRUE(again) << slurp(*path);
  EXPECT_EQ(*again, *signature);

  // What `bpfdiff diff --gate-runs` shows of the regression test: one run
  // agrees, the gate's runs disagree on run 4, and say so.
  EXPECT_TRUE(diff_file(*path, {}, engines).agree());
  const FileDiff d = diff_file_gate_runs(*path, {}, engines);
  ASSERT_FALSE(d.load_error) << *d.load_error;
  EXPECT_FALSE(d.agree());
  EXPECT_EQ(d.runs, 4u);
  ASSERT_TRUE(d.diverged_run);
  EXPECT_EQ(*d.diverged_run, 3u);
  const std::string diff_text = format_file_diff(d);
  EXPECT_NE(diff_text.find(": disagree on run 4 of one prepared program"), std::string::npos) << diff_text;
  EXPECT_NE(diff_text.find("error.address"), std::string::npos) << diff_text;
  EXPECT_EQ(file_diff_json(d)["diverged_run"], 4) << file_diff_json(d).dump();
}

TEST(GateLibrary, TheVariedInputIsTheFirstHalfInvertedWithTheNextSeed) {
  oracle::EngineInput input;
  input.memory = {0x00, 0x0f, 0xf0, 0xff, 0x12};
  input.seed = 41;
  input.limits.instruction_budget = 77;
  const oracle::EngineInput varied = varied_input(input);
  EXPECT_EQ(varied.memory, (std::vector<uint8_t>{0xff, 0xf0}));
  EXPECT_EQ(varied.seed, 42u);
  EXPECT_EQ(varied.limits.instruction_budget, 77u);
  const std::vector<oracle::Engine::LaterRun> later = gate_later_runs(input);
  ASSERT_EQ(later.size(), std::size(kGateReruns));
  ASSERT_EQ(later.size(), 3u);
  EXPECT_EQ(later[0].state, oracle::Engine::Rerun::Carry);
  EXPECT_FALSE(later[0].input);
  EXPECT_EQ(later[1].state, oracle::Engine::Rerun::Carry);
  ASSERT_TRUE(later[1].input);
  EXPECT_EQ(later[1].input->memory, varied.memory);
  EXPECT_EQ(later[2].state, oracle::Engine::Rerun::ResetMaps);
  EXPECT_FALSE(later[2].input);
}

GateFinding made_up_finding(const std::string& source, std::vector<uint8_t> memory, uint64_t r0 = 0x2a) {
  auto program = text::assemble(source);
  EXPECT_TRUE(program.ok()) << program.error().message;
  GateFinding f;
  f.phase = GatePhase::Generated;
  f.gate_case.id = "generated-s1-000042";
  f.gate_case.origin = "seed 1, program 42";
  f.gate_case.program = std::move(program).value();
  f.gate_case.memory = std::move(memory);
  f.gate_case.budget = 4096;
  oracle::Outcome interp;
  interp.engine = "interp";
  interp.loaded = true;
  interp.regs[0] = r0;
  interp.instructions = 3;
  oracle::Outcome jit = interp;
  jit.engine = "jit-bmi2";
  jit.regs[0] = r0 + 1;
  f.outcomes = {interp, jit};
  f.differences = {{"interp", "jit-bmi2", {"r0", "0x2a", "0x2b"}}};  // as if r0 were 0x2a
  return f;
}

constexpr const char* kProgram = "lddw r0, 0x123456789\nldxb r2, [r1+1]\nadd r0, r2\nexit\n";

TEST(GateFindingWriter, WritesTheFuzzInputAndADataTestThatRoundTrips) {
  TempDir dir;
  const std::string out = dir.path() + "/findings/nested";
  const GateFinding f = made_up_finding(kProgram, {0x01, 0x02, 0x03});
  auto written = write_finding(f, out, {"interp", "jit", "jit-bmi2"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(written->input_path, out + "/generated-s1-000042.input");
  EXPECT_EQ(written->data_path, out + "/generated-s1-000042.data");
  EXPECT_EQ(names_in(out),
            (std::vector<std::string>{"generated-s1-000042.data", "generated-s1-000042.input"}))
      << "no temporary files left behind";

  const std::string input = slurp(written->input_path);
  const std::vector<uint8_t> expected =
      fuzz::join_raw_input(isa::encode_slots(f.gate_case.program.slots), f.gate_case.memory);
  EXPECT_EQ(std::vector<uint8_t>(input.begin(), input.end()), expected);

  const std::string data = slurp(written->data_path);
  auto parsed = text::parse_data_test(data);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message << "\n" << data;
  auto reassembled = text::assemble(parsed->asm_source);
  ASSERT_TRUE(reassembled.ok()) << reassembled.error().message;
  EXPECT_EQ(reassembled->slots, f.gate_case.program.slots);
  EXPECT_EQ(parsed->memory, f.gate_case.memory);
  EXPECT_EQ(parsed->result, std::optional<uint64_t>(0x2a));
  EXPECT_FALSE(parsed->error);
  EXPECT_EQ(data_test_budget(data), std::optional<uint64_t>(4096));
  EXPECT_EQ(text::format_data_test(*parsed), text::format_data_test(finding_data_test(f)));
  EXPECT_NE(data.find("# interp vs jit-bmi2: r0"), std::string::npos) << data;

  EXPECT_EQ(written->repro_command,
            "bpfdiff repro " + written->input_path + " --fuzz-input --budget 4096 --engines interp,jit-bmi2");
  EXPECT_EQ(written->diff_command, "bpfdiff diff " + written->input_path +
                                       " --fuzz-input --budget 4096 --engines interp,jit,jit-bmi2");
}

TEST(GateFindingWriter, TheReportNamesTheDifferencesFilesAndCommands) {
  TempDir dir;
  const GateFinding f = made_up_finding(kProgram, {0x01});
  auto written = write_finding(f, dir.path(), {"interp", "jit-bmi2"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  const std::string text = format_finding(f, &*written);
  EXPECT_EQ(text.rfind("gate: FAIL: divergence interp vs jit-bmi2 in phase generated (seed 1, program 42), "
                       "budget 4096\ndifferences:\n  interp vs jit-bmi2: r0",
                       0),
            0u)
      << text;
  for (const std::string& part :
       {written->input_path, written->data_path, written->repro_command, written->diff_command})
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  EXPECT_EQ(format_finding(f, nullptr).find("replay:"), std::string::npos);
}

TEST(GateFindingWriter, TheWrittenFilesReplayWithReproAndDiff) {
  TempDir dir;
  // What the program really returns, so that `run` finds the .data's expectation met.
  constexpr uint64_t kR0 = 0x12345678b;
  auto written =
      write_finding(made_up_finding(kProgram, {0x01, 0x02, 0x03}, kR0), dir.path(), {"interp", "jit"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  // The divergence was made up, so the real engines agree on it.
  const auto repro = run_process({kBpfdiff, "repro", written->input_path, "--fuzz-input", "--budget", "4096",
                                  "--engines", "interp,jit-bmi2"});
  EXPECT_EQ(repro.exit_code, 0) << repro.out << repro.err;
  EXPECT_NE(repro.out.find("engines agree: nothing to reproduce"), std::string::npos) << repro.out;
  const auto run = run_process({kBpfdiff, "run", written->data_path});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  const auto diff = run_process({kBpfdiff, "diff", written->data_path, "--budget", "4096"});
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  EXPECT_NE(diff.out.find("agree (5 engines): r0 0x12345678b"), std::string::npos) << diff.out;
}

TEST(GateFindingWriter, RecordsTheReferenceErrorWhenItFaulted) {
  TempDir dir;
  GateFinding f = made_up_finding("ldxw r0, [r1+8]\nexit\n", {0x01});
  f.outcomes[0].error.kind = vm::ErrorKind::MemoryRead;
  f.outcomes[0].error.pc = 0;
  f.outcomes[0].error.address = 0x200000008;
  f.outcomes[0].error.size = 4;
  const std::string message = vm::describe(f.outcomes[0].error);
  auto written = write_finding(f, dir.path(), {"interp", "jit-bmi2"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  auto parsed = text::parse_data_test(slurp(written->data_path));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_FALSE(parsed->result);
  EXPECT_EQ(parsed->error, std::optional<std::string>(message));

  f.outcomes[0].loaded = false;
  f.outcomes[0].load_error = "pc 0: unknown opcode 0xff";
  EXPECT_EQ(finding_data_test(f).error, std::optional<std::string>("pc 0: unknown opcode 0xff"));
}

TEST(GateFindingWriter, QuotesPathsForTheShell) {
  TempDir dir;
  auto written = write_finding(made_up_finding(kProgram, {}), dir.path() + "/with space", {"interp", "jit"});
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_NE(written->repro_command.find("'" + written->input_path + "'"), std::string::npos)
      << written->repro_command;
}

TEST(AtomicWrite, ReplacesTheFileWholeAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.write("f.bin", "old contents that are longer");
  const std::vector<uint8_t> bytes = {1, 2, 3};
  ASSERT_TRUE(write_file_atomically(path, bytes).ok());
  EXPECT_EQ(slurp(path), std::string("\x01\x02\x03"));
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"f.bin"});
  auto failed = write_file_atomically(dir.path() + "/missing/f.bin", bytes);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("missing"), std::string::npos) << failed.error().message;
}

TEST(DataTestBudget, ReadsTheCommentBeforeTheFirstSection) {
  EXPECT_EQ(data_test_budget("# budget 4096\n-- asm\nexit\n"), std::optional<uint64_t>(4096));
  EXPECT_EQ(data_test_budget("# other\n#budget 7 (gate)\n-- asm\n"), std::optional<uint64_t>(7));
  EXPECT_EQ(data_test_budget("-- asm\n# budget 4096\nexit\n"), std::nullopt);
  EXPECT_EQ(data_test_budget("# budget 0\n"), std::nullopt);
  EXPECT_EQ(data_test_budget("# budget x\n"), std::nullopt);
  EXPECT_EQ(data_test_budget(""), std::nullopt);
}

}  // namespace
}  // namespace bpfdiff::cli::testing
