#include "oracle/smt/mem_model.hpp"

#include <cstddef>

#include "vm/isa/families.hpp"
#include "vm/jit/context.hpp"
#include "vm/jit/offsets.hpp"
#include "vm/runtime/exec_state.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::oracle::smt::mem {
namespace {

// Simplified, as the x86 semantics simplifies its addresses (see load()
// there): equal addresses then mostly become equal terms.
z3::expr at(const z3::expr& base, int64_t offset) {
  return (base + base.ctx().bv_val(static_cast<uint64_t>(offset), 64)).simplify();
}

z3::expr bv(z3::context& c, uint64_t v, unsigned bits = 64) {
  return c.bv_val(v, bits);
}

z3::expr zext64(const z3::expr& v) {
  const unsigned n = v.get_sort().bv_size();
  return n == 64 ? v : z3::zext(v, 64 - n);
}

z3::expr sext64(const z3::expr& v) {
  const unsigned n = v.get_sort().bv_size();
  return n == 64 ? v : z3::sext(v, 64 - n);
}

z3::expr byte_swap(const z3::expr& v) {
  const unsigned n = v.get_sort().bv_size();
  z3::expr r = v.extract(7, 0);
  for (unsigned byte = 1; byte < n / 8; ++byte)
    r = z3::concat(r, v.extract(8 * byte + 7, 8 * byte));
  return r;
}

}  // namespace

z3::expr read_le(const z3::expr& memory, const z3::expr& raw_address, unsigned bytes) {
  const z3::expr address = raw_address.simplify();
  z3::expr v = z3::select(memory, address);
  for (unsigned i = 1; i < bytes; ++i)
    v = z3::concat(z3::select(memory, at(address, i)), v);
  return v;
}

z3::expr write_le(const z3::expr& memory, const z3::expr& raw_address, const z3::expr& value) {
  const z3::expr address = raw_address.simplify();
  z3::expr out = memory;
  const unsigned bytes = value.get_sort().bv_size() / 8;
  for (unsigned i = 0; i < bytes; ++i)
    out = z3::store(out, at(address, i), value.extract(8 * i + 7, 8 * i));
  return out;
}

z3::expr context_field(const z3::expr& memory, const z3::expr& ctx, int32_t offset, unsigned bytes) {
  return read_le(memory, at(ctx, offset), bytes);
}

Translation translate(const z3::expr& memory, const z3::expr& regions, const z3::expr& addr, unsigned size,
                      bool write, const AddressHints& hints) {
  z3::context& c = addr.ctx();
  const z3::expr index = hints.index.value_or(z3::lshr(addr, bv(c, vm::kRegionShift)));
  // index * sizeof(Region), written as the shift the simplifier normalises
  // a power-of-two multiply into anyway (see at()).
  static_assert(sizeof(vm::Region) == 32);
  const z3::expr region = regions + z3::shl(index, bv(c, 5));
  const z3::expr host = read_le(memory, at(region, offsetof(vm::Region, host)), 8);
  const z3::expr lo = read_le(memory, at(region, offsetof(vm::Region, lo)), 8);
  const z3::expr hi = read_le(memory, at(region, offsetof(vm::Region, hi)), 8);
  // A C++ bool: any nonzero byte reads as true.
  const z3::expr writable = z3::select(memory, at(region, offsetof(vm::Region, writable))) != bv(c, 0, 8);
  const z3::expr off = hints.offset.value_or(addr & bv(c, vm::kRegionOffsetMask));
  z3::expr fault =
      z3::uge(index, bv(c, vm::kMaxRegions)) || z3::ult(off, lo) || z3::ugt(off + bv(c, size), hi);
  if (write) fault = fault || !writable;
  return {fault, host + off};
}

bool is_memory_form(isa::Form form) {
  return isa::accesses_memory(isa::info(form).sem.family);
}

