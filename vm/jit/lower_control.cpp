// Control flow: prologue and epilogue, block budget charges, jumps, calls,
// exit, and the out-of-line stubs.
#include <cstddef>
#include <string_view>

#include "vm/jit/lowering.hpp"
#include "vm/jit/offsets.hpp"
#include "vm/jit/planted.hpp"

namespace bpfdiff::jit {

using x86::Cond;
using x86::mem;
using x86::Width;
using enum x86::Width;

using namespace offsets;

namespace {

constexpr std::array<Reg, 6> kCalleeSaved = {Reg::rbx, Reg::rbp, Reg::r12, Reg::r13, Reg::r14, Reg::r15};
constexpr std::array<Reg, 5> kArgs = {Reg::rdi, Reg::rsi, Reg::rdx, Reg::rcx, Reg::r8};   // BPF r1..r5
constexpr std::array<Reg, 4> kBpfCalleeSaved = {Reg::rbx, Reg::r13, Reg::r14, Reg::r15};  // BPF r6..r9

Cond condition_code(isa::JmpCond c) {
  switch (c) {
    case isa::JmpCond::Always:
    case isa::JmpCond::Eq:
      return Cond::e;
    case isa::JmpCond::Gt:
      return Cond::a;
    case isa::JmpCond::Ge:
      return Cond::ae;
    case isa::JmpCond::Set:
    case isa::JmpCond::Ne:
      return Cond::ne;
    case isa::JmpCond::Sgt:
      return Cond::g;
    case isa::JmpCond::Sge:
      return Cond::ge;
    case isa::JmpCond::Lt:
      return Cond::b;
    case isa::JmpCond::Le:
      return Cond::be;
    case isa::JmpCond::Slt:
      return Cond::l;
    case isa::JmpCond::Sle:
      return Cond::le;
  }
  return Cond::e;
}

// The condition code a conditional jump is lowered to. A planted build
// (BPFDIFF_PLANT_JIT_BUG=jsgt32-sign, never the default) gets JMP32 jsgt
// wrong on purpose: it tests the unsigned `a`, as if the operands had been
// zero- rather than sign-extended, which differs only when exactly one
// operand is negative as an int32 -- the kind of slip the gate and the
// campaign exist to catch (scripts/planted-bug.sh measures how fast).
Cond jump_condition(const isa::Semantics& s) {
#ifdef BPFDIFF_PLANTED_JSGT32_SIGN
  if (s.width == isa::Width::W32 && s.cond == isa::JmpCond::Sgt) return Cond::a;
#endif
  return condition_code(s.cond);
}

}  // namespace

std::string_view planted_bug() {
#if defined(BPFDIFF_PLANTED_JSGT32_SIGN)
  return "jsgt32-sign";
#elif defined(BPFDIFF_PLANTED_CALL_DEPTH)
  return "call-depth-off-by-one";
#elif defined(BPFDIFF_PLANTED_BUDGET_SHORT)
  return "budget-charge-short";
#elif defined(BPFDIFF_PLANTED_CALLX_UNALIGNED)
  return "callx-target-unaligned";
#elif defined(BPFDIFF_PLANTED_HELPER_RESULT)
  return "helper-result-dropped";
#elif defined(BPFDIFF_PLANTED_NAME)
  return BPFDIFF_PLANTED_NAME;  // a bug planted in another lowering file
#else
  return "";
#endif
}

BlockInfo analyse_blocks(const vm::LoadedProgram& program) {
  BlockInfo b;
  analyse_blocks(program, b);
  return b;
}

void analyse_blocks(const vm::LoadedProgram& program, BlockInfo& b) {
  const std::size_t n = program.insns.size();
  b.leader.assign(n, false);
  b.block_length.assign(n, 0);
  b.after.assign(n, 0);
  b.in_frame.clear();
  thread_local std::vector<bool> second_slot;
  second_slot.assign(n, false);
  b.leader[program.source.entry] = true;
  for (uint32_t f : program.function_starts)
    b.leader[f] = true;
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (second_slot[pc]) continue;
    const vm::Insn& insn = program.insns[pc];
    const isa::FormInfo& fi = isa::info(insn.form);
    const std::size_t next = pc + fi.slots;
    if (fi.slots == 2 && pc + 1 < n) second_slot[pc + 1] = true;
    switch (fi.sem.family) {
      case isa::Family::Jump:
        b.leader[insn.target] = true;
        if (next < n) b.leader[next] = true;
        break;
      case isa::Family::Call:
      case isa::Family::Exit:
        // A call's return lands here; a new block charges what follows.
        if (next < n) b.leader[next] = true;
        break;
      case isa::Family::Alu:
      case isa::Family::Endian:
      case isa::Family::Lddw:
      case isa::Family::Load:
      case isa::Family::LoadSigned:
      case isa::Family::StoreImm:
      case isa::Family::StoreReg:
      case isa::Family::Atomic:
      case isa::Family::PacketLoad:
        break;
    }
  }
  // Walk each block: count its instructions and, per instruction, how many follow it.
  thread_local std::vector<uint32_t> members;
  members.clear();
  auto close = [&]() {
    if (members.empty()) return;
    b.block_length[members.front()] = static_cast<uint32_t>(members.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
      b.after[members[i]] = static_cast<uint32_t>(members.size() - i - 1);
    }
    members.clear();
  };
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (second_slot[pc]) continue;
    if (b.leader[pc]) close();
    members.push_back(static_cast<uint32_t>(pc));
  }
  close();
  plan_charges(program, b);
}

