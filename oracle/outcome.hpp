#pragma once
// Outcome: the full observable result of running one program on one input in
// one engine. The differential harness compares outcomes field by field; r0
// alone (what uBPF's fuzzer compares) misses most divergences.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vm/isa/raw.hpp"
#include "vm/runtime/error.hpp"
#include "vm/runtime/map_store.hpp"

namespace bpfdiff::oracle {

// One helper call as the program made it.
struct HelperCallRecord {
  uint32_t pc = 0;
  uint32_t helper = 0;
  std::array<uint64_t, 5> args{};
  uint64_t result = 0;

  bool operator==(const HelperCallRecord&) const = default;
};

struct Outcome {
  std::string engine;

  // Load stage: did the engine accept the program at all?
  bool loaded = false;
  std::string load_error;  // validator or compiler message when !loaded

  // Run stage (meaningful when loaded).
  std::array<uint64_t, isa::kNumRegisters> regs{};  // r0..r10 at the end
  std::vector<uint8_t> memory;                      // the input memory (or packet) after the run
  std::vector<uint8_t> metadata;                    // MetaBuffer mode: r1's buffer after the run
  std::vector<uint8_t> stack;                       // the whole stack area after the run
  std::vector<HelperCallRecord> helper_calls;
  std::vector<vm::MapSnapshot> maps;  // every map's contents after the run
  std::vector<std::string> trace;     // bpf_trace_printk output, one entry per call
  // Whether the engine could observe them at all (the kernel's test run may
  // not): compare() only compares what both sides observed.
  bool maps_observed = false;
  bool trace_observed = false;
  uint64_t instructions = 0;
  vm::ExecError error;  // kind None on success

  bool ok() const { return loaded && error.kind == vm::ErrorKind::None; }
};

}  // namespace bpfdiff::oracle
