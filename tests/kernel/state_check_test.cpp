#include "oracle/verifier_state_check.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/verifier_stress.hpp"
#include "oracle/kernel/kernel_executor.hpp"
#include "tests/support/map_defs.hpp"
#include "tests/support/read_text.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle {
namespace {

std::string data_path(const char* name) {
  return std::string(BPFDIFF_KERNEL_DATA_DIR) + "/" + name;
}

using test_support::read_text;

// tests/kernel/data/state-check-basic.bin: u32 program length | program | memory.
struct Case {
  vm::Program program;
  std::vector<uint8_t> memory;
};

Case basic_case() {
  std::ifstream f(data_path("state-check-basic.bin"), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  uint32_t len = 0;
  std::memcpy(&len, bytes.data(), 4);
  Case c;
  c.program = vm::program_from_bytes(std::span<const uint8_t>(bytes).subspan(4, len)).value();
  c.memory.assign(bytes.begin() + 4 + len, bytes.end());
  return c;
}

// The log was captured behind the 11-slot prologue (map fd 3).
constexpr uint32_t kShift = 11;

kernel::VerifierLog parse(const std::string& text, const Case& c) {
  std::vector<isa::RawInsn> insns = state_check_prologue(3, static_cast<uint32_t>(c.memory.size()), true);
  EXPECT_EQ(insns.size(), kShift);
  insns.insert(insns.end(), c.program.slots.begin(), c.program.slots.end());
  return kernel::parse_verifier_log(text, insns);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

const std::string kBasicLog = read_text(data_path("state-check-basic.log"));

TEST(StateCheck, TheRealLogHoldsForTheRunItWasCapturedFor) {
  const Case c = basic_case();
  const StateCheckResult r = check_states(c.program, c.memory, parse(kBasicLog, c), kShift);
  EXPECT_EQ(r.status, CheckStatus::Checked);
  for (const StateViolation& v : r.violations)
    ADD_FAILURE() << v.describe();
  EXPECT_GT(r.values_checked, 10u);
  // The run reaches pc 10 (kernel pc 21), where the verifier pruned a path:
  // values are compared up to there, not after.
  EXPECT_EQ(r.steps_checked, 10u);
  EXPECT_GT(r.steps, r.steps_checked);
}

TEST(StateCheck, AFalsifiedRegisterBoundIsReportedWithPcRegisterValueAndClaim) {
  const Case c = basic_case();
  // `if r2 > 10 goto` now claims r2 <= 5 on the fall-through; memory holds r2 = 7.
  std::string text = kBasicLog;
  const std::string bound = "smax=umax=smax32=umax32=10,";
  text.replace(text.find(bound), bound.size(), "smax=umax=smax32=umax32=5,");
  const StateCheckResult r = check_states(c.program, c.memory, parse(text, c), kShift);
  ASSERT_EQ(r.violations.size(), 1u);
  const StateViolation& v = r.violations[0];
  EXPECT_EQ(v.kind, ViolationKind::Value);
  EXPECT_EQ(v.pc, 3u);
  EXPECT_EQ(v.where, "r2");
  EXPECT_EQ(v.value, 7u);
  EXPECT_NE(v.claim.find("umax32=5"), std::string::npos);
}

TEST(StateCheck, AFalsifiedSpilledConstantIsReported) {
  const Case c = basic_case();
  const std::string text = replace_all(kBasicLog, "fp-16=7", "fp-16=8");
  const StateCheckResult r = check_states(c.program, c.memory, parse(text, c), kShift);
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0].kind, ViolationKind::Slot);
  EXPECT_EQ(r.violations[0].pc, 9u);
  EXPECT_EQ(r.violations[0].where, "fp-16");
  EXPECT_EQ(r.violations[0].value, 7u);
}

// Before 6.8 a 4-byte spill prints like an 8-byte one: spilled values are
// then not compared (their upper bytes may be anything).
TEST(StateCheck, SpilledValuesAreComparedOnlyWhereTheLogMarksSpillSizes) {
  const Case c = basic_case();
  const std::string text = replace_all(kBasicLog, "fp-16=7", "fp-16=8");
  EXPECT_TRUE(check_states(c.program, c.memory, parse(text, c), kShift, false).violations.empty());
  EXPECT_FALSE(kernel_logs_spill_sizes("6.1.0-18-amd64"));
  EXPECT_FALSE(kernel_logs_spill_sizes("6.7.12"));
  EXPECT_TRUE(kernel_logs_spill_sizes("6.8.0"));
  EXPECT_TRUE(kernel_logs_spill_sizes("6.12.90+deb12.1-cloud-amd64"));
  EXPECT_TRUE(kernel_logs_spill_sizes("6.18.44-fc-v1272"));
}

TEST(StateCheck, AnInstructionMissingFromTheLogIsReportedAsUnvisited) {
  const Case c = basic_case();
  std::string text = kBasicLog;
  const std::size_t at = text.find("\n15: (67)");
  ASSERT_NE(at, std::string::npos);
  text.erase(at + 1, text.find('\n', at + 1) - at);
  const StateCheckResult r = check_states(c.program, c.memory, parse(text, c), kShift);
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0].kind, ViolationKind::Unvisited);
  EXPECT_EQ(r.violations[0].pc, 4u);
}

