#include "oracle/kernel/kernel_coverage.hpp"

namespace bpfdiff::oracle::kernel {

const char* to_string(CoverageState state) {
  switch (state) {
    case CoverageState::NotRequested:
      return "not requested";
    case CoverageState::Unavailable:
      return "unavailable";
    case CoverageState::Collected:
      return "collected";
  }
  return "?";
}

uint32_t edge_hash(uint64_t prev, uint64_t cur) {
  // The murmur3 finalizer over the pair: an edge and its reverse, or two
  // edges into the same block, land on unrelated hashes.
  uint64_t x = prev * 0x9e3779b97f4a7c15ull ^ cur;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  const auto h = static_cast<uint32_t>(x);
  return h != 0 ? h : 1;
}

EdgeSet::EdgeSet() : slots_(std::size_t{1} << 12, 0) {}

bool EdgeSet::insert(uint32_t edge) {
  if (edge == 0) edge = 1;  // edge_hash never gives 0; a caller's own value is folded like it
  const std::size_t mask = slots_.size() - 1;
  // The hash is already mixed: its low bits index directly.
  for (std::size_t i = edge & mask;; i = (i + 1) & mask) {
    if (slots_[i] == edge) return false;
    if (slots_[i] == 0) {
      slots_[i] = edge;
      ++size_;
      if (size_ * 2 > slots_.size()) grow();
      return true;
    }
  }
}

bool EdgeSet::contains(uint32_t edge) const {
  if (edge == 0) edge = 1;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = edge & mask;; i = (i + 1) & mask) {
    if (slots_[i] == edge) return true;
    if (slots_[i] == 0) return false;
  }
}

std::size_t EdgeSet::merge(std::span<const uint32_t> edges) {
  std::size_t added = 0;
  for (uint32_t e : edges)
    added += insert(e) ? 1 : 0;
  return added;
}

void EdgeSet::grow() {
  std::vector<uint32_t> old = std::move(slots_);
  slots_.assign(old.size() * 2, 0);
  size_ = 0;
  for (uint32_t e : old) {
    if (e != 0) insert(e);
  }
}

void new_edges_of_trace(std::span<const uint64_t> pcs, EdgeSet& seen, std::vector<uint32_t>& out) {
  uint64_t prev = 0;
  for (uint64_t pc : pcs) {
    const uint32_t e = edge_hash(prev, pc);
    if (seen.insert(e)) out.push_back(e);
    prev = pc;
  }
}

}  // namespace bpfdiff::oracle::kernel
