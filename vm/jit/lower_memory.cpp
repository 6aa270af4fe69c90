// Loads, stores, atomics and legacy packet loads. Every access is checked
// against the same region table the interpreter uses; the checks compile to
// a few compares, and a failure jumps to a stub that records exactly what the
// interpreter would report.
#include <cstddef>

#include "vm/jit/lowering.hpp"
#include "vm/jit/offsets.hpp"

namespace bpfdiff::jit {

using x86::AluOp;
using x86::Cond;
using x86::mem;
using x86::Width;
using enum x86::Width;

using namespace offsets;

namespace {

Width width_of_size(unsigned bytes) {
  switch (bytes) {
    case 1:
      return W8;
    case 2:
      return W16;
    case 4:
      return W32;
    default:
      return W64;
  }
}

}  // namespace

// Returns the host operand for [base + off], size bytes. Emits nothing for
// an access proved inside the frame; otherwise clobbers r11 only (r9 is
// borrowed for the region entry and restored; r10 holds the budget).
x86::Mem Lowering::translate(uint32_t pc, Reg base, int32_t offset, uint32_t size, bool write) {
  // r10-relative with a constant offset inside the current frame (live by
  // construction, so no check is needed), or a pointer derived from r10 that
  // the range analysis proved inside the frame for every input
  // (stack_bounds.hpp): a stack address, whose host address is itself plus
  // the stack delta r9 holds.
  const bool frame_constant = base == kRegMap[isa::kFramePointer] &&
                              offset >= -static_cast<int32_t>(vm::kStackFrameBytes) &&
                              offset + static_cast<int32_t>(size) <= 0;
  if (frame_constant || (pc < blocks_.in_frame.size() && blocks_.in_frame[pc])) {
    return mem(base, kStackDeltaReg, x86::Scale::S1, offset);
  }
  Stub fault{Stub::Kind::MemoryFault, 0};
  fault.pc = pc;
  fault.error = write ? vm::ErrorKind::MemoryWrite : vm::ErrorKind::MemoryRead;
  fault.size = size;
  fault.base = base;
  fault.off = offset;
  fault.refund = blocks_.after[pc] + blocks_.prepaid[pc];
  const Emitter::Label bad = stub(fault);

  a_.lea(W64, kScratch3, mem(base, offset));  // the virtual address
  a_.mov(W64, kScratch1, kScratch3);
  a_.shr_imm(W64, kScratch1, static_cast<uint8_t>(vm::kRegionShift));
  a_.cmp_imm(W64, kScratch1, static_cast<int32_t>(vm::kMaxRegions - 1));
  e_.jcc(Cond::a, bad);
  a_.shl_imm(W64, kScratch1, 5);  // * sizeof(Region)
  a_.alu(AluOp::Add, W64, kScratch1, ctx(kRegions));
  a_.mov(W32, kScratch3, kScratch3);  // offset within the region
  a_.alu(AluOp::Cmp, W64, kScratch3, mem(kScratch1, kRegionLo));
  e_.jcc(Cond::b, bad);
  // r11 steps on to the end of the access, compared with hi; the operand
  // returned steps back to its start.
#ifdef BPFDIFF_PLANTED_MEM_BOUNDS
  // Planted on purpose (BPFDIFF_PLANT_JIT_BUG=mem-bounds-off-by-one, never
  // the default): the access's end one byte short, so its last byte may lie
  // past the region.
  const int32_t end = static_cast<int32_t>(size) - 1;
#else
  const int32_t end = static_cast<int32_t>(size);
#endif
  a_.add_imm(W64, kScratch3, end);
  a_.alu(AluOp::Cmp, W64, kScratch3, mem(kScratch1, kRegionHi));
  e_.jcc(Cond::a, bad);
#ifdef BPFDIFF_PLANTED_MEM_WRITABLE
  // Planted on purpose (BPFDIFF_PLANT_JIT_BUG=mem-writable-unchecked, never
  // the default): stores and atomics skip the writable check, so they
  // write into read-only regions.
  constexpr bool check_writable = false;
#else
  constexpr bool check_writable = true;
#endif
  if (write && check_writable) {
    a_.alu_imm(AluOp::Cmp, W8, mem(kScratch1, kRegionWritable), 0);
    e_.jcc(Cond::e, bad);
  }
  a_.alu(AluOp::Add, W64, kScratch3, mem(kScratch1, kRegionHost));
  restore_stack_delta();
  return mem(kScratch3, -end);
}

void Lowering::lower_load(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s) {
  const unsigned n = isa::bytes_of(s.size);
  const x86::Mem m = translate(pc, kRegMap[insn.src], insn.off, n, false);
  const Reg dst = kRegMap[insn.dst];
  if (s.family == isa::Family::LoadSigned) {
    a_.movsx(W64, dst, width_of_size(n), m);
    return;
  }
  switch (n) {
    case 1:
      a_.movzx(dst, W8, m);
      return;
    case 2:
      a_.movzx(dst, W16, m);
      return;
    case 4:
      a_.mov(W32, dst, m);
      return;
    default:
      a_.mov(W64, dst, m);
      return;
  }
}

void Lowering::lower_store(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s) {
  const unsigned n = isa::bytes_of(s.size);
  const Width w = width_of_size(n);
  const x86::Mem m = translate(pc, kRegMap[insn.dst], insn.off, n, true);
  if (s.family == isa::Family::StoreReg) {
    a_.mov(w, m, kRegMap[insn.src]);
    return;
  }
  // st stores the low bytes of imm (sign-extended to 64 bits for stdw).
  int32_t imm = insn.imm;
  if (n == 1) imm = static_cast<int8_t>(imm);
  if (n == 2) imm = static_cast<int16_t>(imm);
  if (options_.constant_blinding) {
    const Reg scratch = free_scratch(m);
    a_.mov(w, m, immediate_operand(imm, w == W64 ? W64 : W32, scratch));
    if (scratch == kStackDeltaReg) restore_stack_delta();
  } else {
    a_.mov_imm(w, m, imm);
  }
}

void Lowering::lower_atomic(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s) {
  const Width w = s.width == isa::Width::W64 ? W64 : W32;
  const x86::Mem m = translate(pc, kRegMap[insn.dst], insn.off, isa::bytes_of(s.size), true);
  const Reg src = kRegMap[insn.src];
  // The old value's register where one is needed: the scratch m is not
  // based on (r9, restored afterwards, when m is checked and based on r11).
  const Reg old = free_scratch(m);
  // or, and, xor: one x86 instruction without fetch; x86 has no fetch-or/and/
  // xor, so with fetch: load the old value, operate in memory, return the old
  // value.
  bool old_used = false;
  const auto bitwise = [&](AluOp op) {
    old_used = s.fetch;
    if (s.fetch) a_.mov(w, old, m);
    a_.alu(op, w, m, src);
    if (s.fetch) a_.mov(w, src, old);  // a 32-bit mov zero-extends, as BPF's fetch32 does
  };
  // Unlocked read-modify-writes (see Assembler::xadd): the program is the
  // only thread touching its memory, so they are atomic as far as it can tell.
  switch (s.atomic) {
    case isa::AtomicOp::Add:
      if (s.fetch) {
        a_.xadd(w, m, src);  // src = old value (zero-extended for 32 bits)
      } else {
        a_.alu(AluOp::Add, w, m, src);
      }
      break;
    case isa::AtomicOp::Or:
      bitwise(AluOp::Or);
      break;
    case isa::AtomicOp::And:
      bitwise(AluOp::And);
      break;
    case isa::AtomicOp::Xor:
      bitwise(AluOp::Xor);
      break;
    case isa::AtomicOp::Xchg:
      // Not `xchg [m], src`: the CPU locks that one whatever the prefix.
      old_used = true;
      a_.mov(w, old, m);
      a_.mov(w, m, src);
      a_.mov(w, src, old);  // a 32-bit mov zero-extends, as BPF's xchg32 does
      break;
    case isa::AtomicOp::Cmpxchg:
      a_.cmpxchg(w, m, src);                          // compares with rax (BPF r0), old value to rax
      if (w == W32) a_.mov(W32, Reg::rax, Reg::rax);  // a successful cmpxchg32 leaves rax's top half
      break;
  }
  if (old_used && old == kStackDeltaReg) restore_stack_delta();
}

void Lowering::lower_packet_load(uint32_t pc, const vm::Insn& insn, const isa::Semantics& s) {
  const unsigned n = isa::bytes_of(s.size);
  Stub end{Stub::Kind::PacketEnd, 0};
  end.pc = pc;
  end.refund = blocks_.after[pc] + blocks_.prepaid[pc];
  const Emitter::Label out = stub(end);
  // In range iff len >= n and off <= len - n (unsigned), as the interpreter checks.
  a_.mov(W64, kScratch1, ctx(kPacketLen));
  a_.cmp_imm(W64, kScratch1, static_cast<int32_t>(n));
  e_.jcc(Cond::b, out);
#ifdef BPFDIFF_PLANTED_PACKET_BOUNDS
  // Planted on purpose (BPFDIFF_PLANT_JIT_BUG=packet-bounds-off-by-one, never
  // the default): the last offset allowed is one too far, so the load's
  // last byte may lie past the packet.
  a_.sub_imm(W64, kScratch1, static_cast<int32_t>(n) - 1);
#else
  a_.sub_imm(W64, kScratch1, static_cast<int32_t>(n));
#endif
  if (s.packet == isa::PacketMode::Ind) {
    a_.lea(W64, kScratch3, mem(kRegMap[insn.src], insn.imm));
  } else {
    a_.mov_imm(W64, kScratch3, insn.imm);
  }
  a_.cmp(W64, kScratch3, kScratch1);
  e_.jcc(Cond::a, out);
  a_.alu(AluOp::Add, W64, kScratch3, ctx(kPacket));
  restore_stack_delta();
  const Reg r0 = kRegMap[0];
  switch (n) {
    case 1:
      a_.movzx(r0, W8, mem(kScratch3, 0));
      return;
    case 2:
      a_.movzx(r0, W16, mem(kScratch3, 0));
      a_.ror_imm(W16, r0, 8);
      return;
    default:
      a_.mov(W32, r0, mem(kScratch3, 0));
      a_.bswap(W32, r0);
      return;
  }
}

}  // namespace bpfdiff::jit
