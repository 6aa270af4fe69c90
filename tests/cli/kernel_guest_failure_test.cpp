// Guest failures (panic, oops, hang, death) found by the kernel campaign are
// minimized and classified like the other kernel findings: fake guest
// kernels that "die" on any 64-bit ALU instruction with an immediate (so the
// smallest program that still kills one is a single such instruction), on
// the JIT guest only or on both.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fuzz/kernel_campaign/kernel_campaign.hpp"
#include "fuzz/kernel_campaign/kernel_finding.hpp"
#include "fuzz/kernel_campaign/kernel_minimize.hpp"
#include "fuzz/raw_input.hpp"
#include "oracle/kernel_qemu_engine.hpp"
#include "tests/support/read_text.hpp"
#include "vm/isa/encode.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using test_support::read_text;

bool has_alu64_imm(const vm::Program& p) {
  for (const isa::RawInsn& insn : p.slots) {
    if ((insn.opcode & 0x07) == 0x07 && (insn.opcode & 0x08) == 0) return true;  // BPF_ALU64 | BPF_K
  }
  return false;
}

// A guest kernel that runs our interpreter and agrees with it, except that a
// program with a 64-bit ALU immediate instruction "panics" its guest when
// `dies` is set: the pool's record (console) first, then a Failed response.
class DyingGuest final : public oracle::Engine {
 public:
  // `once`: the guest dies only the first time (a failure from outside).
  DyingGuest(std::string name, bool dies, fs::path record_dir, std::atomic<uint64_t>& deaths,
             bool once = false)
      : Engine(oracle::default_helpers()),
        name_(std::move(name)),
        dies_(dies),
        once_(once),
        record_dir_(std::move(record_dir)),
        deaths_(deaths),
        interp_(std::move(oracle::make_engine("interp")).value()) {}

  std::string_view name() const override { return name_; }

  oracle::Outcome run(const vm::Program& program, const oracle::EngineInput& input) override {
    oracle::Outcome out;
    out.engine = name_;
    out.kernel = oracle::KernelOutcome{};
    out.kernel->release = "6.12.0-fake";
    out.memory = input.memory;
    if (dies_ && has_alu64_imm(program) && !(once_ && deaths_ > 0)) {
      const fs::path record = record_dir_ / (name_ + "-panic-" + std::to_string(++deaths_));
      fs::create_directories(record);
      std::ofstream(record / "console.log")
          << "[    1.0] Kernel panic - not syncing: fake, " << program.slots.size() << " slots\n";
      out.kernel->verdict = oracle::kernel::KernelVerdict::Failed;
      out.kernel->log = "guest failure: panic: Kernel panic - not syncing: fake; finding " + record.string();
      out.load_error = out.kernel->log;
      return out;
    }
    const oracle::Outcome ours = interp_->run(program, input);
    if (!ours.ok() && ours.error.kind != vm::ErrorKind::BudgetExhausted) {
      out.kernel->verdict = oracle::kernel::KernelVerdict::Rejected;
      out.kernel->rejection_reason = "fake: faults in our VM";
      out.load_error = "rejected";
      return out;
    }
    out.kernel->verdict = oracle::kernel::KernelVerdict::Accepted;
    out.loaded = ours.loaded;
    out.regs = ours.regs;
    out.memory = ours.memory;
    out.error = ours.error;
    return out;
  }

 protected:
  Result<std::unique_ptr<oracle::Executor>> prepare_with(const vm::Program&, const vm::ExecLimits&,
                                                         const vm::HelperRegistry&) override {
    return make_error("fake guest loads per input");
  }

 private:
  std::string name_;
  bool dies_;
  bool once_;
  fs::path record_dir_;
  std::atomic<uint64_t>& deaths_;
  std::unique_ptr<oracle::Engine> interp_;
};

class GuestFailureFindings : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bpfdiff-guestfail-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    options_.engines = {"interp", "kernel-qemu", "kernel-qemu-interp"};
    options_.out = dir_.string();
    options_.minutes = 60;
    options_.max_programs = 1;
    options_.max_instructions = 32;
    options_.progress_seconds = 1e9;
    options_.verifier_stress_share = 0;
    options_.minimize_tests = 400;
    options_.isa_version = isa::IsaVersion::V4;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<KernelCampaignResult> run(bool interp_dies, bool once = false) {
    KernelCampaignHooks h;
    h.make_engine = [this, interp_dies,
                     once](const std::string& name) -> Result<std::unique_ptr<oracle::Engine>> {
      if (name == "kernel-qemu" || name == "kernel-qemu-interp") {
        const bool dies = name == "kernel-qemu" || interp_dies;
        return std::unique_ptr<oracle::Engine>(
            std::make_unique<DyingGuest>(name, dies, dir_ / "findings" / "guest",
                                         name == "kernel-qemu" ? jit_deaths_ : interp_deaths_, once));
      }
      return oracle::make_engine(name);
    };
    h.is_kernel_engine = [](const std::string& name) { return name.rfind("kernel-", 0) == 0; };
    return run_kernel_campaign(options_, nullptr, h);
  }

  fs::path dir_;
  KernelCampaignOptions options_;
  std::atomic<uint64_t> jit_deaths_{0};
  std::atomic<uint64_t> interp_deaths_{0};
};

