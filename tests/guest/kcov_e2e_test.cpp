// End to end with a guest kernel built with KCOV (scripts/build-guest.sh
// --source 6.12 --kcov): the agent traces the verifier and the JIT around a
// request that asks for it and reports each edge once; a request that does
// not ask gets no trace. The test command never builds kernels, so this
// skips, with the command that builds the image, unless such an image is
// under build/guest/images/ (found by kcov.config in its provenance) and
// QEMU is present.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "oracle/kernel/guest/guest_service.hpp"
#include "tests/support/read_text.hpp"

#ifndef BPFDIFF_SOURCE_DIR
#error "BPFDIFF_SOURCE_DIR must name the source tree (set by CMake)"
#endif

namespace bpfdiff::oracle::kernel::guest {
namespace {

namespace fs = std::filesystem;

using test_support::read_text;

// An image of `build-guest.sh --source ... --kcov` and no other patch than
// the recipe's own, so the verifier is the stock one.
std::string find_kcov_image() {
  const fs::path images = fs::path(BPFDIFF_SOURCE_DIR) / "build/guest/images";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(images, ec)) {
    std::istringstream provenance(read_text(entry.path() / "provenance"));
    bool kcov = false;
    int patches = 0;
    for (std::string line; std::getline(provenance, line);) {
      if (line.rfind("config ", 0) == 0 && line.find("kcov.config") != std::string::npos) kcov = true;
      if (line.rfind("patch ", 0) == 0 && line.find("kcov-bpf-only.patch") == std::string::npos) ++patches;
    }
    if (kcov && patches == 0 && fs::exists(entry.path() / "vmlinuz") &&
        fs::exists(entry.path() / "initramfs.cpio"))
      return entry.path().string();
  }
  return "";
}

KernelRequest program(std::vector<isa::RawInsn> insns, uint32_t flags) {
  KernelRequest r;
  r.flags = kWantLogOnReject | flags;
  r.program = std::move(insns);
  r.memory = std::vector<uint8_t>(64, 0);
  return r;
}

TEST(KcovGuest, TheAgentTracesTheVerifierAndReportsEachEdgeOnce) {
  const std::string image = find_kcov_image();
  if (image.empty())
    GTEST_SKIP() << "no guest image built with --kcov (build one with: scripts/build-guest.sh --source 6.12 "
                    "--kcov --no-current)";
  GuestServiceOptions o;
  o.image_dir = image;
  if (auto available = guest_engines_available(o); !available) GTEST_SKIP() << available.error().message;
  const fs::path findings = fs::temp_directory_path() / ("bpfdiff-kcov-e2e-" + std::to_string(::getpid()));
  o.findings_dir = findings.string();
  o.accel = Accel::Tcg;
  auto started = GuestService::start(o);
  ASSERT_TRUE(started) << started.error().message;
  GuestPool& pool = (*started)->pool();

  // r0 = 7 with a branch the verifier walks both ways.
  const std::vector<isa::RawInsn> branchy = {
      {0xb7, 0, 0, 0, 7}, {0x61, 2, 1, 0, 0}, {0x55, 2, 0, 1, 3}, {0xb7, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}};
  KernelResponse first = pool.execute(program(branchy, kWantCoverage));
  ASSERT_EQ(first.verdict, KernelVerdict::Accepted) << first.log;
  EXPECT_EQ(first.regs[0], 7u);
  ASSERT_EQ(first.coverage.state, CoverageState::Collected) << first.coverage.note;
  EXPECT_GT(first.coverage.trace_pcs, 1000u);  // two loads, two JIT compiles, two runs
  EXPECT_FALSE(first.coverage.truncated);
  EXPECT_GT(first.coverage.new_edges.size(), 100u);

  // The same program again: its edges were reported already.
  KernelResponse again = pool.execute(program(branchy, kWantCoverage));
  ASSERT_EQ(again.coverage.state, CoverageState::Collected);
  EXPECT_GT(again.coverage.trace_pcs, 1000u);
  EXPECT_LT(again.coverage.new_edges.size(), first.coverage.new_edges.size() / 10);

  // An infinite loop takes the verifier down a path the first did not.
  KernelResponse rejected = pool.execute(program({{0x05, 0, 0, -1, 0}, {0x95, 0, 0, 0, 0}}, kWantCoverage));
  EXPECT_EQ(rejected.plain.verdict, KernelVerdict::Rejected) << rejected.plain.log;
  ASSERT_EQ(rejected.coverage.state, CoverageState::Collected);
  EXPECT_FALSE(rejected.coverage.new_edges.empty());

  // Not asked: no trace.
  KernelResponse untraced = pool.execute(program(branchy, 0));
  EXPECT_EQ(untraced.verdict, KernelVerdict::Accepted);
  EXPECT_EQ(untraced.coverage.state, CoverageState::NotRequested);
  EXPECT_TRUE(untraced.coverage.new_edges.empty());
  EXPECT_TRUE(pool.stats().findings.empty());
  started->reset();
  std::error_code ec;
  fs::remove_all(findings, ec);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
