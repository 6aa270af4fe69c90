// Interpreter against every JIT option set on generated programs: the input
// bytes are the generator's decisions, so every input is a valid program
// with loops, calls, memory traffic and boundary values, and a mutation of
// the input is a mutation of the program.
#include <cstdint>

#include "fuzz/byte_source.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/generator.hpp"

using namespace bpfdiff;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ByteSource src({data, size});
  fuzz::GeneratorOptions options;
  options.max_instructions = fuzz::kGenTargetSlots;
  const fuzz::GeneratedCase c = fuzz::generate(src, options);
  fuzz::check_engines_agree(c.program, fuzz::engine_input(c));
  return 0;
}
