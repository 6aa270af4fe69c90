#pragma once
// Every run mode for the programs the generators write. Generated programs
// are memory-mode programs: r1 holds the input address (usually pinned for
// the whole program) and r2 its length. recast_for_mode puts a short
// prologue in front that derives exactly that from what the other modes
// hand over -- the XDP context's data/data_end in packet mode, the packet
// addresses the VM wrote into the metadata buffer in mbuff mode, a stack
// area in mode none -- so every generated program also runs, and is
// compared, in every mode. Absolute slots (prog array entries, other
// programs) past slot 0 move with the body; those of slot 0 keep naming the
// start, now the prologue; pc-relative targets need no repair.
//
// Before the adapter, a probe sometimes touches a read-only region: a store
// or an atomic to the XDP context or to a read-only `.rodata` map the recast
// adds (which must fault with the same error on every engine), or a read of
// a context field, past the context's end, or of the map.
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/generator.hpp"
#include "oracle/engine.hpp"
#include "vm/program/program.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::fuzz {

struct ModeCase {
  vm::Program program;
  oracle::EngineInput input;  // mode, memory (the packet in packet modes), metadata layout
};

// The four run modes in a fixed order: memory, none, packet, mbuff.
std::span<const vm::RunMode> all_run_modes();

// `program` (a memory-mode program whose entry is slot 0) and its input
// memory recast for `mode`, with `budget`; the probe and the metadata
// layout come from `src`. Memory mode with no probe drawn is the program as
// it is. A program whose entry is not slot 0, or whose slot 0 is a function
// start the prologue could not fall into, is left in memory mode.
ModeCase recast_for_mode(const vm::Program& program, std::span<const uint8_t> memory, vm::RunMode mode,
                         uint64_t budget, ByteSource& src);

// What interp_vs_jit_gen runs for its input and the tools rebuild from it:
// a generated program, then -- from the decisions after the program's --
// its run mode (and probe and metadata layout), with the generated budget.
// The run mode is thus part of the input; an input used up by the program
// alone runs in memory mode as it is, as inputs written before run modes did.
ModeCase generate_mode_case(ByteSource& src, const GeneratorOptions& options);

}  // namespace bpfdiff::fuzz
