// End to end with a guest kernel built from Debian's source with a test
// patch (tests/guest/kernel-patches/warn-on-magic-mov.patch: the verifier
// WARNs when it reaches `r = 0x5741524e`): a WARN in the guest's kernel log
// while a program loads is a finding recorded with that program, before the
// guest is restored, and the restored guest runs the next program.
// The test command never builds kernels, so this skips, with the command that
// builds the image, unless that image is under build/guest/images/ (found by
// the patch named in its provenance file) and QEMU is present.
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

constexpr const char* kPatch = "warn-on-magic-mov.patch";
constexpr int32_t kMagicImm = 0x5741524e;

using test_support::read_text;

// An image built by `build-guest.sh --source ... --patch .../kPatch`.
std::string find_patched_image() {
  const fs::path images = fs::path(BPFDIFF_SOURCE_DIR) / "build/guest/images";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(images, ec)) {
    const std::string provenance = read_text(entry.path() / "provenance");
    if (provenance.find(std::string("/") + kPatch + " ") != std::string::npos &&
        fs::exists(entry.path() / "vmlinuz") && fs::exists(entry.path() / "initramfs.cpio"))
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

TEST(SourceKernelGuest, AWarnDuringALoadIsAFindingWithThatProgramThenTheGuestIsRestored) {
  const std::string image = find_patched_image();
  if (image.empty())
    GTEST_SKIP()
        << "no guest image built with " << kPatch
        << " (build one with: scripts/build-guest.sh --source 6.12 --patch tests/guest/kernel-patches/"
        << kPatch << " --no-current)";
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

  // The magic immediate: the verifier WARNs, the program still loads and runs.
  KernelResponse warned = pool.execute(program({{0xb7, 0, 0, 0, kMagicImm}, {0x95, 0, 0, 0, 0}}));
  EXPECT_EQ(warned.verdict, KernelVerdict::Failed);
  EXPECT_NE(warned.log.find("guest failure: warning: kernel log: WARNING: "), std::string::npos)
      << warned.log;
  const PoolStats stats = pool.stats();
  ASSERT_EQ(stats.findings.size(), 1u);
  const fs::path dir = stats.findings[0];
  EXPECT_EQ(dir.filename().string().rfind("guest-warning-", 0), 0u) << dir;
  const auto j = nlohmann::json::parse(read_text(dir / "finding.json"), nullptr, false);
  EXPECT_EQ(j.value("kernel_report", ""), "warning");
  EXPECT_NE(j.value("kernel_report_title", "").find("kernel/bpf/verifier.c"), std::string::npos);
  EXPECT_NE(read_text(dir / "console.log").find("bpfdiff test: mov64 of the magic immediate"),
            std::string::npos);
  const std::string bin = read_text(dir / "program.bin");
  ASSERT_EQ(bin.size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(bin[4]), 0x4e);  // the magic immediate, little endian
  EXPECT_EQ(static_cast<uint8_t>(bin[7]), 0x57);

  // Restored: the next program runs on a clean kernel.
  KernelResponse after = pool.execute(program({{0xb7, 0, 0, 0, 9}, {0x95, 0, 0, 0, 0}}));
  EXPECT_EQ(after.verdict, KernelVerdict::Accepted) << after.log;
  EXPECT_EQ(after.regs[0], 9u);
  EXPECT_EQ(pool.stats().findings.size(), 1u);
  started->reset();
  std::error_code ec;
  fs::remove_all(findings, ec);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
