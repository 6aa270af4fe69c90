#pragma once
// Lowering of validated BPF instructions to x86-64, one family per .cpp
// file. Internal to the JIT compiler.
//
// Register map (why: BPF r1..r5 are the SysV argument registers in order, so
// the helper trampoline takes them where they already are; r6..r9 and r10
// sit in callee-saved registers, so calls out of JIT code keep them):
//   r0 rax  r1 rdi  r2 rsi  r3 rdx  r4 rcx  r5 r8
//   r6 rbx  r7 r13  r8 r14  r9 r15  r10 rbp
//   r12: the JitContext; r10: the instruction budget left; r9: the stack
//   delta; r11: scratch.
//
// The budget lives in r10 while JIT code runs (loaded by the prologue,
// stored back into ctx.remaining at the exit every run leaves through, and
// kept on the native stack across helper calls): charging a block is then a
// `sub r10, n; jb`, where a read-modify-write of ctx.remaining made every
// charge wait for the previous one's store (branchy code charges a few times
// per loop trip).
//
// r9 holds ctx.stack_delta at every instruction boundary (set by the
// prologue), so a stack access proved inside the frame is the single operand
// [base + r9 + off], as the kernel's [rbp + off], where reloading the
// stack's host base from the context cost two instructions per access. The
// delta is a constant of the run (the stack region's host base minus its
// virtual base), so local calls and returns leave it alone. Code that needs
// a second scratch register borrows r9 and reloads it before the next
// boundary (restore_stack_delta); helper calls reload it, since SysV lets
// the callee clobber r9, which is also the trampoline's sixth argument.
#include <array>
#include <cstdint>
#include <vector>

#include "vm/isa/table.hpp"
#include "vm/jit/context.hpp"
#include "vm/jit/emitter.hpp"
#include "vm/jit/options.hpp"
#include "vm/program/program.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::jit {

using x86::Reg;

inline constexpr std::array<Reg, isa::kNumRegisters> kRegMap = {Reg::rax, Reg::rdi, Reg::rsi, Reg::rdx,
                                                                Reg::rcx, Reg::r8,  Reg::rbx, Reg::r13,
                                                                Reg::r14, Reg::r15, Reg::rbp};
inline constexpr Reg kCtx = Reg::r12;
inline constexpr Reg kStackDeltaReg = Reg::r9;
inline constexpr Reg kScratch1 = Reg::r9;  // the stack delta's register, borrowed and restored
inline constexpr Reg kBudget = Reg::r10;
inline constexpr Reg kScratch3 = Reg::r11;

// Per-instruction facts about basic blocks, for budget accounting.
//
// A block is charged on entry, but the join of an if-then diamond (a block
// L reached only by the conditional jump ending block P and by falling
// through from P's other successor F, which falls into L) is charged ahead
// by P, since every path from P reaches it; chains of such diamonds are
// charged by their first head. The amounts charged ahead and not yet run
// are `prepaid`: a fault refunds them with the rest of its block, and a
// deoptimisation at F's entry with F's own charge.
struct BlockInfo {
  std::vector<bool> leader;            // a block starts at this pc
  std::vector<uint32_t> block_length;  // at leaders: instructions in the block
  std::vector<uint32_t> after;         // instructions of the block after this one
  std::vector<uint32_t> charge;        // at leaders: charged on entry (0: charged ahead)
  std::vector<uint32_t> deopt_refund;  // at charging leaders: given back when the charge fails
  std::vector<uint32_t> prepaid;       // per pc: charged ahead for the joins still to come
  // Accesses proved inside the current stack frame (prove_stack_accesses);
  // empty when not computed, and then every access is checked.
  std::vector<bool> in_frame;
};
BlockInfo analyse_blocks(const vm::LoadedProgram& program);
// The same into `into`, whose vectors keep their capacity: the compiler
// passes one kept per thread, so a large program's analysis allocates (and
// page-faults) only the first time. in_frame is left empty.
void analyse_blocks(const vm::LoadedProgram& program, BlockInfo& into);
// Fills charge, deopt_refund and prepaid (budget_joins.cpp).
void plan_charges(const vm::LoadedProgram& program, BlockInfo& blocks);

