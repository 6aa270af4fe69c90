#pragma once
// Translation validation of the JIT's memory lowering (loads, stores,
// atomics, legacy packet loads) against the interpreter's memory semantics
// (mem_model.hpp), one instruction at a time, for every region table the
// interpreter could have: the region table, the JIT context, the packet,
// the call frames and all other host bytes are one symbolic byte array, and
// every register holds an arbitrary 64-bit value. Proved, on every x86 path
// through the instruction's code and the out-of-line stub it may jump to:
//   - the code faults (reaches the error exit) exactly when the interpreter
//     faults, with the same error kind, pc, address and size, the budget
//     counting the faulting instruction as executed and the BPF registers
//     untouched;
//   - otherwise it falls through with the interpreter's BPF registers, and
//     host memory afterwards equals the interpreter's byte for byte (so it
//     wrote exactly the bytes the interpreter writes and nothing else);
//   - a legacy packet load out of range ends the program (normal exit) with
//     r0 = 0 and every local call unwound, as the interpreter does;
//   - the JIT context pointer r12 and rsp keep their values.
// Assumed, because the JIT and the interpreter maintain them for every
// program: r10 points into the stack region with its frame [r10 - 512, r10)
// live and writable, r9 holds ctx.stack_delta, which is the stack region's
// host base minus its virtual base, and a run starts with status Exit; for
// packet loads the JIT context, the region table and the outermost call
// frame are distinct objects. Proved besides: on the fall-through path r9
// keeps its value or is reloaded from ctx.stack_delta (after a store, which
// cannot reach the JIT context in a real run, as it cannot reach the region
// table the proofs also read).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "oracle/smt/x86/decode.hpp"
#include "vm/isa/raw.hpp"
#include "vm/isa/table.hpp"
#include "vm/jit/options.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

struct MemCase {
  isa::Form form = isa::Form::ldxdw;
  uint8_t dst = 0;
  uint8_t src = 0;
  int16_t off = 0;
  int32_t imm = 0;  // st* and packet loads (atomics: fixed by the form)
  jit::JitOptions options;
};

// "stxw (stxw [r10-8], r1) on jit+blind".
std::string describe(const MemCase& c);
isa::RawInsn mem_case_instruction(const MemCase& c);

// The code the JIT emits for the case's instruction inside
//   0: mov r0, r0   1: <instruction>   2: exit
// (slot 0 charges the block, so a fault at pc 1 refunds one instruction),
// plus the out-of-line stubs it may jump to.
struct MemSnippet {
  std::vector<uint8_t> code;
  uint32_t begin = 0, end = 0;          // the instruction's code
  uint32_t stubs_begin = 0;             // the out-of-line code (JitProgram::body_size)
  uint32_t stubs_end = 0;               // the normal exit label: stub paths end here
  uint32_t error_exit = 0;              // the error exit label (sets status Error, falls into exit)
  std::vector<x86::Instruction> insns;  // [begin, end) and [stubs_begin, stubs_end), decoded
};

Result<MemSnippet> compile_mem_snippet(const MemCase& c);

struct MemProof {
  enum class Verdict : uint8_t { Proved, Counterexample, Error };
  Verdict verdict = Verdict::Error;
  std::string detail;     // Counterexample: the failing obligation and the values found; Error: why
  std::string data_test;  // Counterexample: a .data test reproducing it, when one can be built (else "")
  unsigned paths = 0;     // x86 paths, stubs included
  double seconds = 0;     // symbolic execution and solving
  std::array<uint64_t, 16> inputs{};  // Counterexample: x86 registers rax..r15
};

// Proves `s` (the code emitted for `c`, or a planted variant of it).
MemProof prove_mem_snippet(const MemCase& c, const MemSnippet& s, unsigned timeout_ms = 0);
MemProof prove_mem_case(const MemCase& c, unsigned timeout_ms = 0);

// The offsets a form is proved with for base register `base`: for r10 the
// edges of the unchecked [r10 + constant] fast path (-8, -512, -513, and
// 1 - size, which overlaps the frame's top), else a disp8 and a disp32.
std::vector<int16_t> offset_classes(isa::Form form, uint8_t base);

// The cases of a memory form for one register assignment and option set
// (registers the form does not use collapse, dst r10 only where the form
// only reads dst).
std::vector<MemCase> mem_cases_for(isa::Form form, uint8_t dst, uint8_t src, const jit::JitOptions& options);

}  // namespace bpfdiff::oracle::smt
