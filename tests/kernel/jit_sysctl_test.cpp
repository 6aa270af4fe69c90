#include "oracle/kernel/jit_sysctl.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "oracle/kernel/kernel_request.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

// A stand-in for /proc/sys/net/core with plain files.
class FakeSysctlDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bpfdiff-sysctl-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    write("bpf_jit_enable", "1\n");
    write("bpf_jit_harden", "0\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& value) { std::ofstream(dir_ / name) << value; }
  std::string read(const std::string& name) {
    std::string v;
    std::ifstream(dir_ / name) >> v;
    return v;
  }
  std::filesystem::path dir_;
};

TEST_F(FakeSysctlDir, FlagsSetTheValuesAndTheDestructorRestoresThem) {
  {
    JitSysctl sysctl(dir_.string());
    ASSERT_TRUE(sysctl.apply(kJitDisable | kJitHarden).ok());
    EXPECT_EQ(read("bpf_jit_enable"), "0");
    EXPECT_EQ(read("bpf_jit_harden"), "2");
    ASSERT_TRUE(sysctl.apply(kJitHarden).ok());
    EXPECT_EQ(read("bpf_jit_enable"), "1") << "no kJitDisable: the value found at the start";
    EXPECT_EQ(read("bpf_jit_harden"), "2");
  }
  EXPECT_EQ(read("bpf_jit_enable"), "1");
  EXPECT_EQ(read("bpf_jit_harden"), "0");
}

TEST_F(FakeSysctlDir, NoFlagsWriteNothing) {
  JitSysctl sysctl(dir_.string());
  write("bpf_jit_enable", "7\n");  // changed behind its back: it does not touch it
  ASSERT_TRUE(sysctl.apply(0).ok());
  EXPECT_EQ(read("bpf_jit_enable"), "7");
}

TEST(JitSysctl, AnUnwritableSettingIsAnErrorNamingIt) {
  JitSysctl sysctl("/nonexistent/bpfdiff");
  auto r = sysctl.apply(kJitDisable);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot set /nonexistent/bpfdiff/bpf_jit_enable to 0"), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(sysctl.apply(0).ok()) << "nothing asked, nothing written";
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