// r10 at the start of a run: the top of the interpreter's stack region
// (max_call_depth frames).
constexpr uint64_t stack_top(const vm::ExecLimits& limits) {
  return vm::region_base(vm::RegionId::Stack) + uint64_t{limits.max_call_depth} * vm::kStackFrameBytes;
}

// Out-of-line code reached only when something goes wrong or the budget runs
// out; emitted after the program body.
struct Stub {
  enum class Kind : uint8_t {
    MemoryFault,  // set error {kind, pc, address = base + off, size} (also bad callx targets)
    Error,        // set error {kind, pc, address 0, size} (CallDepth)
    Budget,       // refund the block, deoptimise at its first pc
    PacketEnd,    // legacy packet access out of range: unwind, r0 = 0, exit
  };
  Kind kind;
  Emitter::Label label;
  uint32_t pc = 0;
  vm::ErrorKind error = vm::ErrorKind::None;
  uint32_t size = 0;
  Reg base = Reg::rax;
  int32_t off = 0;
  uint32_t refund = 0;  // instructions to give back to the budget
};

// Labels 0..n-1 are the instruction slots; then come the exit labels and the
// end of the program body (where the out-of-line stubs begin).
constexpr Emitter::Label body_end_label(std::size_t slots) {
  return static_cast<Emitter::Label>(slots + 2);
}

class Lowering {
 public:
  Lowering(const vm::LoadedProgram& program, const BlockInfo& blocks, const vm::ExecLimits& limits,
           const JitOptions& options, uint64_t blinding_key, Emitter& e);

  // Prologue, every instruction, stubs, epilogue. Label 0..n-1 are the pcs.
  void emit();

 private:
  // lower_control.cpp
  void prologue();
  void epilogue();
  void charge_block(uint32_t pc);
  void lower_jump(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s);
  void lower_call(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s);
  void call_out(uint32_t pc, int32_t trampoline_offset);  // SysV call keeping BPF r1..r5
  void push_frame(uint32_t pc);                           // local call bookkeeping, before `call`
  void lower_callx(uint32_t pc, const vm::Insn& insn);
  void lower_exit();
  void emit_stub(const Stub& stub);
  // lower_alu.cpp
  void lower_alu(const vm::Insn& insn, const isa::Semantics& s);
  void lower_shift(const vm::Insn& insn, const isa::Semantics& s);
  void lower_divide(const vm::Insn& insn, const isa::Semantics& s);
  void lower_endian(const vm::Insn& insn, const isa::Semantics& s);
  void lower_lddw(const vm::Insn& insn);
  // `into` (r11 unless given) holding imm, blinded if asked.
  Reg immediate_operand(int32_t imm, x86::Width w, Reg into = kScratch3);
  // lower_memory.cpp
  // The host operand of an access: [base + r9 + off] when proved inside the
  // frame, else checked and based on r11 (clobbered; r9 is restored).
  x86::Mem translate(uint32_t pc, Reg base, int32_t off, uint32_t size, bool write);
  // A scratch register the operand `m` does not use: r11, or r9 (then
  // restore_stack_delta() once done with it).
  static Reg free_scratch(const x86::Mem& m) { return m.base == kScratch3 ? kScratch1 : kScratch3; }
  void restore_stack_delta();  // lower_control.cpp
  void lower_load(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s);
  void lower_store(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s);
  void lower_atomic(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s);
  void lower_packet_load(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s);

  Emitter::Label stub(Stub s);
  x86::Mem ctx(int32_t offset) const { return x86::mem(kCtx, offset); }

  const vm::LoadedProgram& program_;
  const BlockInfo& blocks_;
  vm::ExecLimits limits_;
  JitOptions options_;
  uint64_t key_;
  Emitter& e_;
  x86::Assembler& a_;
  std::vector<Stub>& stubs_;  // per thread, its capacity reused by the next compilation
  Emitter::Label exit_label_ = 0;
  Emitter::Label error_exit_label_ = 0;
  Emitter::Label tail_call_label_ = 0;  // jumps to ctx.tail_target after a successful bpf_tail_call
  bool calls_out_ = false;              // a helper call (or callx) may jump to tail_call_label_
  uint32_t pc_ = 0;                     // instruction being lowered
};

}  // namespace bpfdiff::jit