TEST(StateCheck, ValuesBeyondAPruningPointAreNotClaimsAboutThePrunedPath) {
  const Case c = basic_case();
  // A wrong claim after the pruning point (the callee's r0 at the return)
  // must not be reported: the check stopped at pc 10.
  const std::string text =
      replace_all(kBasicLog, "from 27 to 24: R0=scalar(id=2,", "from 27 to 24: R0=scalar(umax=1,");
  const StateCheckResult r = check_states(c.program, c.memory, parse(text, c), kShift);
  EXPECT_TRUE(r.violations.empty());
}

TEST(StateCheck, AnIncompleteLogClaimsNoUnvisitedInstructions) {
  const Case c = basic_case();
  std::string text = kBasicLog.substr(0, kBasicLog.find("\n15: (67)"));
  const StateCheckResult r = check_states(c.program, c.memory, parse(text, c), kShift);
  EXPECT_FALSE(r.log_complete);
  EXPECT_TRUE(r.violations.empty());
}

// Where bpf() works: the captured case again, live, and generated programs.
class StateCheckOnHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto probe = kernel::probe_kernel(); !probe)
      GTEST_SKIP() << "bpf() unusable: " << probe.error().message;
    auto c = VerifierStateChecker::create();
    ASSERT_TRUE(c) << c.error().message;
    checker_ = std::move(c).value();
  }
  std::unique_ptr<VerifierStateChecker> checker_;
};

TEST_F(StateCheckOnHost, TheCapturedCaseChecksCleanLive) {
  const Case c = basic_case();
  const StateCheckResult r = checker_->check(c.program, c.memory);
  ASSERT_EQ(r.status, CheckStatus::Checked) << r.reason;
  EXPECT_TRUE(r.log_complete);
  for (const StateViolation& v : r.violations)
    ADD_FAILURE() << v.describe();
  EXPECT_GT(r.values_checked, 10u);
}

TEST_F(StateCheckOnHost, GeneratedProgramsAreCheckedAndRejectionsAreNotChecked) {
  int checked = 0, rejected = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    fuzz::ByteSource src(seed);
    const fuzz::GeneratedCase g = fuzz::generate_verifier_stress(src);
    const StateCheckResult r = checker_->check(g.program, g.memory);
    checked += r.status == CheckStatus::Checked;
    rejected += r.status == CheckStatus::Rejected;
    for (const StateViolation& v : r.violations)
      ADD_FAILURE() << "seed " << seed << ": " << v.describe();
  }
  EXPECT_GT(checked, 0);
  EXPECT_GT(rejected, 0);
}

// Array entry 2 and a hash map's starting entry looked up, their value
// pointers moved, offset, spilled and filled: with the program's maps
// created in the kernel the program is checked, the verifier's map_value
// claims hold for our pointers, and they are claims: replayed with map 0's
// values 24 bytes apart instead of 16, the pointer into entry 2 lies in no
// value of a map of the logged sizes and is reported.
constexpr const char* kMapPointers =
    "stw [r10-4], 2\n"
    "lddw r1, map_fd(0)\nmov r2, r10\nadd r2, -4\ncall 1\n"
    "jeq r0, 0, out\n"
    "mov r7, r0\nadd r7, 8\nldxdw r3, [r7+0]\n"
    "stw [r10-8], 5\n"
    "lddw r1, map_fd(1)\nmov r2, r10\nadd r2, -8\ncall 1\n"
    "jeq r0, 0, out\n"
    "mov r8, r0\nstxdw [r10-16], r8\nldxdw r4, [r8+0]\nldxdw r9, [r10-16]\nldxdw r5, [r9+0]\n"
    "out:\nmov r0, 0\nexit";

