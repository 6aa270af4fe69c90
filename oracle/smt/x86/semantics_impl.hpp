#pragma once
// Internal to the semantics .cpp files: operand access and flag helpers.
#include <z3++.h>

#include <string>

#include "oracle/smt/x86/decode.hpp"
#include "oracle/smt/x86/machine.hpp"
#include "oracle/smt/x86/semantics.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt::x86::detail {

// The value of a register operand at its width (ah..bh: bits 8..15).
z3::expr read_reg(const Machine& m, const Operand& op);
// An immediate, sign-extended or truncated to `bits`.
z3::expr read_imm(const Machine& m, const Operand& op, unsigned bits);
// A register or immediate source at `bits`.
z3::expr read(const Machine& m, const Operand& op, unsigned bits);
// Writes a register operand: 64 bits replace, 32 bits zero-extend, 16 and 8
// bits merge into the old value (ah..bh into bits 8..15).
void write_reg(Machine& m, const Operand& op, const z3::expr& value);
// Memory operands: the effective address (base + index * scale + disp, mod
// 2^64), a little-endian load of `bits` from it, a store of a value's bytes.
z3::expr effective_address(const Machine& m, const Operand& op);
z3::expr load(const Machine& m, const z3::expr& address, unsigned bits);
void store(Machine& m, const z3::expr& address, const z3::expr& value);
// A register, immediate or memory source at `bits` (memory: its own width).
z3::expr read_any(const Machine& m, const Operand& op, unsigned bits);
// Writes a register operand as write_reg does, or stores to a memory operand.
void write_any(Machine& m, const Operand& op, const z3::expr& value);
// Writes the low `bits` of register `reg` with 32/64-bit rules (no merging).
void write_full(Machine& m, uint8_t reg, unsigned bits, const z3::expr& value);

z3::expr msb(const z3::expr& v);
z3::expr lsb(const z3::expr& v);
// SF, ZF and PF from a result.
void set_result_flags(Machine& m, const z3::expr& result);

Error unsupported(const Instruction& insn, const std::string& why);
bool is_reg(const Operand& op);

// semantics_shift.cpp
Result<Control> shift(Machine& m, const Instruction& insn);
Result<Control> shift_bmi2(Machine& m, const Instruction& insn);
// semantics_divide.cpp
Result<Control> multiply(Machine& m, const Instruction& insn);
Result<Control> divide(Machine& m, const Instruction& insn);

}  // namespace bpfdiff::oracle::smt::x86::detail
