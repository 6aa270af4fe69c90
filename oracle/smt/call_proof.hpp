#pragma once
// Translation validation of the JIT's control lowering that is not a jump:
// local calls, exit and the budget charge of a block, against the
// interpreter's rules (vm/interp/interpreter.cpp: call_local, do_exit and
// the budget test before every instruction), for every JIT context, region
// table, call-frame array, host memory and register value.
//
// The code under proof is real: a program
//   0: mov r0, r0            block of 2, charged at pc 0
//   1: call local +1         -> pc 3
//   2: exit                  the caller's exit
//   3: mov r0, r0            the callee: a block of `callee_length`,
//      ... mov r0, r0                     charged at pc 3
//   n-1: exit                the callee's exit (not a block start: no charge)
// compiled by JitProgram::compile with the case's limits and options; each
// unit below is a range of its code (one instruction's, the block charge
// included where the instruction starts a block), symbolically executed
// with the out-of-line stubs it jumps to, up to the epilogue's exit label.
// Proved, on every x86 path:
//   - charge (pc 0 and pc 3): with at least `length` instructions of budget
//     left, the budget drops by the block's length and the code falls into
//     the block's first instruction; otherwise nothing changes but status =
//     Deopt and ctx.pc = the block's first pc (the interpreter resumes there
//     with the same budget, so it fails at the very pc it would have failed
//     at alone: the interpreter runs a block of L instructions, which has no
//     budget test inside it but its own, iff at least L are left);
//   - call local (pc 1): faults with CallDepthExceeded at pc 1, address 0,
//     size 0 and nothing else changed exactly when the interpreter does
//     (depth + 1 >= max_call_depth); otherwise writes the interpreter's call
//     frame at frames[depth] (r6..r9, r10, return pc 2), depth + 1, deepest,
//     r10 - 512 and the stack region's lower bound - 512, pushes the native
//     return address (the code offset of pc 2) and jumps to pc 3's code, with
//     every other register and host byte unchanged;
//   - exit (pc n-1): at depth 0 reaches the exit label with every register
//     and host byte unchanged (the program's end); else restores r6..r9 and
//     r10 from frames[depth - 1], depth - 1, the stack's lower bound + 512,
//     and returns through the native return address on top of the stack.
// Together the call and exit proofs keep one invariant that neither proves
// alone: at depth d > 0 the native stack's top holds the code address of
// frames[d-1].return_pc (the call pushes the address of pc + 1 and records
// pc + 1; the exit pops what it finds). The prologue, the epilogue (registers
// stored back, rsp from ctx.saved_rsp), helper calls, callx and tail calls
// are not proved here.
// On every path that runs on (into a block, the callee, or back to the
// caller), r9 is still the stack delta ctx.stack_delta, which the
// memory proofs assume at every instruction.
// Assumed, because the JIT and the interpreter keep them for every program:
// r9 = ctx.stack_delta on entry; ctx.depth < max_call_depth; status is Exit while a run is going; the JIT
// context, the region
// table, the frame array (max_call_depth frames) and the native stack slots
// the code touches are distinct objects that do not wrap around.
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "oracle/smt/finish_proof.hpp"
#include "oracle/smt/x86/decode.hpp"
#include "vm/isa/table.hpp"
#include "vm/jit/options.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

enum class ControlUnit : uint8_t {
  EntryCharge,   // pc 0: the charge of a block of 2
  CallLocal,     // pc 1
  CalleeCharge,  // pc 3: the charge of a block of callee_length
  Exit,          // the callee's exit
};
inline constexpr std::array<ControlUnit, 4> kControlUnits = {ControlUnit::EntryCharge, ControlUnit::CallLocal,
                                                             ControlUnit::CalleeCharge, ControlUnit::Exit};
const char* to_string(ControlUnit u);

struct ControlCase {
  ControlUnit unit = ControlUnit::CallLocal;
  uint32_t max_call_depth = 8;  // vm::ExecLimits::max_call_depth the program is compiled with
  uint32_t callee_length = 2;   // >= 2
  jit::JitOptions options;
};

std::string describe(const ControlCase& c);

// The compiled program of the case and the unit's place in it.
struct ControlSnippet {
  std::vector<uint8_t> code;
  std::vector<uint32_t> insn_offsets;
  uint32_t begin = 0, end = 0;          // the unit's code
  uint32_t stubs_begin = 0;             // out-of-line code
  uint32_t exit_label = 0;              // the epilogue's normal exit (the error exit falls into it)
  std::vector<x86::Instruction> insns;  // the whole function, decoded
};

Result<ControlSnippet> compile_control_snippet(const ControlCase& c);

struct ControlProof {
  enum class Verdict : uint8_t { Proved, Counterexample, Error };
  Verdict verdict = Verdict::Error;
  std::string detail;  // Counterexample: the failing obligation and the values found; Error: why
  std::string
      data_test;  // Counterexample of call_proof: a .data test reproducing it (control_counterexample.hpp)
  unsigned paths = 0;
  double seconds = 0;
  std::array<uint64_t, 16> inputs{};  // Counterexample: x86 registers rax..r15
  uint32_t depth = 0;                 // Counterexample: ctx.depth
  uint64_t remaining = 0;             // Counterexample: ctx.remaining
};

ControlProof prove_control_snippet(const ControlCase& c, const ControlSnippet& s, unsigned timeout_ms = 0);
ControlProof prove_control_case(const ControlCase& c, unsigned timeout_ms = 0);

// The cases `smt check --memory` proves for a control form (call_local:
// the call and both charges; exit: the exit), for one option set: depth
// limits 1, 2 and 8, callee blocks of 2 and 9.
// Empty for other forms (call_helper and callx: call_out_proof.hpp).
std::vector<ControlCase> control_cases_for(isa::Form form, const jit::JitOptions& options);

}  // namespace bpfdiff::oracle::smt