namespace {

// The stubs of the compilation under way on this thread (one at a time).
std::vector<Stub>& thread_stubs() {
  thread_local std::vector<Stub> stubs;
  stubs.clear();
  return stubs;
}

}  // namespace

Lowering::Lowering(const vm::LoadedProgram& program, const BlockInfo& blocks, const vm::ExecLimits& limits,
                   const JitOptions& options, uint64_t blinding_key, Emitter& e)
    : program_(program),
      blocks_(blocks),
      limits_(limits),
      options_(options),
      key_(blinding_key),
      e_(e),
      a_(e.a),
      stubs_(thread_stubs()) {}

Emitter::Label Lowering::stub(Stub s) {
  s.label = e_.new_label();
  stubs_.push_back(s);
  return s.label;
}

void Lowering::emit() {
  const std::size_t n = program_.insns.size();
  // About one stub and two jumps per slot at most in practice: reserving
  // keeps large programs from copying these vectors as they grow.
  stubs_.reserve(n + 16);
  e_.reserve(n + stubs_.capacity() + 16, 2 * n + 16);
  for (std::size_t pc = 0; pc < n; ++pc)
    e_.new_label();  // label pc == pc
  exit_label_ = e_.new_label();
  error_exit_label_ = e_.new_label();
  const Emitter::Label body_end = e_.new_label();  // == body_end_label(n)
  tail_call_label_ = e_.new_label();

  prologue();
  e_.jmp(program_.source.entry);
  for (std::size_t pc = 0; pc < n; ++pc) {
    const vm::Insn& insn = program_.insns[pc];
    const isa::FormInfo& fi = isa::info(insn.form);
    pc_ = static_cast<uint32_t>(pc);
    e_.bind(pc_);
    if (blocks_.leader[pc] && blocks_.charge[pc] > 0) charge_block(pc_);
    const isa::Semantics& s = fi.sem;
    switch (s.family) {
      case isa::Family::Alu:
        lower_alu(insn, s);
        break;
      case isa::Family::Endian:
        lower_endian(insn, s);
        break;
      case isa::Family::Jump:
        lower_jump(pc_, insn, s);
        break;
      case isa::Family::Call:
        lower_call(pc_, insn, s);
        break;
      case isa::Family::Exit:
        lower_exit();
        break;
      case isa::Family::Lddw:
        lower_lddw(insn);
        e_.bind(pc_ + 1 < n ? pc_ + 1 : pc_);  // the second slot is never a target; bind for layout checks
        ++pc;
        break;
      case isa::Family::Load:
      case isa::Family::LoadSigned:
        lower_load(pc_, insn, s);
        break;
      case isa::Family::StoreImm:
      case isa::Family::StoreReg:
        lower_store(pc_, insn, s);
        break;
      case isa::Family::Atomic:
        lower_atomic(pc_, insn, s);
        break;
      case isa::Family::PacketLoad:
        lower_packet_load(pc_, insn, s);
        break;
    }
  }
  // Validation guarantees no path falls off the end; trap if one ever does.
  e_.bind(body_end);
  a_.ud2();
  for (std::size_t i = 0; i < stubs_.size(); ++i)
    emit_stub(stubs_[i]);
  epilogue();
}

