#pragma once
// A program our validator rejects for a non-zero reserved field that the
// kernel nevertheless loads and runs is not always a disagreement about the
// program's meaning. The kernel checks an instruction's reserved fields when
// its verifier explores the instruction; one on a branch the verifier proves
// is never taken (a constant condition) is never explored, and is replaced
// rather than checked. RFC 9669 makes such a program invalid as a whole, and
// we keep rejecting it, but the kernel's run of it shows nothing about the
// instruction: found by the fuzzer's raw inputs, 4 of 4 "we reject what the
// kernel runs" crashes in a 60-minute `interp_vs_kernel` run were this.
//
// The same holds for a known opcode byte whose discriminating field (the
// off of a mov or sdiv, the imm of an atomic or byte swap, the src of a
// call) matches no form, and for register numbers past r10 or a write to
// r10: the kernel checks the opcode byte in every slot, the rest only where
// it explores.
//
// The disagreement is excused only when the instruction cannot matter here:
// with the offending fields made valid the program is valid, and our run of it
// on the same input ends normally without executing any of those
// instructions. If our run reaches one, the kernel either ignores that field
// (a deviation) or judged a taken path dead (a verifier bug): a finding.
#include <span>
#include <string>

#include "vm/program/program.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::oracle {

// The reason the rejection is not comparable, or empty when it is (another
// validator error, an unknown opcode byte or a reserved field in the second
// slot of an lddw -- the kernel checks those in every slot --, or an
// offending instruction reached).
std::string unreached_reserved_fields(const vm::Program& program, std::span<const uint8_t> memory,
                                      vm::RunMode mode, const vm::ExecLimits& limits);

}  // namespace bpfdiff::oracle
