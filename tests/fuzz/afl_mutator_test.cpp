// The AFL++ custom mutator as afl-fuzz uses it: dlopen the module, look up
// the afl_custom_* functions, and mutate the interp_raw seeds over and over.
// Every output must be a well-formed raw input (whole slots, within the
// input, at most max_size bytes), mutation must change inputs, and valid
// programs must mostly stay valid -- what makes it structure-aware.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/raw_input.hpp"
#include "oracle/engine.hpp"
#include "vm/program/validate.hpp"

#ifndef BPFDIFF_AFL_MUTATOR
#error "BPFDIFF_AFL_MUTATOR must name the AFL++ custom mutator module"
#endif

namespace bpfdiff::fuzz {
namespace {

using InitFn = void* (*)(void*, unsigned int);
using FuzzFn = std::size_t (*)(void*, uint8_t*, std::size_t, uint8_t**, uint8_t*, std::size_t, std::size_t);
using DescribeFn = const char* (*)(void*, std::size_t);
using DeinitFn = void (*)(void*);

// The module with its entry points, as afl-fuzz finds them.
class AflModule {
 public:
  AflModule() {
    handle_ = dlopen(BPFDIFF_AFL_MUTATOR, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) return;
    init = reinterpret_cast<InitFn>(dlsym(handle_, "afl_custom_init"));
    fuzz = reinterpret_cast<FuzzFn>(dlsym(handle_, "afl_custom_fuzz"));
    describe = reinterpret_cast<DescribeFn>(dlsym(handle_, "afl_custom_describe"));
    deinit = reinterpret_cast<DeinitFn>(dlsym(handle_, "afl_custom_deinit"));
  }
  ~AflModule() {
    if (handle_ != nullptr) dlclose(handle_);
  }
  AflModule(const AflModule&) = delete;
  AflModule& operator=(const AflModule&) = delete;

  bool loaded() const { return handle_ != nullptr && init && fuzz && describe && deinit; }

  InitFn init = nullptr;
  FuzzFn fuzz = nullptr;
  DescribeFn describe = nullptr;
  DeinitFn deinit = nullptr;

 private:
  void* handle_ = nullptr;
};

std::vector<std::vector<uint8_t>> seeds() {
  std::vector<std::vector<uint8_t>> out;
  for (const auto& e : std::filesystem::directory_iterator(BPFDIFF_SEED_DIR)) {
    std::ifstream in(e.path(), std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

bool well_formed(const std::vector<uint8_t>& data, std::size_t prefix) {
  if (data.size() < prefix + 4) return false;
  uint32_t declared = 0;
  std::memcpy(&declared, data.data() + prefix, 4);
  return declared % 8 == 0 && declared <= data.size() - prefix - 4;
}

bool validates(const std::vector<uint8_t>& data) {
  auto program = vm::program_from_bytes(split_raw_input(data).program);
  return program && vm::validate(*program, oracle::default_helpers()).ok();
}

TEST(AflMutator, LoadsWithEveryEntryPointAflFuzzLooksFor) {
  AflModule m;
  ASSERT_TRUE(m.loaded()) << dlerror();
  void* state = m.init(nullptr, 1);
  ASSERT_NE(state, nullptr);
  EXPECT_STREQ(m.describe(state, 64), "bpfdiff-slots");
  m.deinit(state);
}

TEST(AflMutator, MutatesSeedsIntoWellFormedMostlyValidInputs) {
  AflModule m;
  ASSERT_TRUE(m.loaded()) << dlerror();
  const auto inputs = seeds();
  ASSERT_FALSE(inputs.empty());
  void* state = m.init(nullptr, 7);
  std::size_t changed = 0, valid_before = 0, valid_after = 0, total = 0;
  for (std::size_t i = 0; i < 2'000; ++i) {
    std::vector<uint8_t> in = inputs[i % inputs.size()];
    std::vector<uint8_t> other = inputs[(i * 7 + 3) % inputs.size()];
    const std::size_t max_size = 64 + i % 1'000;
    uint8_t* out = nullptr;
    const std::size_t n =
        m.fuzz(state, in.data(), in.size(), &out, i % 2 ? other.data() : nullptr, other.size(), max_size);
    ASSERT_NE(out, nullptr);
    ASSERT_LE(n, max_size);
    const std::vector<uint8_t> result(out, out + n);
    ASSERT_TRUE(well_formed(result, 0)) << "call " << i;
    ++total;
    if (result != in) ++changed;
    if (validates(in)) {
      ++valid_before;
      if (validates(result)) ++valid_after;
    }
  }
  m.deinit(state);
  // Some edits are no-ops (an exit put where one already is, a field set to its value).
  EXPECT_GT(changed, total * 8 / 10) << changed << " of " << total;
  ASSERT_GT(valid_before, 500u);
  EXPECT_GT(static_cast<double>(valid_after) / static_cast<double>(valid_before), 0.3)
      << valid_after << " of " << valid_before;
}

TEST(AflMutator, GarbageAndEmptyInputsBecomeWellFormed) {
  AflModule m;
  ASSERT_TRUE(m.loaded()) << dlerror();
  void* state = m.init(nullptr, 3);
  for (std::size_t i = 0; i < 500; ++i) {
    std::vector<uint8_t> in(i % 40);
    for (std::size_t j = 0; j < in.size(); ++j)
      in[j] = static_cast<uint8_t>(i * 131 + j * 7);
    uint8_t* out = nullptr;
    const std::size_t n = m.fuzz(state, in.data(), in.size(), &out, nullptr, 0, 4096);
    ASSERT_TRUE(well_formed(std::vector<uint8_t>(out, out + n), 0)) << "input size " << in.size();
  }
  m.deinit(state);
}

// jit_decode's inputs start with an option byte: BPFDIFF_AFL_PREFIX, read at
// init, keeps the layout after it.
TEST(AflMutator, PrefixFromTheEnvironmentIsKept) {
  AflModule m;
  ASSERT_TRUE(m.loaded()) << dlerror();
  ASSERT_EQ(setenv("BPFDIFF_AFL_PREFIX", "1", 1), 0);
  void* state = m.init(nullptr, 5);
  unsetenv("BPFDIFF_AFL_PREFIX");
  const auto inputs = seeds();
  for (std::size_t i = 0; i < 500; ++i) {
    std::vector<uint8_t> in = inputs[i % inputs.size()];
    in.insert(in.begin(), static_cast<uint8_t>(i));
    uint8_t* out = nullptr;
    const std::size_t n = m.fuzz(state, in.data(), in.size(), &out, nullptr, 0, 2048);
    ASSERT_TRUE(well_formed(std::vector<uint8_t>(out, out + n), 1)) << "call " << i;
  }
  m.deinit(state);
}

}  // namespace
}  // namespace bpfdiff::fuzz