Result<Step> interpret(isa::Form form, const isa::RawInsn& insn,
                       const std::array<z3::expr, isa::kNumRegisters>& regs, const z3::expr& memory,
                       const z3::expr& ctx, const AddressHints& hints) {
  namespace off = jit::offsets;
  z3::context& c = ctx.ctx();
  const isa::Semantics& s = isa::info(form).sem;
  const unsigned n = isa::bytes_of(s.size);
  const z3::expr regions = context_field(memory, ctx, off::kRegions, 8);
  const z3::expr sext_off = bv(c, static_cast<uint64_t>(static_cast<int64_t>(insn.off)));
  const z3::expr sext_imm = bv(c, static_cast<uint64_t>(static_cast<int64_t>(insn.imm)));
  Step step{c.bool_val(false), vm::ErrorKind::None, bv(c, 0), n, c.bool_val(false), memory, regs};
  switch (s.family) {
    case isa::Family::Load:
    case isa::Family::LoadSigned: {
      const z3::expr addr = regs[insn.src] + sext_off;
      const Translation t = translate(memory, regions, addr, n, false, hints);
      const z3::expr v = read_le(memory, t.host, n);
      step.fault = t.fault;
      step.kind = vm::ErrorKind::MemoryRead;
      step.address = addr;
      step.regs[insn.dst] = s.family == isa::Family::LoadSigned ? sext64(v) : zext64(v);
      return step;
    }
    case isa::Family::StoreImm:
    case isa::Family::StoreReg: {
      const z3::expr addr = regs[insn.dst] + sext_off;
      const Translation t = translate(memory, regions, addr, n, true, hints);
      const z3::expr v = s.family == isa::Family::StoreReg ? regs[insn.src] : sext_imm;
      step.fault = t.fault;
      step.kind = vm::ErrorKind::MemoryWrite;
      step.address = addr;
      step.memory = write_le(memory, t.host, v.extract(8 * n - 1, 0));
      return step;
    }
    case isa::Family::Atomic: {
      const z3::expr addr = regs[insn.dst] + sext_off;
      const Translation t = translate(memory, regions, addr, n, true, hints);
      const z3::expr old = zext64(read_le(memory, t.host, n));
      const z3::expr val = regs[insn.src];
      step.fault = t.fault;
      step.kind = vm::ErrorKind::MemoryWrite;
      step.address = addr;
      if (s.atomic == isa::AtomicOp::Cmpxchg) {
        const z3::expr expected = n == 4 ? zext64(regs[0].extract(31, 0)) : regs[0];
        step.memory = z3::ite(old == expected, write_le(memory, t.host, val.extract(8 * n - 1, 0)), memory);
        step.regs[0] = old;
        return step;
      }
      z3::expr result = val;
      switch (s.atomic) {
        case isa::AtomicOp::Add:
          result = old + val;
          break;
        case isa::AtomicOp::Or:
          result = old | val;
          break;
        case isa::AtomicOp::And:
          result = old & val;
          break;
        case isa::AtomicOp::Xor:
          result = old ^ val;
          break;
        case isa::AtomicOp::Xchg:
        case isa::AtomicOp::Cmpxchg:
          break;
      }
      step.memory = write_le(memory, t.host, result.extract(8 * n - 1, 0));
      if (s.fetch) step.regs[insn.src] = old;
      return step;
    }
    case isa::Family::PacketLoad: {
      z3::expr offset = sext_imm;
      if (s.packet == isa::PacketMode::Ind) offset = offset + regs[insn.src];
      const z3::expr len = context_field(memory, ctx, off::kPacketLen, 8);
      const z3::expr data = context_field(memory, ctx, off::kPacket, 8);
      step.packet_end = z3::ult(len, bv(c, n)) || z3::ugt(offset, len - bv(c, n));
      const z3::expr v = read_le(memory, data + offset, n);
      const z3::expr in_range = n == 1 ? zext64(v) : zext64(byte_swap(v));
      // Out of range: unwind every local call to the entry function's state.
      const z3::expr depth = context_field(memory, ctx, off::kDepth, 4);
      const z3::expr frames = context_field(memory, ctx, off::kFrames, 8);
      const z3::expr unwinding = depth != bv(c, 0, 32);
      z3::expr unwound = write_le(memory, at(ctx, off::kDepth), bv(c, 0, 32));
      const auto stack =
          static_cast<int64_t>(sizeof(vm::Region) * static_cast<uint32_t>(vm::RegionId::Stack));
      const z3::expr stack_hi = read_le(memory, at(regions, stack + offsetof(vm::Region, hi)), 8);
      unwound = write_le(unwound, at(regions, stack + offsetof(vm::Region, lo)),
                         stack_hi - bv(c, vm::kStackFrameBytes));
      step.memory = z3::ite(step.packet_end && unwinding, unwound, memory);
      step.regs[0] = z3::ite(step.packet_end, bv(c, 0), in_range);
      for (unsigned i = 0; i < 4; ++i) {
        const z3::expr saved = read_le(memory, at(frames, offsetof(vm::CallFrame, callee_saved) + 8 * i), 8);
        step.regs[6 + i] = z3::ite(step.packet_end && unwinding, saved, regs[6 + i]);
      }
      const z3::expr saved_r10 = read_le(memory, at(frames, offsetof(vm::CallFrame, r10)), 8);
      step.regs[10] = z3::ite(step.packet_end && unwinding, saved_r10, regs[10]);
      return step;
    }
    case isa::Family::Alu:
    case isa::Family::Endian:
    case isa::Family::Jump:
    case isa::Family::Call:
    case isa::Family::Exit:
    case isa::Family::Lddw:
      break;
  }
  return make_error(std::string(isa::info(form).name) + ": not a memory form");
}

}  // namespace bpfdiff::oracle::smt::mem
