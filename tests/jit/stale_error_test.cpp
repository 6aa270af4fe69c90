// A JitProgram keeps its context between runs; a run's error must not carry
// anything over from an earlier one. Found by the Z3 proof of the call
// lowering (oracle/smt/call_proof.hpp): the call-depth fault stub left
// ctx.error_address as the previous fault had set it, where the interpreter
// reports address 0.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "vm/interp/interpreter.hpp"
#include "vm/isa/encode.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::jit {
namespace {

using isa::encode;
using isa::Form;

// Input byte 0 chooses: 0 reads far out of bounds, anything else recurses
// past the call-depth limit.
vm::Program memory_fault_or_deep_recursion() {
  vm::Program p;
  p.slots = {
      encode(Form::ldxb, 2, 1, 0),            // 0: r2 = input[0]
      encode(Form::jne_imm, 2, 0, 2, 0),      // 1: if r2 != 0 goto 4
      encode(Form::ldxdw, 0, 1, 0x7ff0),      // 2: out of bounds: MemoryRead fault
      encode(Form::exit),                     // 3
      encode(Form::call_local, 0, 0, 0, 1),   // 4: call 6
      encode(Form::exit),                     // 5
      encode(Form::call_local, 0, 0, 0, -1),  // 6: call 6, forever
      encode(Form::exit),                     // 7
  };
  return p;
}

TEST(JitStaleError, ACallDepthFaultAfterAMemoryFaultReportsTheInterpretersAddress) {
  const vm::HelperRegistry helpers;
  auto loaded = vm::validate(memory_fault_or_deep_recursion(), helpers);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  for (const JitOptions& options : all_option_sets()) {
    auto jit = JitProgram::compile(*loaded, helpers, {}, options);
    ASSERT_TRUE(jit.ok()) << jit.error().message;
    vm::Interpreter interp(*loaded, helpers);
    std::array<uint8_t, 16> fault_input{};
    const vm::RunResult first = (*jit)->run(vm::RunInput{vm::RunMode::Memory, fault_input});
    ASSERT_EQ(first.error.kind, vm::ErrorKind::MemoryRead);
    ASSERT_NE(first.error.address, 0u);
    std::array<uint8_t, 16> deep_input{1};
    const vm::RunResult jitted = (*jit)->run(vm::RunInput{vm::RunMode::Memory, deep_input});
    std::array<uint8_t, 16> deep_again{1};
    const vm::RunResult interpreted = interp.run(vm::RunInput{vm::RunMode::Memory, deep_again});
    ASSERT_EQ(interpreted.error.kind, vm::ErrorKind::CallDepthExceeded);
    EXPECT_EQ(jitted.error, interpreted.error)
        << engine_name(options) << ": address " << jitted.error.address;
  }
}

}  // namespace
}  // namespace bpfdiff::jit