void Lowering::prologue() {
  for (Reg r : kCalleeSaved)
    a_.push(r);
  a_.sub_imm(W64, Reg::rsp, 8);  // 6 pushes + return address: realign to 16
  a_.mov(W64, kCtx, Reg::rdi);
  a_.mov(W64, ctx(kSavedRsp), Reg::rsp);
  a_.mov(W64, kBudget, ctx(kRemaining));
  restore_stack_delta();
  // Every run starts alike (JitEntry): r1 and r2 arrive as the second and
  // third arguments, r10 is a constant of the program, the rest are zeroed
  // here rather than loaded from memory the caller would have to fill.
  static_assert(kRegMap[1] == Reg::rdi && kRegMap[2] == Reg::rsi, "r1, r2 come from rsi, rdx");
  a_.mov(W64, kRegMap[1], Reg::rsi);
  a_.mov(W64, kRegMap[2], Reg::rdx);
  for (int r = 0; r < isa::kFramePointer; ++r) {
    if (r != 1 && r != 2) a_.xor_(W32, kRegMap[r], kRegMap[r]);
  }
  a_.load_imm64(kRegMap[isa::kFramePointer], stack_top(limits_));
}

void Lowering::restore_stack_delta() {
  a_.mov(W64, kStackDeltaReg, ctx(kStackDelta));
}

void Lowering::epilogue() {
  // A successful tail call: the target function runs in the current frame,
  // at the current native depth, so its exit returns where this function's
  // would have. Its first block charges the budget as any function entry.
  // Only helper calls reach it: a program without any goes without it.
  if (calls_out_) {
    e_.bind(tail_call_label_);
    a_.mov_imm(W64, ctx(kTailTarget), 0);
    a_.jmp(kScratch3);
  }
  // Reached from any depth: the saved rsp drops native return addresses of
  // local calls that will never return (an error or a deoptimisation).
  e_.bind(error_exit_label_);
  a_.mov_imm(W32, ctx(kStatus), static_cast<int32_t>(JitStatus::Error));
  e_.bind(exit_label_);
  a_.mov(W64, ctx(kRemaining), kBudget);
  // The registers go straight into the caller's result.
  a_.mov(W64, kScratch1, ctx(kOutRegs));
  for (int r = 0; r < isa::kNumRegisters; ++r)
    a_.mov(W64, x86::mem(kScratch1, 8 * r), kRegMap[r]);
  a_.mov(W64, Reg::rsp, ctx(kSavedRsp));
  a_.add_imm(W64, Reg::rsp, 8);
  for (auto it = kCalleeSaved.rbegin(); it != kCalleeSaved.rend(); ++it)
    a_.pop(*it);
  a_.ret();
}

void Lowering::charge_block(uint32_t pc) {
#ifdef BPFDIFF_PLANTED_BUDGET_SHORT
  // Planted on purpose (BPFDIFF_PLANT_JIT_BUG=budget-charge-short, never the
  // default): a block is charged one instruction less than it runs, so a
  // run may go past its budget.
  const uint32_t length = blocks_.charge[pc] - 1;
#else
  const uint32_t length = blocks_.charge[pc];
#endif
  Stub s{Stub::Kind::Budget, 0};
  s.pc = pc;
  s.refund = blocks_.deopt_refund[pc];
  a_.sub_imm(W64, kBudget, static_cast<int32_t>(length));
  e_.jcc(Cond::b, stub(s));
}

void Lowering::lower_jump(uint32_t, const vm::Insn& insn, const isa::Semantics& s) {
  if (s.cond == isa::JmpCond::Always) {
    e_.jmp(insn.target);
    return;
  }
  const Width w = s.width == isa::Width::W64 ? W64 : W32;
  const Reg dst = kRegMap[insn.dst];
  if (s.source == isa::Source::Reg) {
    const Reg src = kRegMap[insn.src];
    if (s.cond == isa::JmpCond::Set) {
      a_.test(w, dst, src);
    } else {
      a_.cmp(w, dst, src);
    }
  } else if (options_.constant_blinding) {
    const Reg imm = immediate_operand(insn.imm, w);
    if (s.cond == isa::JmpCond::Set) {
      a_.test(w, dst, imm);
    } else {
      a_.cmp(w, dst, imm);
    }
  } else if (s.cond == isa::JmpCond::Set) {
    a_.test_imm(w, dst, insn.imm);
  } else {
    a_.cmp_imm(w, dst, insn.imm);
  }
  e_.jcc(jump_condition(s), insn.target);
}

void Lowering::call_out(uint32_t pc, int32_t trampoline_offset) {
  // Helpers leave BPF r1..r5 alone, but the SysV call may not; a failing
  // helper leaves r0 alone too, so rax is kept until the call succeeded. Local
  // calls may have left the native stack 8-byte aligned, so realign. The
  // budget (r10) waits on the native stack too: SysV lets the callee clobber it.
  calls_out_ = true;
  a_.push(kBudget);
  a_.push(Reg::rax);
  for (Reg r : kArgs)
    a_.push(r);
  a_.mov(W64, kScratch1, Reg::rsp);
  a_.and_imm(W64, Reg::rsp, -16);
  a_.push(kScratch1);
  a_.sub_imm(W64, Reg::rsp, 8);
  a_.mov_imm(W32, ctx(kPc), static_cast<int32_t>(pc));
  a_.mov(W64, Reg::r9, kCtx);  // sixth argument: the context
  a_.mov(W64, kScratch3, ctx(trampoline_offset));
  a_.call(kScratch3);
  a_.add_imm(W64, Reg::rsp, 8);
  a_.pop(Reg::rsp);
  restore_stack_delta();
  for (auto it = kArgs.rbegin(); it != kArgs.rend(); ++it)
    a_.pop(*it);
  const Emitter::Label ok = e_.new_label();
  a_.alu_imm(x86::AluOp::Cmp, W32, ctx(kErrorKind), 0);
  e_.jcc(Cond::e, ok);
  a_.pop(Reg::rax);
  a_.pop(kBudget);
  e_.jmp(error_exit_label_);
  e_.bind(ok);
#ifdef BPFDIFF_PLANTED_HELPER_RESULT
  // Planted on purpose (BPFDIFF_PLANT_JIT_BUG=helper-result-dropped, never
  // the default): the saved r0 comes back, so the helper's result is lost.
  a_.pop(Reg::rax);
#else
  a_.add_imm(W64, Reg::rsp, 8);  // drop the saved r0: the result stays
#endif
  a_.pop(kBudget);
  // Any helper may have been bpf_tail_call (callx can reach it by id too).
  a_.mov(W64, kScratch3, ctx(kTailTarget));
  a_.test(W64, kScratch3, kScratch3);
  e_.jcc(Cond::ne, tail_call_label_);
}

