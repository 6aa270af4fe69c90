#pragma once
// Translation validation of the JIT's calls that leave its own code or pick
// their target at run time: helper calls (bpf_tail_call among them) and
// callx, against the interpreter's rules (vm/interp/interpreter.cpp:
// call_helper, call_indirect, call_local), for every JIT context, region
// table, call-frame array, function table, host memory, register value and
// every behaviour of the helper.
//
// The code under proof is real: a program
//   0: mov r0, r0
//   1: call helper H  |  callx rK
//   2: exit
//   3: mov r0, r0          a second function (its address taken below)
//   4: exit
//   5: lddw r0, code(3)    makes pc 3 a function start
//   7: exit
// compiled by JitProgram::compile; the unit is pc 1's code with the stubs
// and the epilogue's tail-call and error paths it jumps to.
//
// The helper is not modelled: the JIT reaches it through a C++ trampoline
// (JitProgram::helper_trampoline / callx_trampoline) that both engines share
// the helper code with. The proof takes the call out as an uninterpreted
// step: the trampoline returns any value in rax, any values in the SysV
// caller-saved registers and flags, and any host memory, keeping only what
// the SysV ABI promises (rbx, rbp, r12..r15 and rsp kept, its caller's frame
// untouched, a return to the pushed address). The trampoline's own contract
// with the interpreter's HelperCall (stated, tested in tests/jit, not proved
// here): ctx.error_kind != 0 afterwards iff the helper failed (the error's
// fields then filled in from ctx.pc), ctx.tail_target != 0 iff a tail call
// succeeded (the target function's code address).
// Proved, on every x86 path:
//   - at the trampoline call: BPF r1..r5 in rdi, rsi, rdx, rcx, r8 (the
//     helper's arguments), the context in r9, ctx.pc = the calling pc, the
//     call goes to ctx.helper_trampoline (callx by helper id:
//     ctx.callx_trampoline with ctx.callx_value = the register), rsp + 8 a
//     multiple of 16, and host memory outside the native stack below rsp is
//     the interpreter's (nothing else written);
//   - after it, for every result and memory the helper leaves: a failed
//     helper ends the run (status Error) with r0..r10 as before the call
//     (r0 not overwritten); a tail call jumps to ctx.tail_target with the
//     field cleared, r0 = the result, r1..r10 and rsp as before the call
//     (same frame, same depth: the target runs in place of the caller); else
//     the code falls into pc 2 with r0 = the result and r1..r10, rsp kept;
//     in every case host memory is what the helper left (beyond the native
//     stack below rsp, the glue's scratch); r9 is the stack delta
//     ctx.stack_delta again after the helper, at the tail call and at
//     callx's local call (SysV lets the helper clobber r9);
//   - callx: a value in the code region (value >> 32 == 4) whose offset is a
//     multiple of 8 and names a function start is a local call (the depth
//     fault, the frame, depth, deepest, r10 and stack bound of call_proof, the
//     return address of pc 2 pushed, a call to the function's code); any
//     other code-region value, and any value above 2^32 - 1, faults with
//     BadCallTarget at pc 1, address = the value, size 0; a value below
//     2^32 is a helper id, called as above.
// callx is proved by the same code but is not a `smt check` row yet: its
// queries did not finish within 500 s (it refutes planted faults quickly).
// The glue realigns rsp with `and rsp, -16`; every path is proved twice,
// for rsp = 0 and 8 mod 16, with the `and` resolved to a constant offset.
// Assumed: rsp is a multiple of 8; r9 = ctx.stack_delta, which no
// trampoline writes; ctx.depth < max_call_depth; the context, region table, frame
// array, function table and the native stack's 136 bytes around rsp are
// distinct objects that do not wrap around; the function table holds, for
// each slot, the code address of the function starting there and 0
// elsewhere (JitProgram::compile fills it so).
#include <cstdint>
#include <string>
#include <vector>

#include "oracle/smt/call_proof.hpp"
#include "oracle/smt/x86/decode.hpp"
#include "vm/isa/table.hpp"
#include "vm/jit/options.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

enum class CallOutUnit : uint8_t {
  Helper,  // call helper (the trampoline)
  Callx,   // callx rK
};
const char* to_string(CallOutUnit u);

struct CallOutCase {
  CallOutUnit unit = CallOutUnit::Helper;
  uint32_t helper = 5;  // Helper: the helper id called (5: bpf_ktime_get_ns, 12: bpf_tail_call)
  uint8_t reg = 1;      // Callx: the register holding the target
  uint32_t max_call_depth = 8;
  jit::JitOptions options;
};

std::string describe(const CallOutCase& c);

struct CallOutSnippet {
  std::vector<uint8_t> code;
  std::vector<uint32_t> insn_offsets;
  std::vector<uint32_t> function_starts;
  uint32_t begin = 0, end = 0;  // pc 1's code
  uint32_t stubs_begin = 0;     // out-of-line code and the epilogue
  uint32_t exit_label = 0;      // the epilogue's normal exit (the error exit falls into it)
  std::vector<x86::Instruction> insns;
};

Result<CallOutSnippet> compile_call_out_snippet(const CallOutCase& c);

// The verdict, counterexample registers and depth as for the call proof.
ControlProof prove_call_out_snippet(const CallOutCase& c, const CallOutSnippet& s, unsigned timeout_ms = 0);
ControlProof prove_call_out_case(const CallOutCase& c, unsigned timeout_ms = 0);

// The cases `smt check --memory` proves for call_helper (a plain helper and
// bpf_tail_call) and callx (register `reg`; depth limits 1, 2 and 8), for
// one option set; empty for other forms.
std::vector<CallOutCase> call_out_cases_for(isa::Form form, uint8_t reg, const jit::JitOptions& options);

}  // namespace bpfdiff::oracle::smt
