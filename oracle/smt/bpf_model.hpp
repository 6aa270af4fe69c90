#pragma once
// An independent bit-vector model of the pure BPF instructions: every ALU and
// ALU32 form, every byte-order form and every JMP/JMP32 condition, written
// from RFC 9669 (sections 4.1 to 4.3 and 4.4) directly in Z3 terms. It does
// not call the VM's C++ (vm/runtime/semantics_impl.hpp): it is the reference
// the interpreter is proved against (interp_check) and the specification the
// JIT's x86-64 translation is proved against (oracle/smt/x86).
//
// Conventions, the same for every function here:
//  - register values are 64-bit bit-vectors (z3::context::bv_sort(64));
//  - `src` is the 64-bit source operand: the source register's value for
//    Source::Reg forms, imm_operand(imm) for Source::Imm forms. RFC 9669 reads
//    imm sign-extended to 64 bits in every ALU, ALU32, JMP and JMP32 form (the
//    32-bit forms then use its low half), so one operand value serves all;
//  - results are 64-bit: the 32-bit forms zero-extend what they compute.
#include <cstdint>
#include <vector>

#include <z3++.h>

#include "vm/isa/semantics.hpp"
#include "vm/isa/table.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

// The families the model gives a meaning to: Alu, Endian and Jump.
bool covers(isa::Family family);
bool covers(isa::Form form);
// Every form of the instruction table in a covered family, in table order.
std::vector<isa::Form> covered_forms();

// The 64-bit source operand of an immediate form: imm sign-extended.
z3::expr imm_operand(z3::context& ctx, int32_t imm);
constexpr uint64_t imm_operand_value(int32_t imm) {
  return static_cast<uint64_t>(static_cast<int64_t>(imm));
}
// A 64-bit constant.
z3::expr bv64(z3::context& ctx, uint64_t value);

// Total functions on the semantic enums (every enumerator has a meaning).
// The new value of dst after `dst = dst op src` at the given width. For Neg
// `src` is ignored; for Mov and Movsx `dst` is ignored.
z3::expr alu_result(z3::context& ctx, isa::AluOp op, isa::Width width, const z3::expr& dst,
                    const z3::expr& src);
// The new value of dst after a byte-order instruction of `bits` (16, 32 or
// 64; any other width is treated as 64, which no table row has).
z3::expr endian_result(z3::context& ctx, isa::EndianOp op, unsigned bits, const z3::expr& dst);
// Whether a conditional jump `if dst cond src` is taken (a Bool expression).
// JMP32 compares the low 32 bits of both operands.
z3::expr condition(z3::context& ctx, isa::JmpCond cond, isa::Width width, const z3::expr& dst,
                   const z3::expr& src);

// Per form, for callers that hold a Form (the CLI, the checks, the JIT
// proofs). They fail, with a message naming the form, when the form's family
// is not the one asked for or an operand is not a 64-bit bit-vector.
//
// alu_result: Alu forms only. dst_result: Alu and Endian forms (`src` is
// ignored by Endian). branch_taken: Jump forms (ja and gotol: always true).
Result<z3::expr> alu_result(z3::context& ctx, isa::Form form, const z3::expr& dst, const z3::expr& src);
Result<z3::expr> dst_result(z3::context& ctx, isa::Form form, const z3::expr& dst, const z3::expr& src);
Result<z3::expr> branch_taken(z3::context& ctx, isa::Form form, const z3::expr& dst, const z3::expr& src);

}  // namespace bpfdiff::oracle::smt
