// ONE end-to-end test of the pool daemon with a real guest: `bpfdiff guest
// start`, two `bpfdiff run --engine kernel-qemu` processes that the daemon
// serves (its log counts their requests), `bpfdiff guest stop`. The daemon
// serves a private copy of the image directory (symlinks), so a daemon the
// user runs for the real image is neither reused nor stopped. Skipped, with
// the reason, without the image of scripts/build-guest.sh or QEMU.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel/guest/pool_daemon.hpp"
#include "tests/support/read_text.hpp"

namespace bpfdiff {
namespace {

namespace fs = std::filesystem;
namespace guest = oracle::kernel::guest;

struct Ran {
  int status = -1;
  std::string output;  // stdout and stderr
};

Ran run(const std::string& command) {
  Ran r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    r.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

using test_support::read_text;

TEST(GuestDaemonE2E, StartServeTwoRunsStop) {
  const guest::GuestServiceOptions defaults = guest::options_from_environment();
  if (auto available = guest::guest_engines_available(defaults); !available)
    GTEST_SKIP() << available.error().message;

  std::string pattern = (fs::temp_directory_path() / "bpfdiff-daemon-e2e-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path image = pattern;
  for (const char* file : {"vmlinuz", "initramfs.cpio", "release"})
    fs::create_symlink(fs::absolute(fs::path(defaults.image_dir) / file), image / file);
  const std::string bpfdiff = BPFDIFF_BINARY;
  const std::string image_arg = " --image '" + image.string() + "'";

  const Ran start = run(bpfdiff + " guest start --accel tcg --findings '" + (image / "findings").string() +
                        "'" + image_arg);
  ASSERT_EQ(start.status, 0) << start.output;
  EXPECT_NE(start.output.find("started: pid"), std::string::npos) << start.output;
  const Ran again = run(bpfdiff + " guest start" + image_arg);
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("already running"), std::string::npos) << again.output;

  // factorial.asm leaves 10! in r0; both processes get it from the daemon.
  const std::string program = std::string(BPFDIFF_SOURCE_DIR) + "/corpus/examples/factorial.asm";
  for (int i = 0; i < 2; ++i) {
    const Ran r = run("BPFDIFF_GUEST_DIR='" + image.string() + "' " + bpfdiff +
                      " run --engine kernel-qemu '" + program + "'");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("0x375f00"), std::string::npos) << r.output;
  }

  const Ran stop = run(bpfdiff + " guest stop" + image_arg);
  EXPECT_EQ(stop.status, 0) << stop.output;
  EXPECT_NE(stop.output.find("stopped guest pool daemon"), std::string::npos) << stop.output;
  const std::string run_dir = guest::daemon_run_dir(image.string());
  EXPECT_FALSE(fs::exists(guest::daemon_info_path(run_dir)));
  // The daemon's own account: the two runs were its requests (no process
  // booted a guest of its own).
  const std::string log = read_text(guest::daemon_log_path(run_dir));
  EXPECT_NE(log.find(", 2 request(s), 0 guest failure(s)"), std::string::npos) << log;

  std::error_code ec;
  fs::remove_all(image, ec);
}

}  // namespace
}  // namespace bpfdiff
