#pragma once
// The equivalence rules between two outcomes, as explicit code. Each rule is
// a field of CompareRules so that a pair of engines states exactly what it
// expects to agree on (our interpreter and JIT: everything; the kernel: what
// its test-run interface can expose).
#include <cstdint>
#include <string>
#include <vector>

#include "oracle/outcome.hpp"

namespace bpfdiff::oracle {

struct CompareRules {
  bool registers = true;     // r0..r10 (r0 alone when false)
  bool memory = true;        // the input memory after the run
  bool stack = true;         // the whole stack area
  bool instructions = true;  // instructions executed
  bool helper_calls = true;
  bool error_details = true;  // pc/address/size of a fault, not just its kind
  bool maps = true;           // map contents after the run, when both engines observe them
  bool trace = true;          // bpf_trace_printk output, when both engines observe it

  static CompareRules everything() { return {}; }
};

struct Difference {
  std::string field;  // "load", "error.kind", "r3", "memory[12]", "stack[500]", "instructions",
                      // "helper_calls[0]", "maps[1].entries[2].value[0]", "trace[0]"
  std::string left;   // values rendered for people, e.g. "0x2a"
  std::string right;
};

// Empty when the outcomes agree under `rules`. Memory and stack report the
// first differing byte only, so one wrong store is one difference.
std::vector<Difference> compare(const Outcome& left, const Outcome& right, const CompareRules& rules);

std::string to_string(const Difference& d);

// Map snapshots by position, then entry by entry (entries in snapshot
// order: arrays by index, hash maps by key bytes); the first difference per
// map is reported, fields named `prefix[i]...`.
void compare_map_snapshots(const std::string& prefix, const std::vector<vm::MapSnapshot>& a,
                           const std::vector<vm::MapSnapshot>& b, std::vector<Difference>& out);

}  // namespace bpfdiff::oracle
