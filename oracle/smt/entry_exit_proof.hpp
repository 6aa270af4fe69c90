#pragma once
// Translation validation of the JIT's prologue and epilogue, the code that
// starts and ends every run, against the interpreter's rules for a run's
// start and end (vm/interp/interpreter.cpp: loop() starts with every
// register 0 but r1 and r2 as given and r10 at the stack's top; the run's
// result is r0..r10 as the exit left them) and against the SysV ABI of the
// C++ caller (JitEntry: the context in rdi, r1 in rsi, r2 in rdx).
//
// The code under proof is real: `mov r0, r0; exit` compiled by
// JitProgram::compile with the case's limits and options; the prologue is
// the code from offset 0 to the entry instruction, the epilogue the code
// from the error exit (which sets status Error) and from the normal exit
// label to the `ret`.
// Proved, for every entry state (context, r1, r2, callee-saved registers,
// native stack, host memory), on every x86 path:
//   - the prologue reaches the entry instruction's code with BPF r0..r10
//     the interpreter's start registers, r12 the context, r9 the stack
//     delta ctx.stack_delta, rsp 16-byte aligned, ctx.saved_rsp = that rsp, and host memory unchanged but for
//     ctx.saved_rsp and the native stack below the return address (so the
//     budget, depth, deepest, status and error fields JitProgram::run set
//     reach the first block as C++ left them);
//   - then, for anything the program's body does that keeps r12,
//     ctx.saved_rsp, ctx.out_regs and the native stack from there up to the return address (the body's
//     own proofs show each unit keeps r12; local calls and helper glue push
//     below rsp only), the epilogue from either exit label stores the BPF
//     registers r0..r10 it finds into ctx.out_regs[0..10] (the run's
//     result), sets status Error on the error exit and leaves it otherwise,
//     writes nothing else, restores rbx, rbp and r12..r15 to their values
//     at entry and returns to the caller's return address with rsp as the
//     call left it.
// Not proved here (C++, shared or tested elsewhere): JitProgram::run's
// setting of the context before the call (budget, depth 0, status Exit)
// and its reading of it after the return.
// Assumed: at entry rsp + 8 is a multiple of 16 (SysV); the context,
// ctx.out_regs[0..10] and the 72 bytes of native stack around the return
// address are distinct objects that do not wrap around.
#include <cstdint>
#include <string>
#include <vector>

#include "oracle/smt/call_proof.hpp"
#include "vm/jit/options.hpp"

namespace bpfdiff::oracle::smt {

struct EntryExitCase {
  uint32_t max_call_depth = 8;
  jit::JitOptions options;
};

std::string describe(const EntryExitCase& c);

// Verdict, counterexample registers (the entry state) and paths as for the
// call proof; no .data test (a run cannot choose its entry state).
ControlProof prove_entry_exit_case(const EntryExitCase& c, unsigned timeout_ms = 0);

// The compiled program and the places the proof starts from; a test may
// patch `code`/`insns` and prove the result with prove_entry_exit_snippet.
struct EntryExitSnippet {
  std::vector<uint8_t> code;
  uint32_t entry = 0;       // the entry instruction's code
  uint32_t error_exit = 0;  // the error exit's first instruction
  uint32_t exit_label = 0;  // the normal exit
  uint64_t stack_top = 0;   // the interpreter's r10 at a run's start
  std::vector<x86::Instruction> insns;
};

Result<EntryExitSnippet> compile_entry_exit_snippet(const EntryExitCase& c);
ControlProof prove_entry_exit_snippet(const EntryExitCase& c, const EntryExitSnippet& s,
                                      unsigned timeout_ms = 0);

// The cases `smt check --memory` proves on the exit row: depth limits 1 and
// 8 for one option set.
std::vector<EntryExitCase> entry_exit_cases_for(const jit::JitOptions& options);

}  // namespace bpfdiff::oracle::smt