void Lowering::push_frame(uint32_t pc) {
  Stub depth{Stub::Kind::Error, 0};
  depth.pc = pc;
  depth.error = vm::ErrorKind::CallDepthExceeded;
  a_.mov(W32, kScratch3, ctx(kDepth));
#ifdef BPFDIFF_PLANTED_CALL_DEPTH
  // Planted on purpose (BPFDIFF_PLANT_JIT_BUG=call-depth-off-by-one, never
  // the default): one frame more than the interpreter allows.
  a_.cmp_imm(W32, kScratch3, static_cast<int32_t>(limits_.max_call_depth));
#else
  a_.cmp_imm(W32, kScratch3, static_cast<int32_t>(limits_.max_call_depth - 1));
#endif
  e_.jcc(Cond::ae, stub(depth));
  // r11 alone (r9 keeps the stack delta): depth + 1, then the address of
  // frames[depth + 1], just past the frame this call fills.
  a_.add_imm(W32, kScratch3, 1);
  a_.mov(W32, ctx(kDepth), kScratch3);
  // deepest is stored only when this call goes deeper: an unconditional
  // store made every call's load of it wait for the previous call's store.
  const Emitter::Label not_deeper = e_.new_label();
  a_.alu(x86::AluOp::Cmp, W32, kScratch3, ctx(kDeepest));
  e_.jcc(Cond::be, not_deeper);
  a_.mov(W32, ctx(kDeepest), kScratch3);
  e_.bind(not_deeper);
  a_.imul_imm(W64, kScratch3, kScratch3, kFrameSize);
  a_.alu(x86::AluOp::Add, W64, kScratch3, ctx(kFrames));
  for (int i = 0; i < 4; ++i)
    a_.mov(W64, mem(kScratch3, 8 * i - kFrameSize), kBpfCalleeSaved[i]);
  a_.mov(W64, mem(kScratch3, kFrameR10 - kFrameSize), Reg::rbp);
  a_.mov_imm(W32, mem(kScratch3, kFrameReturnPc - kFrameSize), static_cast<int32_t>(pc + 1));
  a_.sub_imm(W64, Reg::rbp, static_cast<int32_t>(vm::kStackFrameBytes));
  a_.mov(W64, kScratch3, ctx(kRegions));
  a_.alu_imm(x86::AluOp::Sub, W64, mem(kScratch3, kStackLo), static_cast<int32_t>(vm::kStackFrameBytes));
}

void Lowering::lower_call(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s) {
  switch (s.call) {
    case isa::CallKind::Helper:
      call_out(pc, kTrampoline);
      return;
    case isa::CallKind::Local:
      push_frame(pc);
      e_.call(insn.target);
      return;
    case isa::CallKind::Indirect:
      lower_callx(pc, insn);
      return;
  }
}

// callx: a function address from `lddw rX, code(...)` (region 4, offset =
// slot * 8, a function start) is a local call; a value below 2^32 is a helper
// id; anything else is a bad target -- the interpreter's rules exactly. The
// local call comes last, so that its native return address is pc + 1's code,
// as for a local call (the invariant the exit relies on).
void Lowering::lower_callx(uint32_t pc, const vm::Insn& insn) {
  const Reg value = kRegMap[insn.dst];
  Stub bad{Stub::Kind::MemoryFault, 0};
  bad.pc = pc;
  bad.error = vm::ErrorKind::BadCallTarget;
  bad.base = value;
  const Emitter::Label bad_target = stub(bad);
  const Emitter::Label function = e_.new_label();
  const Emitter::Label done = e_.new_label();

  a_.mov(W64, kScratch1, value);
  a_.shr_imm(W64, kScratch1, static_cast<uint8_t>(vm::kRegionShift));
  a_.cmp_imm(W64, kScratch1, static_cast<int32_t>(vm::RegionId::Code));
  e_.jcc(Cond::e, function);
  a_.test(W64, kScratch1, kScratch1);  // value >> 32: a helper id fits in 32 bits
  e_.jcc(Cond::ne, bad_target);
  a_.mov(W64, ctx(kCallxValue), value);
  call_out(pc, kCallxTrampoline);
  e_.jmp(done);

  e_.bind(function);
  a_.mov(W32, kScratch3, value);  // offset within the code region
#ifndef BPFDIFF_PLANTED_CALLX_UNALIGNED
  a_.test_imm(W32, kScratch3, 7);
  e_.jcc(Cond::ne, bad_target);
#else
  // Planted on purpose (BPFDIFF_PLANT_JIT_BUG=callx-target-unaligned, never
  // the default): an offset that is not a multiple of 8 is not refused, so
  // the address of a function start plus 1..7 calls that function.
#endif
  a_.shr_imm(W64, kScratch3, 3);
  a_.cmp_imm(W64, kScratch3, static_cast<int32_t>(program_.insns.size()));
  e_.jcc(Cond::ae, bad_target);
  a_.mov(W64, kScratch1, ctx(kFunctionCode));
  a_.mov(W64, kScratch1, x86::mem(kScratch1, kScratch3, x86::Scale::S8, 0));
  a_.test(W64, kScratch1, kScratch1);
  e_.jcc(Cond::e, bad_target);
  a_.mov(W64, ctx(kCallxTarget), kScratch1);
  restore_stack_delta();
  push_frame(pc);
  a_.mov(W64, kScratch3, ctx(kCallxTarget));
  a_.call(kScratch3);
  e_.bind(done);
}

