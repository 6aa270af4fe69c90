// kernel-host as an engine: every program of corpus/conformance and
// corpus/examples against our interpreter under the kernel rules, and
// full-64-bit ALU/JMP agreement. Skips (with the probe's reason) where bpf()
// cannot load and run programs.
#include "oracle/kernel_host_engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_engine.hpp"
#include "oracle/run/input.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle {
namespace {

class KernelHostEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto probe = kernel_host_available(); !probe) GTEST_SKIP() << probe.error().message;
    auto k = make_engine(kKernelHostEngine);
    ASSERT_TRUE(k.ok()) << k.error().message;
    kernel_ = std::move(k).value();
    interp_ = std::move(make_engine("interp")).value();
  }

  KernelComparison both(const vm::Program& program, const std::vector<uint8_t>& memory,
                        Outcome* kernel = nullptr) {
    EngineInput input;
    input.memory = memory;
    const Outcome ours = interp_->run(program, input);
    const Outcome theirs = kernel_->run(program, input);
    if (kernel != nullptr) *kernel = theirs;
    return compare_with_kernel(ours, theirs);
  }

  KernelComparison both(const std::string& text, const std::vector<uint8_t>& memory = {}) {
    auto p = text::assemble(text);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return both(p.ok() ? *p : vm::Program{}, memory);
  }

  std::unique_ptr<Engine> kernel_;
  std::unique_ptr<Engine> interp_;
};

TEST(KernelEngineNames, KernelEnginesAreListedApartFromOurs) {
  const auto ours = engine_names();
  EXPECT_EQ(std::count(ours.begin(), ours.end(), kKernelHostEngine), 0)
      << "the interp-vs-JIT targets iterate engine_names()";
  const auto kernels = kernel_engine_names();
  EXPECT_EQ(std::count(kernels.begin(), kernels.end(), kKernelHostEngine), 1);
  const auto all = all_engine_names();
  for (const auto* list : {&ours, &kernels}) {
    for (const std::string& name : *list)
      EXPECT_EQ(std::count(all.begin(), all.end(), name), 1) << name;
  }
}

TEST_F(KernelHostEngineTest, CorpusProgramsNeverMismatchAndMostAreAccepted) {
  std::map<std::string, int> kinds;
  std::vector<std::string> accepted;
  for (const char* dir : {"conformance", "examples"}) {
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(BPFDIFF_CORPUS_DIR) + "/" + dir)) {
      auto input = cli::load_program_file(entry.path().string(), default_helpers());
      ASSERT_TRUE(input.ok()) << input.error().message;
      const std::vector<uint8_t> memory = input->data ? input->data->memory : std::vector<uint8_t>{};
      Outcome kernel;
      const KernelComparison c = both(input->program, memory, &kernel);
      EXPECT_FALSE(c.finding()) << entry.path() << ": " << to_string(c.kind) << ": " << c.reason
                                << (c.differences.empty() ? "" : "\n  " + to_string(c.differences[0]));
      ++kinds[to_string(c.kind)];
      if (c.kind != KernelAgreement::Agree) {
        std::cout << "  " << entry.path().filename().string() << ": " << to_string(c.kind) << ": " << c.reason
                  << "\n";
      }
      if (c.kind == KernelAgreement::Agree) accepted.push_back(entry.path().filename().string());
    }
  }
  std::string summary;
  for (const auto& [kind, n] : kinds)
    summary += kind + ": " + std::to_string(n) + "  ";
  RecordProperty("summary", summary);
  std::cout << "corpus vs kernel-host: " << summary << "\n";
  // Half of the corpus is ordinary ALU/JMP/memory code the kernel accepts
  // (20 of 43 on 6.18); the rest tests faults, limits and forms the
  // verifier refuses (constant division by zero, shifts by 64, ld_abs,
  // callx, unbounded recursion, unreachable code).
  EXPECT_GE(accepted.size(), 15u) << summary;
}

