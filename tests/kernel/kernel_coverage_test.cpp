// KCOV edges as the agent computes them and the host merges them: an edge
// is a pair of consecutive PCs, each is reported once per agent, and the
// set that remembers them neither forgets nor invents one as it grows.
#include "oracle/kernel/kernel_coverage.hpp"

#include <gtest/gtest.h>

#include <set>

namespace bpfdiff::oracle::kernel {
namespace {

TEST(KernelCoverage, EdgeHashIsDirectedAndNeverZero) {
  EXPECT_NE(edge_hash(0x1000, 0x2000), edge_hash(0x2000, 0x1000));
  EXPECT_NE(edge_hash(0x1000, 0x2000), edge_hash(0x1008, 0x2000));
  EXPECT_EQ(edge_hash(0x1000, 0x2000), edge_hash(0x1000, 0x2000));
  std::set<uint32_t> distinct;
  for (uint64_t prev = 0; prev < 64; ++prev) {
    for (uint64_t cur = 0; cur < 64; ++cur) {
      const uint32_t h = edge_hash(0xffffffff81000000ull + prev * 16, 0xffffffff81000000ull + cur * 16);
      EXPECT_NE(h, 0u);
      distinct.insert(h);
    }
  }
  EXPECT_EQ(distinct.size(), 64u * 64u);  // no collision among 4096 nearby kernel PCs
}

TEST(KernelCoverage, EdgeSetKeepsEveryEdgeThroughGrowth) {
  EdgeSet set;
  std::set<uint32_t> reference;
  uint32_t x = 12345;
  for (int i = 0; i < 100000; ++i) {
    x = x * 1664525u + 1013904223u;
    const uint32_t e = x % 50000 + 1;  // repeats on purpose
    EXPECT_EQ(set.insert(e), reference.insert(e).second) << e;
  }
  EXPECT_EQ(set.size(), reference.size());
  for (uint32_t e : reference)
    EXPECT_TRUE(set.contains(e)) << e;
  EXPECT_FALSE(set.contains(50001));
}

TEST(KernelCoverage, ZeroIsFoldedOntoOneLikeEdgeHashDoes) {
  EdgeSet set;
  EXPECT_TRUE(set.insert(0));
  EXPECT_TRUE(set.contains(1));
  EXPECT_FALSE(set.insert(1));
  EXPECT_EQ(set.size(), 1u);
}

TEST(KernelCoverage, ATraceReportsEachNewEdgeOnceInFirstSeenOrder) {
  EdgeSet seen;
  std::vector<uint64_t> loop = {0x10, 0x20, 0x30, 0x20, 0x30, 0x20, 0x40};
  std::vector<uint32_t> out;
  new_edges_of_trace(loop, seen, out);
  // 0->10, 10->20, 20->30, 30->20, 20->40: the loop's edges only once.
  const std::vector<uint32_t> want = {edge_hash(0, 0x10), edge_hash(0x10, 0x20), edge_hash(0x20, 0x30),
                                      edge_hash(0x30, 0x20), edge_hash(0x20, 0x40)};
  EXPECT_EQ(out, want);
  // The same trace again adds nothing; a new branch adds just its edges.
  std::vector<uint32_t> again;
  new_edges_of_trace(loop, seen, again);
  EXPECT_TRUE(again.empty());
  std::vector<uint32_t> branch;
  new_edges_of_trace(std::vector<uint64_t>{0x10, 0x20, 0x50}, seen, branch);
  EXPECT_EQ(branch, (std::vector<uint32_t>{edge_hash(0x20, 0x50)}));
}

TEST(KernelCoverage, MergeCountsOnlyEdgesTheHostLacked) {
  // Two guests report overlapping edges (a restored guest repeats itself).
  EdgeSet host;
  EXPECT_EQ(host.merge(std::vector<uint32_t>{1, 2, 3}), 3u);
  EXPECT_EQ(host.merge(std::vector<uint32_t>{3, 4, 2}), 1u);
  EXPECT_EQ(host.merge(std::vector<uint32_t>{}), 0u);
  EXPECT_EQ(host.size(), 4u);
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel
