#pragma once
// A typed x86-64 encoder that appends machine code to a byte vector.
//
// Errors are values and they are sticky: the first rejected operation
// records a message, writes nothing, and turns every later call into a no-op,
// so a lowering can emit a whole function and check error() once at the end.
// Invalid combinations are unrepresentable where the type system makes that
// cheap (a shift by register has no count operand: it is always cl); the
// rest (W8 imul, W16 bswap, an rsp index, an immediate that does not fit)
// is rejected at run time. Every operation is encoded into a local buffer
// first, so a rejected one never leaves a partial instruction behind.
//
// Encoding choices are fixed so that golden tests and the JIT's multi-pass
// layout can rely on them: the reg,reg forms of mov/ALU/test put the source
// in ModRM.reg (opcodes 89, 01, ...); ALU immediates use 83 /n ib when the
// immediate fits int8 and 81 /n otherwise, never the short rax forms; shifts
// by an immediate always use C1 /n ib (no D1 for a count of one); prefixes
// come in the order 66, F0, REX; a byte operand in spl..dil always gets a
// REX, so ah..bh are never produced.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vm/jit/x86/operands.hpp"
#include "vm/jit/x86/registers.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::jit::x86 {

namespace detail {
class Inst;
}

// Value = the /digit of the 80/81/83 group and 8*value+1 the r/m,reg opcode.
enum class AluOp : uint8_t { Add = 0, Or = 1, Adc = 2, Sbb = 3, And = 4, Sub = 5, Xor = 6, Cmp = 7 };

// Value = the /digit of the C1/D3 group.
enum class ShiftOp : uint8_t { Rol = 0, Ror = 1, Shl = 4, Shr = 5, Sar = 7 };

enum class JumpSize : uint8_t { Short, Near };  // rel8, rel32

// Encoded lengths, for a layout pass that computes displacements before it
// emits. A displacement is relative to the end of the jump instruction.
constexpr size_t jmp_length(JumpSize s) {
  return s == JumpSize::Short ? 2 : 5;
}
constexpr size_t jcc_length(JumpSize s) {
  return s == JumpSize::Short ? 2 : 6;
}
inline constexpr size_t kCallRel32Length = 5;
constexpr bool fits_rel8(int64_t disp) {
  return disp >= -128 && disp <= 127;
}
inline constexpr size_t kMaxInstructionLength = 15;

class Assembler {
 public:
  Assembler() = default;
  // Appends to `buffer`'s storage (its contents are dropped), so a caller
  // that assembles again and again reuses one allocation.
  explicit Assembler(std::vector<uint8_t> buffer) : code_(std::move(buffer)) { code_.clear(); }

  // --- state -------------------------------------------------------------
  bool ok() const { return error_.empty(); }
  // The first error message, or empty while ok().
  const std::string& error() const { return error_; }
  const std::vector<uint8_t>& code() const { return code_; }
  size_t size() const { return code_.size(); }
  void reserve(size_t bytes) { code_.reserve(bytes); }
  // Records `message` as the error unless one is already recorded; lets a
  // lowering stop emission for reasons of its own.
  void fail(std::string message);
  // The code, or the first error.
  Result<std::vector<uint8_t>> finish() &&;
  // The buffer, whatever the state, for reuse.
  std::vector<uint8_t> release() && { return std::move(code_); }

  // --- moves (assembler_mov.cpp) -----------------------------------------
  void mov(Width w, Reg dst, Reg src);                     // 89 /r; W32 zero-extends
  void mov(Width w, Reg dst, const Mem& src);              // load, 8B /r
  void mov(Width w, const Mem& dst, Reg src);              // store, 89 /r
  void mov_imm(Width w, Reg dst, int32_t imm);             // W32: B8+r id (zero-extends); W64: C7 /0 id
  void mov_imm(Width w, const Mem& dst, int32_t imm);      // C6/C7 /0 with an imm of the operand size
  void movabs(Reg dst, uint64_t imm);                      // REX.W B8+r io
  void load_imm64(Reg dst, uint64_t imm);                  // shortest of B8 / C7 / movabs
  void movzx(Reg dst32, Width src_w, Reg src);             // src_w W8 / W16
  void movzx(Reg dst32, Width src_w, const Mem& src);      // src_w W8 / W16
  void movsx(Width dst_w, Reg dst, Width src_w, Reg src);  // W8/W16 -> W32/W64; W32 -> W64 is movsxd
  void movsx(Width dst_w, Reg dst, Width src_w, const Mem& src);  // same, from memory
  void lea(Width w, Reg dst, const Mem& src);                     // W32 / W64

