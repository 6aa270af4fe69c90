#pragma once
// KCOV coverage of the verifier and the JIT, as it travels from the guest
// agent to the host: the agent traces the PCs its thread runs in the kernel
// while it serves one request (KCOV_TRACE_PC; a --kcov guest kernel
// instruments only kernel/bpf/ and arch/x86/net/, so every PC is a verifier,
// BPF core or JIT block), turns consecutive PCs into edge hashes, and sends
// only the edges it has not sent before. The host merges them into its own
// set (a guest restored from a snapshot forgets what it sent, so the host
// may see an edge twice, never miss one), and a program that adds an edge
// is one that reached verifier/JIT code no earlier program reached.
//
// Pure code, no system calls: the agent's tracer (guest/kcov_tracer.hpp)
// produces the PCs, the campaign consumes the edges, and both halves are
// unit-tested here without a guest.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace bpfdiff::oracle::kernel {

enum class CoverageState : uint8_t {
  NotRequested = 0,  // the request did not ask (kWantCoverage), or an old agent
  Unavailable = 1,   // asked, but the guest kernel has no KCOV (note says why)
  Collected = 2,
};
const char* to_string(CoverageState state);

struct KernelCoverage {
  CoverageState state = CoverageState::NotRequested;
  std::string note;        // why it is Unavailable
  uint64_t trace_pcs = 0;  // PCs the request's trace held
  bool truncated = false;  // the trace buffer filled up: later PCs were lost
  // Edge hashes the agent had not reported before, in the order first seen.
  std::vector<uint32_t> new_edges;

  bool operator==(const KernelCoverage&) const = default;
};

// The edge from block `prev` to block `cur` (prev 0: the first block of a
// trace). Never 0, which EdgeSet keeps for its empty slots.
uint32_t edge_hash(uint64_t prev, uint64_t cur);

// A set of edge hashes: open addressing, grows by doubling. One lookup per
// traced PC inside the guest, so it must be cheap; std::unordered_set
// allocates per element.
class EdgeSet {
 public:
  EdgeSet();
  // True when `edge` was not in the set (it is now).
  bool insert(uint32_t edge);
  bool contains(uint32_t edge) const;
  std::size_t size() const { return size_; }
  // Adds every edge; returns how many were new.
  std::size_t merge(std::span<const uint32_t> edges);

 private:
  void grow();
  std::vector<uint32_t> slots_;
  std::size_t size_ = 0;
};

// Appends to `out` the edges of `pcs` (consecutive pairs, the first from 0)
// that `seen` lacks, adding them to it: what the agent reports for a trace.
void new_edges_of_trace(std::span<const uint64_t> pcs, EdgeSet& seen, std::vector<uint32_t>& out);

}  // namespace bpfdiff::oracle::kernel
