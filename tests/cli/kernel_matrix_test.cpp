// scripts/kernel-matrix.sh as the nightly runs it, on the one kernel every
// test machine has a section for: the host's (a few seconds of campaign, or a
// "skipped" section with the reason when bpf() is not permitted). Checks the
// summary's structure against the campaign's own report, and that bad
// arguments stop the script before it runs anything.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/process.hpp"
#include "tests/support/read_text.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using testing::run_process;
using testing::TempDir;

const std::string kScript = std::string(BPFDIFF_SOURCE_DIR) + "/scripts/kernel-matrix.sh";

using test_support::read_text;

testing::ProcessResult matrix(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/env", std::string("BPFDIFF=") + BPFDIFF_BIN, "bash", kScript};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

TEST(KernelMatrix, HostSectionSummarizesItsCampaign) {
  TempDir dir;
  const auto r = matrix({"--kernels", "host", "--minutes", "0.03", "--out", dir.path()});
  // 1 would mean the host kernel disagreed with us: a finding, still summarized.
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err << r.out;
  const auto j = nlohmann::json::parse(read_text(fs::path(dir.path()) / "matrix.json"));
  EXPECT_EQ(j["kind"], "kernel matrix");
  ASSERT_EQ(j["sections"].size(), 1u);
  const auto& host = j["sections"][0];
  EXPECT_EQ(host["kernel"], "host");
  const std::string md = read_text(fs::path(dir.path()) / "matrix.md");
  const std::string status = host["status"];
  if (status == "skipped") {
    EXPECT_NE(host["note"].get<std::string>().find("bpf()"), std::string::npos) << host.dump();
    EXPECT_NE(md.find("## host: skipped -- bpf() is not permitted"), std::string::npos) << md;
    return;
  }
  EXPECT_EQ(status, r.exit_code == 0 ? "agree" : "findings");
  // The section carries the campaign's own report, which is on disk too.
  const auto report = nlohmann::json::parse(read_text(fs::path(dir.path()) / "host" / "report.json"));
  EXPECT_EQ(host["report"], report);
  EXPECT_GT(report["programs"].get<uint64_t>(), 0u);
  EXPECT_EQ(report["isa_version"], 4);
  ASSERT_TRUE(report["kernels"].contains("kernel-host"));
  EXPECT_NE(md.find("## host: " + status), std::string::npos) << md;
  EXPECT_NE(md.find("ISA v4, programs " + std::to_string(report["programs"].get<uint64_t>())),
            std::string::npos)
      << md;
  EXPECT_NE(
      md.find("| kernel-host | " + report["kernels"]["kernel-host"]["release"].get<std::string>() + " | "),
      std::string::npos)
      << md;
}

TEST(KernelMatrix, UnknownKernelStopsBeforeAnyCampaign) {
  TempDir dir;
  const auto r = matrix({"--kernels", "host,5.10", "--minutes", "0.03", "--out", dir.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown kernel '5.10'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "host"));
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "matrix.json"));
}

TEST(KernelMatrix, MinutesMustBeANumber) {
  TempDir dir;
  const auto r = matrix({"--kernels", "host", "--minutes", "soon", "--out", dir.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--minutes takes a number"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bpfdiff::cli
