#pragma once
// The hardened interpreter: executes a validated program with RFC 9669
// semantics, checking every memory access, the instruction budget and the
// call depth at run time.
#include <memory>
#include <span>
#include <vector>

#include "vm/program/program.hpp"
#include "vm/runtime/exec_state.hpp"
#include "vm/runtime/helper_env.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::vm {

class Interpreter {
 public:
  Interpreter(const LoadedProgram& program, const HelperRegistry& helpers, ExecLimits limits = {});
  // The JIT keeps pointers into the interpreter (region table, frames, stack).
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  RunResult run(const RunInput& input);
  RunResult run_traced(const RunInput& input, const TraceFn& trace);

  // The pieces of run(), for engines that execute part of a run themselves
  // (the JIT). prepare() readies everything but the registers: it zeroes the
  // stack frames the previous run dirtied, resets the stack's live bound and
  // the helper environment, maps the input (only when it differs from the
  // previous run's) and returns r1 and r2; the other registers start at 0
  // and r10 at stack_top(). A run that ends in machine code reports how deep
  // it went with ended(); one that must go on in the interpreter fills
  // state() and calls resume().
  struct Start {
    uint64_t r1 = 0;
    uint64_t r2 = 0;
  };
  Start prepare(const RunInput& input);
  uint64_t stack_top() const { return region_base(RegionId::Stack) + stack_.size(); }
  std::span<uint8_t> legacy_packet() const { return packet_; }  // what legacy packet loads read this run
  ExecState& state() { return state_; }
  RunResult resume();
  void ended(uint32_t deepest) {
    if (writes_memory_) dirty_frames_ = deepest + 1;
  }

  // Maps caller-owned memory into every subsequent run (map values, global
  // data, test buffers). Returns its virtual address, or 0 when all dynamic
  // regions are taken.
  uint64_t register_region(std::span<uint8_t> bytes, bool writable);

  // The helper a `call imm` at `pc` reaches (resolved once per program).
  const HelperSpec* helper_at(uint32_t pc) const { return helper_at_[pc]; }

  // The whole stack area after the last run (all frames, deepest first), for
  // full-state comparison.
  std::span<const uint8_t> stack() const { return stack_; }
  AddressSpace& memory() { return memory_; }
  // Maps, trace_printk output of the last run, clock and random state.
  HelperEnv& env() { return env_; }
  const HelperEnv& env() const { return env_; }
  // Back to the maps' initial contents (they persist across runs otherwise).
  void reset_maps() {
    env_.maps.reset();
    layout_stale_ = true;
  }
  const ExecLimits& limits() const { return limits_; }

  // Addresses that stay the same for the interpreter's lifetime, for engines
  // that keep them in a context of their own (the JIT).
  struct Fixed {
    const Region* regions;  // the address-space table
    CallFrame* frames;      // max_call_depth frames
    uint8_t* stack_host;    // host address of the stack region's offset 0
  };
  Fixed fixed() { return {memory_.table(), state_.frames.data(), stack_.data()}; }

 private:
  // Interprets from the entry with zeroed registers but r1, r2 (start_)
  // and r10, or, when `from` is set, from that state.
  template <bool kTrace>
  RunResult loop(const TraceFn* trace, const ExecState* from);
  void map_input(const RunInput& input);  // the regions of the run mode; sets start_ and packet_
  void map_persistent_regions();          // stack, registered buffers, map values

  // The input the Input and Null regions hold, so that a run on the same
  // input as the previous one maps nothing. `mapped` is false until the
  // first run and whenever the region table was rebuilt.
  struct InputKey {
    bool mapped = false;
    RunMode mode = RunMode::NoData;
    const uint8_t* data = nullptr;
    std::size_t size = 0;
  };

  const LoadedProgram& program_;
  const HelperRegistry& helpers_;
  ExecLimits limits_;
  std::vector<const HelperSpec*> helper_at_;  // per pc: the helper a `call imm` there reaches
  std::vector<uint8_t> stack_;
  uint32_t dirty_frames_;      // frames the previous run may have written, zeroed before the next
  bool writes_memory_ = true;  // false: no instruction can write memory, the stack stays zeroed
  bool layout_stale_ = true;   // the persistent regions must be mapped (again) before the next run
  AddressSpace memory_;
  ExecState state_;
  struct Registered {
    std::span<uint8_t> bytes;
    bool writable;
  };
  std::vector<Registered> registered_;  // region FirstDynamic + i
  HelperEnv env_;
  XdpMd xdp_md_{};  // Packet mode: what r1 points to
  InputKey input_key_;
  Start start_;                // r1 and r2 of the mapped input
  std::span<uint8_t> packet_;  // what legacy packet loads read
};

}  // namespace bpfdiff::vm