vm::Program map_pointer_program(uint32_t array_value_size) {
  auto p = text::assemble(kMapPointers);
  EXPECT_TRUE(p.ok()) << p.error().message;
  vm::Program program = p.ok() ? *p : vm::Program{};
  program.maps = {test_support::array_map("a", array_value_size, 3),
                  test_support::hash_map("h", 4, 8, 2,
                                         {{{9, 0, 0, 0}, std::vector<uint8_t>(8, 1)},
                                          {{5, 0, 0, 0}, std::vector<uint8_t>(8, 2)}})};
  return program;
}

TEST_F(StateCheckOnHost, MapValuePointersOfTheProgramsMapsAreCheckedAgainstTheVerifiersClaims) {
  StateCheckOptions options;
  options.keep_log = true;
  auto with_log = VerifierStateChecker::create(options);
  ASSERT_TRUE(with_log) << with_log.error().message;
  const vm::Program program = map_pointer_program(16);
  const std::vector<uint8_t> memory(32, 0);  // not 16 bytes: no other map of the logged sizes
  const StateCheckResult r = (*with_log)->check(program, memory);
  ASSERT_EQ(r.status, CheckStatus::Checked) << r.reason << "\n" << r.log;
  for (const StateViolation& v : r.violations)
    ADD_FAILURE() << v.describe();
  EXPECT_NE(r.log.find("vs=16"), std::string::npos) << "the array's value pointers are in the log";
  EXPECT_GT(r.values_checked, 20u);

  uint32_t shift = 0;
  auto insns = (*with_log)->kernel_program(program, memory.size(), &shift);
  ASSERT_TRUE(insns) << insns.error().message;
  const kernel::VerifierLog log = kernel::parse_verifier_log(r.log, *insns);
  const StateCheckResult skewed = check_states(map_pointer_program(24), memory, log, shift);
  bool reported = false;
  for (const StateViolation& v : skewed.violations) {
    reported =
        reported || (v.kind == ViolationKind::Value && v.claim.find("map_value") != std::string::npos &&
                     v.value == vm::map_values_base(0) + 2 * 24 + 8);
  }
  EXPECT_TRUE(reported) << "violations: " << skewed.violations.size();
}

TEST_F(StateCheckOnHost, ProgramArraysAreNotCheckedWithTheReason) {
  vm::Program program = map_pointer_program(16);
  program.maps[1].type = vm::MapType::ProgArray;
  program.maps[1].key_size = 4;
  program.maps[1].value_size = 4;
  program.maps[1].initial_entries.clear();
  const StateCheckResult r = checker_->check(program, std::vector<uint8_t>(32, 0));
  EXPECT_EQ(r.status, CheckStatus::Unsupported);
  EXPECT_NE(r.reason.find("program array"), std::string::npos) << r.reason;
}

// Generated programs with array and hash maps (seeded or not): checked, and
// not one false report.
TEST_F(StateCheckOnHost, GeneratedMapProgramsAreCheckedWithoutFalseReports) {
  fuzz::VerifierStressOptions opt;
  opt.map_program_rate = 1.0;
  opt.hash_program_rate = 1.0;
  int checked = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    fuzz::ByteSource src(seed);
    const fuzz::GeneratedCase g = fuzz::generate_verifier_stress(src, opt);
    ASSERT_EQ(g.program.maps.size(), 2u);
    const StateCheckResult r = checker_->check(g.program, g.memory);
    EXPECT_NE(r.status, CheckStatus::Unsupported) << "seed " << seed << ": " << r.reason;
    EXPECT_NE(r.status, CheckStatus::Failed) << "seed " << seed << ": " << r.reason;
    checked += r.status == CheckStatus::Checked;
    for (const StateViolation& v : r.violations)
      ADD_FAILURE() << "seed " << seed << ": " << v.describe();
  }
  EXPECT_GT(checked, 20);
}

}  // namespace
}  // namespace bpfdiff::oracle