TEST_F(GuestFailureFindings, APanicOfTheJitGuestOnlyIsMinimizedAndClassifiedJit) {
  auto r = run(false);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->findings.size(), 1u);
  EXPECT_EQ(r->findings[0].signature, "kernel-qemu.guest-panic.jit");
  const fs::path d = r->findings[0].dir;
  const json finding = json::parse(read_text(d / "finding.json"));
  EXPECT_EQ(finding["class"], "jit");
  EXPECT_EQ(finding["reproduced"], true);
  ASSERT_TRUE(finding.contains("minimized")) << finding.dump(2);
  EXPECT_EQ(finding["minimized"]["slots"], 1u) << "one ALU64 immediate instruction is all it takes";
  EXPECT_GT(finding["minimized"]["original_slots"].get<std::size_t>(), 1u);
  // The case written is the minimized one, with the record of its own death.
  std::ifstream in(d / "input.raw", std::ios::binary);
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  const fuzz::RawInput raw = fuzz::split_raw_input(bytes);
  ASSERT_EQ(raw.program.size(), 8u);
  EXPECT_EQ(raw.program[0] & 0x0f, 0x07) << "BPF_ALU64 | BPF_K";
  EXPECT_NE(read_text(d / "console.log").find("fake, 1 slots"), std::string::npos)
      << read_text(d / "console.log");
  EXPECT_TRUE(fs::exists(d / "original.raw"));
  EXPECT_EQ(interp_deaths_.load(), 0u);
}

TEST_F(GuestFailureFindings, BothGuestsPanickingAreOneFindingOfTheVerifierOrSharedCode) {
  auto r = run(true);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->findings.size(), 1u);
  EXPECT_EQ(r->findings[0].signature, "kernel-qemu.guest-panic.verifier-rewrite");
  const json finding = json::parse(read_text(fs::path(r->findings[0].dir) / "finding.json"));
  EXPECT_EQ(finding["minimized"]["slots"], 1u);
}

TEST_F(GuestFailureFindings, MinimizationRestoresTheGuestAtMostTheGivenNumberOfTimes) {
  options_.guest_minimize_failures = 3;
  auto r = run(false);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->findings.size(), 1u);
  // The campaign's own run, at most 3 candidates that died, and the
  // minimized program's run on every engine.
  EXPECT_LE(jit_deaths_.load(), 1u + 3u + 1u);
  EXPECT_GE(jit_deaths_.load(), 2u);
}

TEST_F(GuestFailureFindings, AFailureThatDoesNotComeBackIsMarkedAndKeptAsItWas) {
  auto r = run(false, /*once=*/true);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->findings.size(), 1u);
  const json finding = json::parse(read_text(fs::path(r->findings[0].dir) / "finding.json"));
  EXPECT_EQ(finding["reproduced"], false) << finding.dump(2);
  EXPECT_FALSE(finding.contains("minimized")) << "no candidate can be judged when the failure is chance";
  EXPECT_EQ(jit_deaths_.load(), 1u);
}

TEST(GuestFailureClass, NeedsBothSidesAndTheSameKind) {
  const auto failed = [](const std::string& kind) {
    oracle::Outcome o;
    o.kernel = oracle::KernelOutcome{};
    o.kernel->verdict = oracle::kernel::KernelVerdict::Failed;
    o.kernel->log = "guest failure: " + kind + ": detail; finding /tmp/x";
    return o;
  };
  oracle::Outcome fine;
  fine.kernel = oracle::KernelOutcome{};
  fine.kernel->verdict = oracle::kernel::KernelVerdict::Accepted;
  EXPECT_EQ(guest_failure_kind(failed("panic")), "panic");
  EXPECT_EQ(guest_failure_kind(fine), "");
  EXPECT_EQ(classify_guest_failure("panic", failed("panic"), failed("panic")),
            KernelBugClass::VerifierOrRewrite);
  EXPECT_EQ(classify_guest_failure("panic", failed("panic"), fine), KernelBugClass::Jit);
  EXPECT_EQ(classify_guest_failure("panic", fine, failed("panic")), KernelBugClass::Interpreter);
  EXPECT_EQ(classify_guest_failure("panic", failed("panic"), failed("hang")), KernelBugClass::Jit);
  EXPECT_EQ(classify_guest_failure("panic", failed("panic"), std::nullopt), KernelBugClass::Unclassified);
}

}  // namespace
}  // namespace bpfdiff::cli
