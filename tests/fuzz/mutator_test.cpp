// The instruction-aware mutator: whatever it is given, it returns a raw
// input whose program is whole 8-byte slots and fits max_size, and starting
// from valid programs it mostly returns programs the validator still accepts
// (byte-level mutation of a valid program rarely does).
#include "fuzz/mutator.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/raw_input.hpp"
#include "oracle/engine.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::fuzz {
namespace {

std::vector<std::vector<uint8_t>> seeds() {
  std::vector<std::vector<uint8_t>> out;
  for (const auto& e : std::filesystem::directory_iterator(BPFDIFF_SEED_DIR)) {
    std::ifstream in(e.path(), std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

// The program length field is a whole number of slots and within the input.
void expect_well_formed(const std::vector<uint8_t>& data, std::size_t prefix) {
  ASSERT_GE(data.size(), prefix + 4);
  uint32_t declared = 0;
  std::memcpy(&declared, data.data() + prefix, 4);
  EXPECT_EQ(declared % 8, 0u);
  EXPECT_LE(declared, data.size() - prefix - 4);
}

TEST(Mutator, OutputIsAlwaysWholeSlotsWithinMaxSize) {
  const auto inputs = seeds();
  ASSERT_FALSE(inputs.empty());
  for (const std::size_t prefix : {std::size_t{0}, std::size_t{1}}) {
    for (uint64_t seed = 0; seed < 3'000; ++seed) {
      std::vector<uint8_t> data = inputs[seed % inputs.size()];
      if (prefix) data.insert(data.begin(), 3);
      const std::size_t max_size = 64 + seed % 600;
      data.resize(std::max(data.size(), max_size));
      const std::size_t original = std::min(inputs[seed % inputs.size()].size() + prefix, max_size);
      const std::size_t n = mutate_raw_input(data.data(), original, max_size, seed, {prefix, nullptr});
      ASSERT_LE(n, max_size);
      data.resize(n);
      expect_well_formed(data, prefix);
    }
  }
}

TEST(Mutator, GarbageAndEmptyInputsBecomeWellFormed) {
  for (uint64_t seed = 0; seed < 500; ++seed) {
    std::vector<uint8_t> data(256);
    for (std::size_t i = 0; i < data.size(); ++i)
      data[i] = static_cast<uint8_t>((seed * 131 + i * 7) & 0xff);
    const std::size_t size = seed % 40;
    const std::size_t n = mutate_raw_input(data.data(), size, data.size(), seed, {});
    data.resize(n);
    expect_well_formed(data, 0);
  }
}

TEST(Mutator, MutatedValidProgramsMostlyStayValid) {
  const auto inputs = seeds();
  std::size_t valid = 0;
  std::size_t total = 0;
  for (uint64_t seed = 0; seed < 2'000; ++seed) {
    const std::vector<uint8_t>& original = inputs[seed % inputs.size()];
    const RawInput before = split_raw_input(original);
    auto program = vm::program_from_bytes(before.program);
    if (!program || !vm::validate(*program, oracle::default_helpers())) continue;
    std::vector<uint8_t> data = original;
    data.resize(original.size() + 256);
    data.resize(mutate_raw_input(data.data(), original.size(), data.size(), seed, {}));
    const RawInput after = split_raw_input(data);
    auto mutated = vm::program_from_bytes(after.program);
    ++total;
    if (mutated && vm::validate(*mutated, oracle::default_helpers())) ++valid;
  }
  ASSERT_GT(total, 500u);
  EXPECT_GT(static_cast<double>(valid) / static_cast<double>(total), 0.3) << valid << " of " << total;
}

TEST(Mutator, SameSeedSameMutation) {
  const auto inputs = seeds();
  std::vector<uint8_t> a = inputs[0], b = inputs[0];
  a.resize(a.size() + 64);
  b.resize(b.size() + 64);
  const std::size_t na = mutate_raw_input(a.data(), inputs[0].size(), a.size(), 42, {});
  const std::size_t nb = mutate_raw_input(b.data(), inputs[0].size(), b.size(), 42, {});
  ASSERT_EQ(na, nb);
  EXPECT_TRUE(std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(na), b.begin()));
}

TEST(Mutator, CrossOverSplicesWholeSlots) {
  const auto inputs = seeds();
  for (uint64_t seed = 0; seed < 500; ++seed) {
    const auto& x = inputs[seed % inputs.size()];
    const auto& y = inputs[(seed * 7 + 3) % inputs.size()];
    std::vector<uint8_t> out(300);
    const std::size_t n =
        crossover_raw_inputs(x.data(), x.size(), y.data(), y.size(), out.data(), out.size(), seed, {});
    out.resize(n);
    expect_well_formed(out, 0);
  }
}

}  // namespace
}  // namespace bpfdiff::fuzz
