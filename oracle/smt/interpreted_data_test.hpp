#pragma once
// The last step every counterexample writer shares: a program, built from a
// witness, becomes a .data test whose expected outcome is what our
// interpreter gives. The program is assembled back from its own disassembly
// first, so the test holds exactly the program the outcome was computed for.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vm/isa/encode.hpp"
#include "vm/runtime/run.hpp"
#include "vm/text/data_file.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

// How the test runs: its input bytes, memory or packet mode, and limits.
// Limits other than the defaults are written into the test as
// "# max-call-depth N" and "# budget N", which `bpfdiff run` reads back.
struct InterpretedRun {
  std::vector<uint8_t> memory;
  vm::RunMode mode = vm::RunMode::Memory;  // Memory or Packet
  vm::ExecLimits limits;
};

// Fills `test` (source, memory, mode, result or error) and returns the
// interpreter's outcome, for callers that want the outcome itself.
Result<vm::RunResult> interpret_into_test(const std::vector<isa::RawInsn>& slots, const InterpretedRun& run,
                                          text::DataTest& test);

// `comment` as its opening '#' lines, then the limit headers, then the test.
Result<std::string> interpreted_data_test(const std::vector<isa::RawInsn>& slots, const InterpretedRun& run,
                                          std::string_view comment);

}  // namespace bpfdiff::oracle::smt