  // --- integer arithmetic (assembler_alu.cpp) ----------------------------
  void alu(AluOp op, Width w, Reg dst, Reg src);
  void alu_imm(AluOp op, Width w, Reg dst, int32_t imm);         // W64 sign-extends imm
  void alu(AluOp op, Width w, Reg dst, const Mem& src);          // 03 /r family: dst op= [mem]
  void alu_imm(AluOp op, Width w, const Mem& dst, int32_t imm);  // 81/83 /n: [mem] op= imm
  void add(Width w, Reg dst, Reg src) { alu(AluOp::Add, w, dst, src); }
  void sub(Width w, Reg dst, Reg src) { alu(AluOp::Sub, w, dst, src); }
  void and_(Width w, Reg dst, Reg src) { alu(AluOp::And, w, dst, src); }
  void or_(Width w, Reg dst, Reg src) { alu(AluOp::Or, w, dst, src); }
  void xor_(Width w, Reg dst, Reg src) { alu(AluOp::Xor, w, dst, src); }
  void cmp(Width w, Reg lhs, Reg rhs) { alu(AluOp::Cmp, w, lhs, rhs); }
  void add_imm(Width w, Reg dst, int32_t imm) { alu_imm(AluOp::Add, w, dst, imm); }
  void sub_imm(Width w, Reg dst, int32_t imm) { alu_imm(AluOp::Sub, w, dst, imm); }
  void and_imm(Width w, Reg dst, int32_t imm) { alu_imm(AluOp::And, w, dst, imm); }
  void or_imm(Width w, Reg dst, int32_t imm) { alu_imm(AluOp::Or, w, dst, imm); }
  void xor_imm(Width w, Reg dst, int32_t imm) { alu_imm(AluOp::Xor, w, dst, imm); }
  void cmp_imm(Width w, Reg lhs, int32_t imm) { alu_imm(AluOp::Cmp, w, lhs, imm); }
  void test(Width w, Reg lhs, Reg rhs);                   // 85 /r
  void test_imm(Width w, Reg lhs, int32_t imm);           // F7 /0 with a full-size imm (no imm8 form exists)
  void imul(Width w, Reg dst, Reg src);                   // 0F AF /r, W32 / W64
  void imul_imm(Width w, Reg dst, Reg src, int32_t imm);  // 6B ib / 69 id, W32 / W64
  // rdx:rax (or edx:eax) by the operand; W32 / W64.
  void mul(Width w, Reg src);
  void mul(Width w, const Mem& src);
  void div(Width w, Reg src);
  void div(Width w, const Mem& src);
  void idiv(Width w, Reg src);
  void idiv(Width w, const Mem& src);
  void neg(Width w, Reg dst);
  void not_(Width w, Reg dst);
  void cdq();  // edx = sign of eax
  void cqo();  // rdx = sign of rax

