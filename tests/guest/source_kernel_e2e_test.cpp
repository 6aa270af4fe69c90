// End to end with guest kernels built from Debian's source with a test
// patch that makes the verifier misbehave on one magic immediate: a kernel
// report in the guest's log while a program loads is a finding recorded with
// that program, before the guest is restored, and the restored guest runs the
// next program. Two reports: a WARN
// (tests/guest/kernel-patches/warn-on-magic-mov.patch, any configuration) and
// a KASAN slab-out-of-bounds read (kasan-on-magic-mov.patch, built --kasan).
// The test command never builds kernels, so each test skips, with the command
// that builds its image, unless that image is under build/guest/images/ (found
// by the patch and configuration named in its provenance file) and QEMU is
// present.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oracle/kernel/guest/guest_service.hpp"
#include "tests/support/read_text.hpp"

#ifndef BPFDIFF_SOURCE_DIR
#error "BPFDIFF_SOURCE_DIR must name the source tree (set by CMake)"
#endif

namespace bpfdiff::oracle::kernel::guest {
namespace {

namespace fs = std::filesystem;

using test_support::read_text;

// A kernel built by `build-guest.sh --source ... [--kasan] --patch .../patch`.
struct PatchedKernel {
  const char* patch;
  const char* config;  // a configuration fragment its provenance must name, or ""
  const char* build_flags;
};

constexpr PatchedKernel kWarnKernel{"warn-on-magic-mov.patch", "", ""};
constexpr PatchedKernel kKasanKernel{"kasan-on-magic-mov.patch", "kasan.config", "--kasan "};

std::string find_patched_image(const PatchedKernel& k) {
  const fs::path images = fs::path(BPFDIFF_SOURCE_DIR) / "build/guest/images";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(images, ec)) {
    const std::string provenance = read_text(entry.path() / "provenance");
    if (provenance.find(std::string("/") + k.patch + " ") == std::string::npos) continue;
    if (*k.config) {
      std::istringstream lines(provenance);
      std::string line;
      bool configured = false;
      while (std::getline(lines, line))
        if (line.rfind("config ", 0) == 0 && line.find(k.config) != std::string::npos) configured = true;
      if (!configured) continue;
    }
    if (fs::exists(entry.path() / "vmlinuz") && fs::exists(entry.path() / "initramfs.cpio"))
      return entry.path().string();
  }
  return "";
}

KernelRequest program(std::vector<isa::RawInsn> insns) {
  KernelRequest r;
  r.flags = kWantLogOnReject;
  r.program = std::move(insns);
  r.memory = std::vector<uint8_t>(64, 0);
  return r;
}

// What a report of `kind` must look like: the finding's kind and title, and
// a line of the guest's console.
struct ExpectedReport {
  int32_t magic_imm;
  const char* kind;              // finding.json's kernel_report, and the directory's prefix
  const char* log_fragment;      // in the failed request's log
  const char* title_fragment;    // in finding.json's kernel_report_title
  const char* console_fragment;  // in console.log
};

void expect_report_becomes_finding(const PatchedKernel& kernel, const ExpectedReport& report) {
  const std::string image = find_patched_image(kernel);
  if (image.empty())
    GTEST_SKIP() << "no guest image built with " << kernel.patch
                 << " (build one with: scripts/build-guest.sh --source 6.12 " << kernel.build_flags
                 << "--patch tests/guest/kernel-patches/" << kernel.patch << " --no-current)";
  GuestServiceOptions o;
  o.image_dir = image;
  if (auto available = guest_engines_available(o); !available) GTEST_SKIP() << available.error().message;
  const fs::path findings =
      fs::temp_directory_path() / ("bpfdiff-srckernel-e2e-" + std::to_string(::getpid()));
  o.findings_dir = findings.string();
  o.accel = Accel::Tcg;
  auto started = GuestService::start(o);
  ASSERT_TRUE(started) << started.error().message;
  GuestPool& pool = (*started)->pool();

  // A plain program: no report, no finding.
  KernelResponse plain = pool.execute(program({{0xb7, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}}));
  ASSERT_EQ(plain.verdict, KernelVerdict::Accepted) << plain.log;
  EXPECT_EQ(plain.regs[0], 7u);
  EXPECT_TRUE(pool.stats().findings.empty());

  // The magic immediate: the kernel reports, the program still loads and runs.
  KernelResponse reported = pool.execute(program({{0xb7, 0, 0, 0, report.magic_imm}, {0x95, 0, 0, 0, 0}}));
  EXPECT_EQ(reported.verdict, KernelVerdict::Failed);
  EXPECT_NE(reported.log.find(report.log_fragment), std::string::npos) << reported.log;
  const PoolStats stats = pool.stats();
  ASSERT_EQ(stats.findings.size(), 1u);
  const fs::path dir = stats.findings[0];
  EXPECT_EQ(dir.filename().string().rfind(std::string("guest-") + report.kind + "-", 0), 0u) << dir;
  const auto j = nlohmann::json::parse(read_text(dir / "finding.json"), nullptr, false);
  EXPECT_EQ(j.value("kernel_report", ""), report.kind);
  EXPECT_NE(j.value("kernel_report_title", "").find(report.title_fragment), std::string::npos)
      << j.value("kernel_report_title", "");
  EXPECT_NE(read_text(dir / "console.log").find(report.console_fragment), std::string::npos);
  const std::string bin = read_text(dir / "program.bin");
  ASSERT_EQ(bin.size(), 16u);
  for (int i = 0; i < 4; ++i)  // the magic immediate, little endian
    EXPECT_EQ(static_cast<uint8_t>(bin[4 + i]),
              static_cast<uint8_t>(static_cast<uint32_t>(report.magic_imm) >> (8 * i)));

  // Restored: the next program runs on a clean kernel.
  KernelResponse after = pool.execute(program({{0xb7, 0, 0, 0, 9}, {0x95, 0, 0, 0, 0}}));
  EXPECT_EQ(after.verdict, KernelVerdict::Accepted) << after.log;
  EXPECT_EQ(after.regs[0], 9u);
  EXPECT_EQ(pool.stats().findings.size(), 1u);
  started->reset();
  std::error_code ec;
  fs::remove_all(findings, ec);
}

TEST(SourceKernelGuest, AWarnDuringALoadIsAFindingWithThatProgramThenTheGuestIsRestored) {
  expect_report_becomes_finding(kWarnKernel,
                                {0x5741524e, "warning", "guest failure: warning: kernel log: WARNING: ",
                                 "kernel/bpf/verifier.c", "bpfdiff test: mov64 of the magic immediate"});
}

TEST(SourceKernelGuest, AKasanReportDuringALoadIsAFindingWithThatProgramThenTheGuestIsRestored) {
  expect_report_becomes_finding(
      kKasanKernel, {0x4b41534e, "kasan", "guest failure: kasan: kernel log: BUG: KASAN: slab-out-of-bounds",
                     "BUG: KASAN: slab-out-of-bounds in ", "Read of size 1 at addr"});
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