TEST_F(KernelHostEngineTest, Alu64AndJmpAgreeOnFull64BitValues) {
  const std::vector<std::pair<uint64_t, uint64_t>> values = {{0x8000000000000000, 0xffffffffffffffff},
                                                             {0x0123456789abcdef, 0xfedcba9876543210},
                                                             {0xffffffff, 0x100000000},
                                                             {7, 0xfffffffffffffff9},
                                                             {0x7fffffffffffffff, 1}};
  const char* ops[] = {"add", "sub", "mul", "div", "mod", "or", "and", "xor", "lsh", "rsh", "arsh"};
  for (const auto& [a, b] : values) {
    for (const char* op : ops) {
      const std::string text = "lddw r3, " + std::to_string(a) + "\nlddw r4, " + std::to_string(b) +
                               "\nmov r5, r3\n" + op + " r5, r4\nmov32 r6, r3\n" + op +
                               "32 r6, r4\nmov r0, 0\njsgt r3, r4, +1\nmov r0, 1\nexit\n";
      const KernelComparison c = both(text);
      EXPECT_EQ(c.kind, KernelAgreement::Agree)
          << op << " " << a << ", " << b << ": " << c.reason
          << (c.differences.empty() ? "" : "\n  " + to_string(c.differences[0]));
    }
  }
}

TEST_F(KernelHostEngineTest, PointersCompareAsRegionAndOffset) {
  const KernelComparison c = both(
      "mov r3, r1\nadd r3, 3\nmov r4, r10\nadd r4, -64\nstxb [r3+0], r2\nmov r0, r1\nexit\n", {0, 0, 0, 0});
  EXPECT_EQ(c.kind, KernelAgreement::Agree)
      << c.reason << (c.differences.empty() ? "" : "\n  " + to_string(c.differences[0]));
}

TEST_F(KernelHostEngineTest, ARejectionCarriesTheVerifierLog) {
  Outcome kernel;
  auto p = text::assemble("ldxw r0, [r1+8]\nexit\n");
  ASSERT_TRUE(p.ok());
  const KernelComparison c = both(*p, {1, 2, 3, 4}, &kernel);
  EXPECT_EQ(c.kind, KernelAgreement::KernelRejected);
  EXPECT_FALSE(c.finding()) << "our VM faults too, at run time; the verifier caught it first";
  ASSERT_TRUE(kernel.kernel);
  EXPECT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Rejected);
  EXPECT_NE(kernel.kernel->log.find("invalid access to map value"), std::string::npos) << kernel.kernel->log;
  EXPECT_NE(kernel.load_error.find("kernel verifier rejected it (EACCES)"), std::string::npos)
      << kernel.load_error;
  EXPECT_FALSE(kernel.kernel->release.empty());
}

TEST_F(KernelHostEngineTest, AnUninitialisedStackReadIsFlagged) {
  Outcome kernel;
  auto p = text::assemble("ldxdw r0, [r10-64]\nexit\n");
  ASSERT_TRUE(p.ok());
  both(*p, {}, &kernel);
  ASSERT_TRUE(kernel.kernel);
  // Privileged programs may read stack they never wrote; ours reads 0 there.
  ASSERT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Accepted) << kernel.load_error;
  EXPECT_TRUE(kernel.kernel->uninitialized_stack_read);
  auto written = text::assemble("stdw [r10-64], 5\nldxdw r0, [r10-64]\nexit\n");
  ASSERT_TRUE(written.ok());
  both(*written, {}, &kernel);
  ASSERT_TRUE(kernel.ok());
  EXPECT_FALSE(kernel.kernel->uninitialized_stack_read);
  EXPECT_EQ(kernel.regs[0], 5u);
}

TEST_F(KernelHostEngineTest, PointerBitsBeyondTranslationAreFlagged) {
  Outcome kernel;
  // A 32-bit store of a pointer keeps the kernel address's low half.
  auto p = text::assemble("stxw [r1+0], r1\nmov r0, 0\nexit\n");
  ASSERT_TRUE(p.ok());
  const KernelComparison c = both(*p, {0, 0, 0, 0}, &kernel);
  ASSERT_TRUE(kernel.ok()) << kernel.load_error;
  EXPECT_TRUE(kernel.kernel->pointer_bits_exposed);
  EXPECT_EQ(c.kind, KernelAgreement::NotComparable) << c.reason;
  // Moving, offsetting and storing a whole pointer translates exactly.
  auto whole = text::assemble("mov r3, r1\nadd r3, 8\nstxdw [r1+0], r3\nsub r3, r1\nmov r0, r3\nexit\n");
  ASSERT_TRUE(whole.ok());
  const KernelComparison w = both(*whole, std::vector<uint8_t>(16, 0), &kernel);
  EXPECT_FALSE(kernel.kernel->pointer_bits_exposed);
  EXPECT_EQ(w.kind, KernelAgreement::Agree) << w.reason;
}

TEST_F(KernelHostEngineTest, PrepareSaysWhereToUseTheEngine) {
  auto p = text::assemble("mov r0, 1\nexit\n");
  ASSERT_TRUE(p.ok());
  auto prepared = kernel_->prepare(*p, vm::ExecLimits{});
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.error().message.find("bpfdiff diff"), std::string::npos);
}