void Lowering::lower_exit() {
  a_.mov(W32, kScratch3, ctx(kDepth));
  a_.test(W32, kScratch3, kScratch3);
  e_.jcc(Cond::e, exit_label_);
  a_.sub_imm(W32, kScratch3, 1);
  a_.mov(W32, ctx(kDepth), kScratch3);
  // r11 alone: r9 keeps the stack delta, which the caller's code expects.
  a_.imul_imm(W64, kScratch3, kScratch3, kFrameSize);
  a_.alu(x86::AluOp::Add, W64, kScratch3, ctx(kFrames));
  for (int i = 0; i < 4; ++i)
    a_.mov(W64, kBpfCalleeSaved[i], mem(kScratch3, 8 * i));
  a_.mov(W64, Reg::rbp, mem(kScratch3, kFrameR10));
  a_.mov(W64, kScratch3, ctx(kRegions));
  a_.alu_imm(x86::AluOp::Add, W64, mem(kScratch3, kStackLo), static_cast<int32_t>(vm::kStackFrameBytes));
  a_.ret();
}

void Lowering::emit_stub(const Stub& s) {
  e_.bind(s.label);
  if (s.refund > 0) a_.add_imm(W64, kBudget, static_cast<int32_t>(s.refund));
  switch (s.kind) {
    case Stub::Kind::MemoryFault:
      a_.lea(W64, kScratch3, mem(s.base, s.off));
      a_.mov(W64, ctx(kErrorAddress), kScratch3);
      a_.mov_imm(W32, ctx(kErrorKind), static_cast<int32_t>(s.error));
      a_.mov_imm(W32, ctx(kErrorPc), static_cast<int32_t>(s.pc));
      a_.mov_imm(W32, ctx(kErrorSize), static_cast<int32_t>(s.size));
      e_.jmp(error_exit_label_);
      return;
    case Stub::Kind::Error:
      // The context outlives a run: an address left by an earlier fault must
      // not leak into this error, which the interpreter reports with address 0.
      a_.mov_imm(W64, ctx(kErrorAddress), 0);
      a_.mov_imm(W32, ctx(kErrorKind), static_cast<int32_t>(s.error));
      a_.mov_imm(W32, ctx(kErrorPc), static_cast<int32_t>(s.pc));
      a_.mov_imm(W32, ctx(kErrorSize), static_cast<int32_t>(s.size));
      e_.jmp(error_exit_label_);
      return;
    case Stub::Kind::Budget:
      a_.mov_imm(W32, ctx(kPc), static_cast<int32_t>(s.pc));
      a_.mov_imm(W32, ctx(kStatus), static_cast<int32_t>(JitStatus::Deopt));
      e_.jmp(exit_label_);
      return;
    case Stub::Kind::PacketEnd: {
      // Unwind every local call to the entry function's state, r0 = 0, end.
      Emitter::Label done = e_.new_label();
      a_.mov(W32, kScratch3, ctx(kDepth));
      a_.test(W32, kScratch3, kScratch3);
      e_.jcc(Cond::e, done);
      a_.mov(W64, kScratch1, ctx(kFrames));
      for (int i = 0; i < 4; ++i)
        a_.mov(W64, kBpfCalleeSaved[i], mem(kScratch1, 8 * i));
      a_.mov(W64, Reg::rbp, mem(kScratch1, kFrameR10));
      a_.mov_imm(W32, ctx(kDepth), 0);
      a_.mov(W64, kScratch1, ctx(kRegions));
      a_.mov(W64, kScratch3, mem(kScratch1, kStackHi));
      a_.sub_imm(W64, kScratch3, static_cast<int32_t>(vm::kStackFrameBytes));
      a_.mov(W64, mem(kScratch1, kStackLo), kScratch3);
      e_.bind(done);
      a_.mov_imm(W32, Reg::rax, 0);
      e_.jmp(exit_label_);
      return;
    }
  }
}

}  // namespace bpfdiff::jit
