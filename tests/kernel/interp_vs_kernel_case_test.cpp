// The interp_vs_kernel target's BPFDIFF_CASE_FILE: the case it runs is
// written as a .data test with its maps, so `bpfdiff repro FILE` replays the
// program that ran, not a map-less copy. Runs the target's replay binary on
// a generated input with maps; skips where bpf() is unusable (the target
// then skips every input and writes nothing).
#include <sys/utsname.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz/kernel_friendly.hpp"
#include "fuzz/kernel_mix.hpp"
#include "fuzz/values.hpp"
#include "oracle/kernel/kernel_executor.hpp"
#include "oracle/run/input.hpp"
#include "tests/support/read_text.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::fuzz {
namespace {

namespace fs = std::filesystem;

// An input of the target whose case has an array or hash map (a hash map
// with starting entries when there is one among the first inputs tried).
std::vector<uint8_t> input_with_maps(isa::IsaVersion isa) {
  std::vector<uint8_t> best;
  for (uint32_t seed = 1; seed < 4000; ++seed) {
    std::vector<uint8_t> data(256);
    uint64_t state = seed;
    for (uint8_t& b : data)
      b = static_cast<uint8_t>(splitmix64_next(state));
    data[0] =
        static_cast<uint8_t>(2 * (seed % 3 + 1));  // even: the verifier-stress generator (1, 2) or mutants
    auto c = kernel_target_case(data, isa);
    if (!c || c->c.program.maps.empty()) continue;
    for (const vm::MapDef& m : c->c.program.maps) {
      if (!m.initial_entries.empty()) return data;
    }
    if (best.empty()) best = data;
  }
  return best;
}

TEST(InterpVsKernelCaseFile, IsADataTestWithTheProgramsMapsMemoryAndBudget) {
  if (auto probe = oracle::kernel::probe_kernel(); !probe) GTEST_SKIP() << probe.error().message;
  utsname u{};
  const isa::IsaVersion isa = isa_version_for_kernel(uname(&u) == 0 ? u.release : "");
  const std::vector<uint8_t> input = input_with_maps(isa);
  ASSERT_FALSE(input.empty()) << "no generated input with maps";
  const auto expected = kernel_target_case(input, isa);
  ASSERT_TRUE(expected);

  const fs::path dir = fs::temp_directory_path() / ("bpfdiff-case-file-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path in_path = dir / "input";
  const fs::path case_path = dir / "case";  // no .data extension: found by its sections
  std::ofstream(in_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
  const std::string command = "BPFDIFF_CASE_FILE=" + case_path.string() + " " +
                              BPFDIFF_INTERP_VS_KERNEL_REPLAY + " " + in_path.string() + " >" +
                              (dir / "out").string() + " 2>&1";
  // Written before the case runs: whatever the run finds, the file is there.
  const int status = std::system(command.c_str());

  auto loaded = cli::load_program_file(case_path.string(), vm::standard_helpers());
  ASSERT_TRUE(loaded) << loaded.error().message << "\nexit status " << status << ":\n"
                      << test_support::read_text(dir / "out") << "\n"
                      << test_support::read_text(case_path);
  ASSERT_EQ(loaded->kind, cli::InputKind::DataTest);
  ASSERT_TRUE(loaded->data.has_value());
  EXPECT_EQ(loaded->program.slots, expected->c.program.slots);
  EXPECT_EQ(loaded->data->memory, expected->c.memory);
  EXPECT_EQ(loaded->data->budget, std::optional<uint64_t>(expected->budget));
  EXPECT_FALSE(loaded->data->result.has_value()) << "written before it ran: it expects nothing";
  ASSERT_EQ(loaded->program.maps.size(), expected->c.program.maps.size());
  for (std::size_t i = 0; i < loaded->program.maps.size(); ++i) {
    const vm::MapDef& got = loaded->program.maps[i];
    const vm::MapDef& want = expected->c.program.maps[i];
    EXPECT_EQ(got.type, want.type) << "map " << i;
    EXPECT_EQ(got.key_size, want.key_size) << "map " << i;
    EXPECT_EQ(got.value_size, want.value_size) << "map " << i;
    EXPECT_EQ(got.max_entries, want.max_entries) << "map " << i;
    EXPECT_EQ(got.initial_values, want.initial_values) << "map " << i;
    EXPECT_EQ(got.initial_entries, want.initial_entries) << "map " << i;
  }
  const std::string text = test_support::read_text(case_path);
  EXPECT_NE(text.find("# bpfdiff repro " + case_path.string() + " --engines interp,kernel-host"),
            std::string::npos)
      << text;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace bpfdiff::fuzz
