#pragma once
// Which memory accesses are proved, before the program runs, to stay inside
// the current function's stack frame [r10 - 512, r10) on every path and for
// every input, so the JIT may emit them without a run-time bounds check.
//
// The frame of the running function is live and writable by construction
// (the interpreter and the JIT push it on every call and never let the
// region's lower bound pass it), which is why the r10 + constant fast path
// needs no check; this analysis extends that to pointers *derived* from r10
// through arithmetic with bounded scalars, e.g. `r3 = r10 - 64 + (r6 & 7) * 8`.
//
// It is a forward interval analysis over the control-flow graph: each
// register is unknown, a scalar in [lo, hi], or r10 + [lo, hi] (a stack
// pointer of the function that computed it). Every function start begins
// with only r10 known, so nothing is assumed about values a caller passes;
// loads, helper and local calls forget what they may change; loops are
// widened to "unknown" after a few rounds; any arithmetic that could
// overflow gives "unknown". An access is proved only when its whole byte
// range, for every value in the base register's interval, lies in the
// frame; everything else keeps the full check against the region table.
#include <cstdint>
#include <vector>

#include "vm/program/program.hpp"

namespace bpfdiff::jit {

// One flag per slot: true when the slot is a load, store or atomic whose
// address is proved inside the current frame. `leaders` marks the slots
// that start a basic block (BlockInfo::leader).
std::vector<bool> prove_stack_accesses(const vm::LoadedProgram& program, const std::vector<bool>& leaders);

}  // namespace bpfdiff::jit
