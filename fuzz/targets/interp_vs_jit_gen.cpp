// Interpreter against every JIT option set on generated programs: the input
// bytes are the generator's decisions, so every input is a valid program
// with loops, calls, memory traffic and boundary values, and a mutation of
// the input is a mutation of the program. The decisions after the program's
// choose its run mode (memory, none, packet, mbuff: fuzz/run_modes, with
// probes of the read-only context and .rodata) and sometimes its limits at,
// below or above what the run needs (fuzz/limits), so an input records them.
// The sum of the input's bytes selects the JIT option set it is compared on
// (fuzz/differential.hpp says why one and not all four).
#include <cstdint>

#include "fuzz/byte_source.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/limits.hpp"

using namespace bpfdiff;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ByteSource src({data, size});
  fuzz::GeneratorOptions options;
  options.max_instructions = fuzz::kGenTargetSlots;
  const fuzz::ModeCase c = fuzz::generate_limit_case(src, options);
  fuzz::check_selected_engine_agrees(c.program, c.input, {data, size});
  return 0;
}