// The request flags a kernel engine sends: the campaign's reason-only logs
// on every request, the unmodified-only run on the one it asks for.
TEST(KernelEngineFlags, ReasonOnlyLogsStayAndUnmodifiedOnlyIsPerRequest) {
  std::vector<uint32_t> sent;
  KernelEngine engine(default_helpers(), "recording-kernel", 0, [&](const kernel::KernelRequest& r) {
    sent.push_back(r.flags);
    kernel::KernelResponse response;
    response.verdict = kernel::KernelVerdict::Unsupported;
    return response;
  });
  auto p = text::assemble("mov r0, 1\nexit\n");
  ASSERT_TRUE(p.ok());
  use_reason_only_logs(engine);
  (void)run_unmodified_only(engine, *p, EngineInput{});
  (void)engine.run(*p, EngineInput{});
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0] & kernel::kPlainOnly);
  EXPECT_FALSE(sent[1] & kernel::kPlainOnly);
  for (uint32_t flags : sent) {
    EXPECT_TRUE(flags & kernel::kReasonOnlyLog);
    EXPECT_TRUE(flags & kernel::kWantLogOnReject);
  }
}

// A batch goes to the batch executor as one call, each request with its
// own extra flags, and comes back as the outcomes running them one by one
// would give; a program the kernel cannot start is answered without a
// request, in its place.
TEST(KernelEngineBatch, ABatchIsOneCallWithTheOutcomesOfRunningEachAlone) {
  const auto answer = [](const kernel::KernelRequest& r) {
    kernel::KernelResponse response;
    response.verdict = kernel::KernelVerdict::Accepted;
    response.plain.verdict = kernel::KernelVerdict::Accepted;
    response.regs[0] = r.program.size();
    response.plain.retval = static_cast<uint32_t>(r.flags);
    response.memory = r.memory;
    response.duration_ns = 1000;
    return response;
  };
  KernelEngine engine(default_helpers(), "recording-kernel", 0, answer);
  std::vector<std::size_t> batch_sizes;
  engine.set_batch_executor(
      [&](std::span<const kernel::KernelRequest> requests,
          const std::function<void(std::size_t, kernel::KernelResponse &&)>& on_response) {
        batch_sizes.push_back(requests.size());
        for (std::size_t i = 0; i < requests.size(); ++i)
          on_response(i, answer(requests[i]));
      });
  auto one = text::assemble("mov r0, 1\nexit\n");
  auto three = text::assemble("mov r0, 1\nmov r0, 2\nexit\n");
  // An entry at pc 2 whose jump leaves its function: not expressible as a
  // kernel program (kernel_entry_program.hpp), so never a request.
  auto jump_out = text::assemble("mov r0, 1\nexit\nja -3\n");
  ASSERT_TRUE(one.ok() && three.ok() && jump_out.ok());
  vm::Program late_entry = *jump_out;
  late_entry.entry = 2;
  EngineInput input;
  input.memory = {1, 2, 3};
  const std::vector<KernelEngine::BatchRun> runs = {
      {&*one, &input, 0}, {&late_entry, &input, 0}, {&*three, &input, kernel::kPlainOnly}};
  const std::vector<Outcome> batch = engine.run_batch(runs);
  ASSERT_EQ(batch_sizes, std::vector<std::size_t>{2});  // the late entry never became a request
  ASSERT_EQ(batch.size(), 3u);
  const Outcome alone[] = {engine.run(*one, input), engine.run(late_entry, input),
                           engine.run_with_flags(*three, input, kernel::kPlainOnly)};
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(batch[i].kernel && alone[i].kernel) << i;
    EXPECT_EQ(batch[i].kernel->verdict, alone[i].kernel->verdict) << i;
    EXPECT_EQ(batch[i].regs, alone[i].regs) << i;
    EXPECT_EQ(batch[i].kernel->plain.retval, alone[i].kernel->plain.retval) << i;
    EXPECT_EQ(batch[i].memory, alone[i].memory) << i;
  }
  EXPECT_EQ(batch[1].kernel->verdict, kernel::KernelVerdict::Unsupported);
  EXPECT_TRUE(batch[2].kernel->plain.retval & kernel::kPlainOnly);
  EXPECT_FALSE(batch[0].kernel->plain.retval & kernel::kPlainOnly);
}

}  // namespace
}  // namespace bpfdiff::oracle