  // --- shifts, rotates, byte swap (assembler_alu.cpp) --------------------
  void shift_imm(ShiftOp op, Width w, Reg dst, uint8_t count);  // count < bits_of(w)
  void shift_cl(ShiftOp op, Width w, Reg dst);                  // the count is always cl
  void shl_imm(Width w, Reg dst, uint8_t count) { shift_imm(ShiftOp::Shl, w, dst, count); }
  void shr_imm(Width w, Reg dst, uint8_t count) { shift_imm(ShiftOp::Shr, w, dst, count); }
  void sar_imm(Width w, Reg dst, uint8_t count) { shift_imm(ShiftOp::Sar, w, dst, count); }
  void rol_imm(Width w, Reg dst, uint8_t count) { shift_imm(ShiftOp::Rol, w, dst, count); }
  void ror_imm(Width w, Reg dst, uint8_t count) { shift_imm(ShiftOp::Ror, w, dst, count); }
  void shl_cl(Width w, Reg dst) { shift_cl(ShiftOp::Shl, w, dst); }
  void shr_cl(Width w, Reg dst) { shift_cl(ShiftOp::Shr, w, dst); }
  void sar_cl(Width w, Reg dst) { shift_cl(ShiftOp::Sar, w, dst); }
  // BMI2, VEX-encoded, W32 / W64: dst = src shifted by count (any register).
  void shlx(Width w, Reg dst, Reg src, Reg count);
  void shrx(Width w, Reg dst, Reg src, Reg count);
  void sarx(Width w, Reg dst, Reg src, Reg count);
  void bswap(Width w, Reg dst);  // W32 / W64; for 16 bits use ror_imm(W16, r, 8)

  // --- atomics (assembler_atomic.cpp) ------------------------------------
  // The JIT emits the unlocked forms: a BPF program runs on one thread, and
  // a LOCK on a misaligned operand that straddles a cache line is a split
  // lock, which hosts with split-lock/bus-lock detection trap and throttle
  // (milliseconds per instruction). `xchg` with memory is locked by the CPU
  // whatever the prefix, so the JIT does not use it either.
  void xchg(Width w, const Mem& dst, Reg src);  // implicitly locked
  void xadd(Width w, const Mem& dst, Reg src) { emit_xadd(w, dst, src, false); }
  void cmpxchg(Width w, const Mem& dst, Reg src) {
    emit_cmpxchg(w, dst, src, false);
  }  // compares with rax/eax
  void alu(AluOp op, Width w, const Mem& dst, Reg src) {
    emit_alu_to_mem(op, w, dst, src, false);
  }  // not Cmp
  void lock_xadd(Width w, const Mem& dst, Reg src) { emit_xadd(w, dst, src, true); }
  void lock_cmpxchg(Width w, const Mem& dst, Reg src) { emit_cmpxchg(w, dst, src, true); }
  void lock_alu(AluOp op, Width w, const Mem& dst, Reg src) { emit_alu_to_mem(op, w, dst, src, true); }

  // --- flags consumers and control flow (assembler_flow.cpp) -------------
  void cmov(Cond cc, Width w, Reg dst, Reg src);  // W16 / W32 / W64
  void setcc(Cond cc, Reg dst8);
  void jcc(Cond cc, JumpSize size, int32_t disp);  // Short rejects a disp outside int8
  void jmp(JumpSize size, int32_t disp);
  void call(int32_t disp);  // E8 rel32
  void call(Reg target);    // FF /2
  void jmp(Reg target);     // FF /4
  void push(Reg r);
  void pop(Reg r);
  void ret();
  void int3();
  void fill_int3(size_t count);
  void nop();
  void ud2();

 private:
  // Appends one encoded instruction unless an error is recorded.
  void put(const detail::Inst& inst);
  // Records "<what>: <why>" as the error; always returns false.
  bool reject(std::string_view what, std::string_view why);
  // True when no error is recorded and `cond` holds; otherwise rejects.
  bool require(bool cond, std::string_view what, std::string_view why);
  // True when no error is recorded and `m` is encodable (no rsp index).
  bool check_mem(std::string_view what, const Mem& m);
  // The read-modify-write encodings, with or without the LOCK prefix.
  void emit_xadd(Width w, const Mem& dst, Reg src, bool lock);
  void emit_cmpxchg(Width w, const Mem& dst, Reg src, bool lock);
  void emit_alu_to_mem(AluOp op, Width w, const Mem& dst, Reg src, bool lock);

  std::vector<uint8_t> code_;
  std::string error_;
};

}  // namespace bpfdiff::jit::x86
