#pragma once
// One interface for every way of running a program: our interpreter, our JIT
// with each option set, the SMT model, the host kernel, a QEMU guest. Engines
// are chosen by name; one that cannot run here says why.
//
// Two levels: Engine::prepare validates (and compiles) a program once and
// returns an Executor that runs it many times -- what `bpfdiff run --repeat`
// times; Engine::run is one full-state run for the differential harness.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/outcome.hpp"
#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/runtime/run.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle {

// A program prepared by one engine.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual vm::RunResult run(vm::RunInput input) = 0;
  // Engines that cannot report every instruction return false from can_trace
  // and run untraced.
  virtual bool can_trace() const { return false; }
  virtual vm::RunResult run_traced(vm::RunInput input, const vm::TraceFn& trace);
  // The whole stack area after the last run (all frames), for full-state comparison.
  virtual std::span<const uint8_t> stack() const = 0;
  // Map contents after the last run and its bpf_trace_printk output, one
  // entry per call; nullopt from engines that cannot observe them.
  virtual std::optional<std::vector<vm::MapSnapshot>> maps() const { return std::nullopt; }
  virtual std::optional<std::vector<std::string>> trace_output() const { return std::nullopt; }
  // Maps keep their contents across runs, as in the kernel; this restores
  // the initial ones.
  virtual void reset_maps() {}
  virtual uint64_t load_ns() const = 0;     // validation
  virtual uint64_t compile_ns() const = 0;  // translation to machine code (0 for interpreters)
};

struct EngineInput {
  vm::RunMode mode = vm::RunMode::Memory;
  std::vector<uint8_t> memory;  // copied per run: engines never share a buffer (the packet in packet modes)
  vm::ExecLimits limits;
  std::vector<uint8_t> metadata;  // MetaBuffer mode: r1's buffer, copied per run
  uint32_t data_offset = 0;       // MetaBuffer mode: where the packet addresses go
  uint32_t data_end_offset = 8;
  uint64_t seed = 0;  // bpf_ktime_get_ns and bpf_get_prandom_u32
};

// The RunInput over an outcome's own copies of the buffers.
vm::RunInput run_input(const EngineInput& input, std::vector<uint8_t>& memory,
                       std::vector<uint8_t>& metadata);

class Engine {
 public:
  explicit Engine(const vm::HelperRegistry& helpers) : helpers_(helpers) {}
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;

  // Fails with the validator's (or compiler's) message. `seed` is the seed
  // the runs will use: engines that randomise their translation (the JIT's
  // constant blinding) derive it from the seed, so a run reproduces exactly.
  Result<std::unique_ptr<Executor>> prepare(const vm::Program& program, const vm::ExecLimits& limits,
                                            uint64_t seed = 0) {
    seed_ = seed;
    return prepare_with(program, limits, helpers_);
  }

  // One run with the full observable state captured, helper calls included.
  // Never throws, never crashes on bad input: rejection is an Outcome too.
  // Virtual for engines that load per input (the kernel engines).
  virtual Outcome run(const vm::Program& program, const EngineInput& input);

  // What happens to the state an earlier run of one prepared program left
  // before the next run: Carry keeps it (maps, as in the kernel, and the
  // engine's own state -- the stack frames it zeroes, the JIT's context);
  // ResetMaps first puts the maps back to their initial contents.
  enum class Rerun : uint8_t { Carry, ResetMaps };
  // A run after the first: what happens to the state before it, and its
  // input -- the first run's again, or another one (memory, metadata, data
  // offsets, run mode and seed; the limits stay the first input's, which the
  // program was prepared with). A different input is how a caller makes a
  // value an engine forgot to reset differ from the value a fresh run gives.
  struct LaterRun {
    Rerun state = Rerun::Carry;
    std::optional<EngineInput> input;  // unset: the first run's
  };
  // One prepare, then one run of `input` and one per entry of `later`:
  // outcomes[0] is what run() gives, outcomes[i] the full state after the
  // (i+1)-th run (its helper calls only). A rejection is one outcome.
  // Only for engines that prepare in-process (not the kernel engines, which
  // load per input and keep no state between runs). Virtual for engines
  // that, like run(), do more than prepare and run (test stand-ins).
  virtual std::vector<Outcome> run_repeatedly(const vm::Program& program, const EngineInput& input,
                                              std::span<const LaterRun> later);

 protected:
  uint64_t seed() const { return seed_; }  // of the prepare or run being served
  virtual Result<std::unique_ptr<Executor>> prepare_with(const vm::Program& program,
                                                         const vm::ExecLimits& limits,
                                                         const vm::HelperRegistry& helpers) = 0;

 private:
  const vm::HelperRegistry& helpers_;
  uint64_t seed_ = 0;
};

// Validation as every engine of ours does it, timed for Executor::load_ns.
struct Validated {
  std::unique_ptr<vm::LoadedProgram> program;  // heap-held: executors keep references to it
  uint64_t ns = 0;
};
Result<Validated> timed_validate(const vm::Program& program, const vm::HelperRegistry& helpers);

// The helpers engines register unless told otherwise, so a program means the
// same thing in each: the standard helpers (vm/runtime/std_helpers.hpp: map
// lookup/update/delete, ktime_get_ns, trace_printk, get_prandom_u32,
// tail_call), numbered as in Linux.
const vm::HelperRegistry& default_helpers();

// Our in-process engines that run every program: the interpreter and each
// JIT option set. The interp-vs-JIT fuzz targets iterate this list.
std::vector<std::string> engine_names();
// Every name make_engine accepts, for help texts: engine_names(), the
// engines for a subset of programs ("smt": loop-free ALU/JMP programs) and
// the kernel engines.
std::vector<std::string> all_engine_names();

// Engines backed by a real kernel (kernel-host, the QEMU guest engines),
// made by make_engine by name, available or not on this machine.
std::vector<std::string> kernel_engine_names();

// Creates an engine by name; the error says why it is unknown or unavailable,
// e.g. "unknown engine 'x' (available: interp)". `helpers` must outlive it.
Result<std::unique_ptr<Engine>> make_engine(std::string_view name,
                                            const vm::HelperRegistry& helpers = default_helpers());

}  // namespace bpfdiff::oracle
