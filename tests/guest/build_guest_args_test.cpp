// scripts/build-guest.sh --source: what the kernel cache key depends on (the
// package version, the configuration, the patches' contents and order; not
// the patches' names) and how bad arguments are refused. --print-key stops
// before any download or build, so this always runs, offline.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#if !defined(BPFDIFF_SOURCE_DIR) || !defined(BPFDIFF_BINARY)
#error "BPFDIFF_SOURCE_DIR and BPFDIFF_BINARY must be set by CMake"
#endif

namespace {

namespace fs = std::filesystem;

struct ScriptRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class BuildGuestArgs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bpfdiff-build-guest-args-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }
  ScriptRun run(const std::vector<std::string>& args) {
    return run_command("bash " + quoted(std::string(BPFDIFF_SOURCE_DIR) + "/scripts/build-guest.sh"), args,
                       " --src-cache " + quoted((dir_ / "cache").string()));
  }
  ScriptRun run_command(const std::string& program, const std::vector<std::string>& args,
                        const std::string& tail = "") {
    std::string command = program;
    for (const std::string& a : args)
      command += " " + quoted(a);
    command += tail + " 2>&1";
    ScriptRun r;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return r;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
      r.output.append(buf, n);
    const int status = ::pclose(pipe);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }
  // The key of a 6.12 kernel of a fixed Debian version with `extra` arguments.
  std::string key(std::vector<std::string> extra, const std::string& version = "6.12.118-1~deb12u1") {
    std::vector<std::string> args = {"--source", "6.12", "--source-version", version, "--print-key"};
    args.insert(args.end(), extra.begin(), extra.end());
    const ScriptRun r = run(args);
    EXPECT_EQ(r.status, 0) << r.output;
    std::string k = r.output;
    while (!k.empty() && k.back() == '\n')
      k.pop_back();
    EXPECT_EQ(k.size(), 24u) << r.output;
    EXPECT_EQ(k.find_first_not_of("0123456789abcdef"), std::string::npos) << r.output;
    return k;
  }

  fs::path dir_;
};

TEST_F(BuildGuestArgs, TheKeyIsStableAndDependsOnVersionAndConfiguration) {
  const std::string plain = key({});
  EXPECT_EQ(key({}), plain);
  EXPECT_NE(key({}, "6.12.117-1~deb12u1"), plain);
  const std::string kcov = key({"--kcov"});
  const std::string kasan = key({"--kasan"});
  EXPECT_NE(kcov, plain);
  EXPECT_NE(kasan, plain);
  EXPECT_NE(kcov, kasan);
  EXPECT_NE(key({"--kcov", "--kasan"}), kcov);
  EXPECT_EQ(key({"--kasan", "--kcov"}), key({"--kcov", "--kasan"}));  // flags, not an order
  // Nothing was downloaded, unpacked or built.
  EXPECT_FALSE(fs::exists(dir_ / "cache"));
}

TEST_F(BuildGuestArgs, TheKeyDependsOnPatchContentsAndOrderNotTheirNames) {
  const fs::path a = write("a.patch", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-1\n+2\n");
  const fs::path a_renamed = write("renamed.patch", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-1\n+2\n");
  const fs::path b = write("b.patch", "--- a/y\n+++ b/y\n@@ -1 +1 @@\n-1\n+3\n");
  const std::string none = key({});
  const std::string with_a = key({"--patch", a.string()});
  EXPECT_NE(with_a, none);
  EXPECT_EQ(key({"--patch", a_renamed.string()}), with_a);
  const std::string ab = key({"--patch", a.string(), "--patch", b.string()});
  EXPECT_NE(ab, with_a);
  EXPECT_NE(key({"--patch", b.string(), "--patch", a.string()}), ab);
  // One byte of a patch changes the kernel.
  write("a.patch", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-1\n+4\n");
  EXPECT_NE(key({"--patch", a.string()}), with_a);
}

TEST_F(BuildGuestArgs, BadArgumentsAreRefusedWithAReason) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const fs::path empty = write("empty.patch", "");
  const std::vector<Case> cases = {
      {{"--source", "6.3", "--print-key"}, "--source takes 6.1 or 6.12, not '6.3'"},
      {{"--source", "6.12", "--patch", (dir_ / "missing.patch").string(), "--print-key"},
       "is not a readable file"},
      {{"--source", "6.12", "--patch", empty.string(), "--print-key"}, "is empty"},
      {{"--patch", empty.string()}, "is empty"},
      {{"--kcov"}, "need --source"},
      {{"--source", "6.12", "--kernel", "linux-image-6.1.0-50-cloud-amd64", "--print-key"},
       "does not take --kernel or --backports"},
      {{"--source", "6.12", "--no-such-flag"}, "unknown argument '--no-such-flag'"},
  };
  for (const Case& c : cases) {
    const ScriptRun r = run(c.args);
    EXPECT_EQ(r.status, 2) << c.args.front() << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(dir_ / "cache"));
}

TEST_F(BuildGuestArgs, GuestBuildPassesItsSourceOptionsToTheScript) {
  // `bpfdiff guest build` runs the script with the same options: its refusals
  // come back with the script's reason and exit status 2.
  const fs::path empty = write("empty.patch", "");
  const std::string bpfdiff = quoted(BPFDIFF_BINARY);
  ScriptRun r = run_command(bpfdiff, {"guest", "build", "--kcov"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("need --source"), std::string::npos) << r.output;
  r = run_command(bpfdiff, {"guest", "build", "--source", "6.12", "--patch", empty.string()});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("is empty"), std::string::npos) << r.output;
  r = run_command(bpfdiff, {"guest", "build", "--source", "5.10"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("5.10 not in {6.1,6.12}"), std::string::npos) << r.output;
}

TEST_F(BuildGuestArgs, TheBugBenchRefusesBadArgumentsBeforeBuildingAnything) {
  const std::string bench =
      "bash " + quoted(std::string(BPFDIFF_SOURCE_DIR) + "/scripts/kernel-bug-bench.sh");
  const fs::path patch = write("slip.patch", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-1\n+2\n");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "Usage: scripts/kernel-bug-bench.sh"},
      {{(dir_ / "missing.patch").string()}, "is not a file"},
      {{"--minutes", "0", patch.string()}, "--minutes takes a positive integer"},
      {{"--minutes", "x", patch.string()}, "--minutes takes a positive integer"},
      {{"--frobnicate", patch.string()}, "unknown option '--frobnicate'"},
  };
  for (const Case& c : cases) {
    const ScriptRun r = run_command(bench, c.args);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("building"), std::string::npos) << r.output;
  }
}

}  // namespace
