#include "fuzz/byte_source.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace bpfdiff::fuzz {
namespace {

TEST(ByteSource, ReadsInputBytesInOrderThenZeros) {
  const std::array<uint8_t, 3> bytes = {7, 8, 9};
  ByteSource src(bytes);
  EXPECT_EQ(src.byte(), 7);
  EXPECT_EQ(src.u16(), 0x0908);
  EXPECT_TRUE(src.exhausted());
  EXPECT_EQ(src.u64(), 0u);
  EXPECT_EQ(src.below(100), 0u);
}

TEST(ByteSource, ExhaustedSourceSaysNoToEveryChanceBelowOne) {
  ByteSource src(std::span<const uint8_t>{});
  EXPECT_FALSE(src.chance(0.05));
  EXPECT_FALSE(src.chance(0.99));
  EXPECT_TRUE(src.chance(1.0));
  EXPECT_FALSE(src.chance(0.0));
}

TEST(ByteSource, SameSeedSameStream) {
  ByteSource a(uint64_t{42});
  ByteSource b(uint64_t{42});
  ByteSource c(uint64_t{43});
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 64; ++i) {
    va.push_back(a.u64());
    vb.push_back(b.u64());
    vc.push_back(c.u64());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  EXPECT_FALSE(a.exhausted());
}

TEST(ByteSource, BelowAndRangeStayInBounds) {
  ByteSource src(uint64_t{1});
  for (int i = 0; i < 10'000; ++i) {
    EXPECT_LT(src.below(7), 7u);
    EXPECT_LT(src.below(1000), 1000u);
    EXPECT_LT(src.below(100'000), 100'000u);
    const int64_t r = src.range(-512, -8);
    EXPECT_GE(r, -512);
    EXPECT_LE(r, -8);
  }
  EXPECT_EQ(src.below(0), 0u);
  EXPECT_EQ(src.range(5, 5), 5);
}

TEST(ByteSource, ChanceFollowsItsProbability) {
  ByteSource src(uint64_t{7});
  int hits = 0;
  for (int i = 0; i < 100'000; ++i)
    hits += src.chance(0.25) ? 1 : 0;
  EXPECT_NEAR(hits / 100'000.0, 0.25, 0.01);
}

}  // namespace
}  // namespace bpfdiff::fuzz
