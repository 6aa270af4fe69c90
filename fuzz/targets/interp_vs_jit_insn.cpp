// Interpreter against a JIT option set on single-instruction programs: the
// first byte picks the form, the rest the boundary values in its registers,
// immediate and memory. The input selects the option set, as in the gen and
// raw targets (differential.hpp): for a one-instruction program the four
// compilations were most of an execution.
#include <cstdint>

#include "fuzz/byte_source.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/single_insn.hpp"

using namespace bpfdiff;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ByteSource src({data, size});
  const fuzz::GeneratedCase c = fuzz::single_insn_case(src);
  fuzz::check_selected_engine_agrees(c.program, fuzz::engine_input(c), {data, size});
  return 0;
}
