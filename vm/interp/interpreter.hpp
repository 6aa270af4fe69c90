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

  RunResult run(const RunInput& input);
  RunResult run_traced(const RunInput& input, const TraceFn& trace);

  // The pieces of run(), for engines that execute part of a run themselves
  // (the JIT): begin() maps the input, zeroes the stack and returns the
  // initial state; resume() interprets on from whatever that state has
  // become; end() finishes the run where the state is, with `error`.
  ExecState& begin(const RunInput& input);
  RunResult resume();
  RunResult end() { return finish(); }
  // end() for an engine that kept the registers itself: the result carries
  // `regs` (isa::kNumRegisters of them); the state's own are left as they are.
  RunResult end_with_registers(const uint64_t* regs) {
    if (writes_memory_) dirty_frames_ = state_.deepest + 1;
    RunResult result;
    copy_registers(result.regs.data(), regs);
    result.instructions = state_.executed;
    return result;
  }
  RunResult end(const ExecError& error) {
    RunResult result = finish();
    result.error = error;
    return result;
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
  template <bool kTrace>
  RunResult loop(const TraceFn* trace);
  RunResult finish();                     // the result of a run that ended where the state is, without error
  void map_input(const RunInput& input);  // r1, r2 and the regions of the run mode
  void map_persistent_regions();          // stack, registered buffers, map values

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
};

}  // namespace bpfdiff::vm
