#include "oracle/comparability.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "oracle/engine.hpp"
#include "oracle/unreached_reserved_fields.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::oracle {
namespace {

bool looks_like_pointer(uint64_t v) {
  const uint64_t region = v >> vm::kRegionShift;
  return region == static_cast<uint64_t>(vm::RegionId::Stack) ||
         region == static_cast<uint64_t>(vm::RegionId::Input);
}

// Which values are pointers, by where they came from rather than by what
// they look like: a scalar such as 2 << 32 lies in our input region's range
// but is a number in both engines, and excusing its differences would hide
// a bug. Pointers start in r1 (the memory) and r10, and move through 64-bit
// moves, additions of scalars, and 8-byte spills and fills; anything else a
// pointer takes part in exposes its bits (exposes_pointer_bits) and makes
// the run incomparable anyway, so the tracking errs towards "pointer" there.
class PointerProvenance {
 public:
  void start(const std::array<uint64_t, isa::kNumRegisters>& regs) {
    for (std::size_t r = 0; r < regs.size(); ++r)
      reg_[r] = looks_like_pointer(regs[r]);
    started_ = true;
  }
  bool started() const { return started_; }
  // A tail call was taken: its target starts with r1 as the caller passed
  // it, which our VM carries and for which the kernel passes its context:
  // a pointer either way (the call's clobbering of r1..r5 notwithstanding).
  // The kernel leaves the target no other register.
  void tail_call_taken() { reg_[1] = true; }
  bool reg(uint8_t r) const { return reg_[r]; }
  // Hash map value pointers go stale when any hash map is updated or
  // deleted from: the kernel replaces the element (an older pointer reads
  // the old one), we write in place. A pointer's epoch is the count of
  // such writes when its lookup returned it.
  uint32_t epoch(uint8_t r) const { return epoch_[r]; }
  uint32_t hash_writes() const { return hash_writes_; }
  void hash_map_written() { ++hash_writes_; }

  // Whether [addr, addr + size) holds part of a spilled pointer without
  // being exactly that 8-byte slot.
  bool partial_overlap(uint64_t addr, uint64_t size) const {
    for (uint64_t a : slots_) {
      if (a < addr + size && addr < a + 8 && !(a == addr && size == 8)) return true;
    }
    return false;
  }
  bool overlaps(uint64_t addr, uint64_t size) const {
    return std::any_of(slots_.begin(), slots_.end(),
                       [&](uint64_t a) { return a < addr + size && addr < a + 8; });
  }

  // Updates the registers and slots for `insn` run on `regs` (the values
  // before it).
  void step(const vm::Insn& insn, const isa::Semantics& s,
            const std::array<uint64_t, isa::kNumRegisters>& regs) {
    const bool reg_source = s.source == isa::Source::Reg;
    const uint64_t size = isa::bytes_of(s.size);
    const auto at = [&](uint8_t base) { return regs[base] + static_cast<uint64_t>(int64_t{insn.off}); };
    switch (s.family) {
      case isa::Family::Alu:
        if (reg_source && reg_[insn.src] && (s.alu == isa::AluOp::Mov || !reg_[insn.dst]))
          epoch_[insn.dst] = epoch_[insn.src];
        if (s.alu == isa::AluOp::Mov) {
          reg_[insn.dst] = reg_source && reg_[insn.src];
        } else if (s.alu == isa::AluOp::Movsx8 || s.alu == isa::AluOp::Movsx16 ||
                   s.alu == isa::AluOp::Movsx32) {
          reg_[insn.dst] = false;
        } else if (s.width == isa::Width::W64 && s.alu == isa::AluOp::Sub && reg_source && reg_[insn.dst] &&
                   reg_[insn.src]) {
          reg_[insn.dst] = false;  // the distance between two pointers
        } else {
          reg_[insn.dst] = reg_[insn.dst] || (reg_source && reg_[insn.src]);
        }
        break;
      case isa::Family::Endian:
      case isa::Family::Jump:
        break;
      case isa::Family::Lddw:
        // A map handle or a map value's address: a kernel address there.
        reg_[insn.dst] = s.lddw == isa::LddwKind::MapFd || s.lddw == isa::LddwKind::MapValue ||
                         s.lddw == isa::LddwKind::MapIdx || s.lddw == isa::LddwKind::MapIdxValue;
        break;
      case isa::Family::LoadSigned:
      case isa::Family::PacketLoad:
        reg_[s.family == isa::Family::PacketLoad ? 0 : insn.dst] = false;
        break;
      case isa::Family::Load:
        reg_[insn.dst] = size == 8 && slots_.count(at(insn.src)) != 0;
        if (reg_[insn.dst]) epoch_[insn.dst] = slot_epoch_[at(insn.src)];
        break;
      case isa::Family::StoreImm:
      case isa::Family::StoreReg:
      case isa::Family::Atomic: {
        const uint64_t addr = at(insn.dst);
        const bool was_pointer = slots_.count(addr) != 0;
        std::erase_if(slots_, [&](uint64_t a) { return a < addr + size && addr < a + 8; });
        if (s.family == isa::Family::StoreReg && size == 8 && reg_[insn.src]) {
          slots_.insert(addr);
          slot_epoch_[addr] = epoch_[insn.src];
        }
        if (s.family == isa::Family::Atomic && (s.fetch || s.atomic == isa::AtomicOp::Xchg)) {
          reg_[insn.src] = was_pointer;
        }
        if (s.family == isa::Family::Atomic && s.atomic == isa::AtomicOp::Cmpxchg) reg_[0] = was_pointer;
        break;
      }
      case isa::Family::Call:
        if (s.call == isa::CallKind::Helper) {
          for (uint8_t r = 0; r <= 5; ++r)
            reg_[r] = false;
          // A lookup's value pointer (or null, which every later use of
          // it but a null check treats alike in both, so erring to
          // "pointer" only makes more runs incomparable).
          reg_[0] = insn.imm == static_cast<int32_t>(vm::HelperId::MapLookupElem);
          epoch_[0] = hash_writes_;
        } else {
          saved_.push_back({reg_[6], reg_[7], reg_[8], reg_[9]});
          saved_epochs_.push_back({epoch_[6], epoch_[7], epoch_[8], epoch_[9]});
        }
        break;
      case isa::Family::Exit:
        if (!saved_.empty()) {
          for (uint8_t r = 6; r <= 9; ++r) {
            reg_[r] = saved_.back()[r - 6];
            epoch_[r] = saved_epochs_.back()[r - 6];
          }
          saved_.pop_back();
          saved_epochs_.pop_back();
        }
        break;
    }
    reg_[isa::kFramePointer] = true;
  }

 private:
  bool started_ = false;
  std::array<bool, isa::kNumRegisters> reg_{};
  std::set<uint64_t> slots_;                 // addresses of 8-byte spilled pointers
  std::map<uint64_t, uint32_t> slot_epoch_;  // their epochs (see epoch())
  std::array<uint32_t, isa::kNumRegisters> epoch_{};
  std::vector<std::array<uint32_t, 4>> saved_epochs_;
  uint32_t hash_writes_ = 0;
  std::vector<std::array<bool, 4>> saved_;  // r6..r9 of each caller
};

// Whether the instruction lets a pointer's bits into a value the kernel
// computes differently (see the header). `regs` are the values before it.
// Pointers into map values whose distances or order the kernel does not
// share: a hash map's (its elements lie wherever the kernel allocated
// them) and an array's whose values are not a multiple of 8 bytes (the
// kernel rounds each value up to 8, we do not).
bool unordered_map_pointer(uint64_t v, std::span<const vm::MapDef> maps) {
  const uint64_t region = v >> vm::kRegionShift;
  if (region < vm::kFirstMapRegion || region - vm::kFirstMapRegion >= maps.size()) return false;
  const vm::MapDef& m = maps[region - vm::kFirstMapRegion];
  return m.type != vm::MapType::Array || m.value_size % 8 != 0;
}

bool exposes_pointer_bits(const vm::Insn& insn, const isa::Semantics& s,
                          const std::array<uint64_t, isa::kNumRegisters>& regs, const PointerProvenance& ptr,
                          std::span<const vm::MapDef> maps) {
  const bool reg_source = s.source == isa::Source::Reg;
  const bool dst_ptr = ptr.reg(insn.dst);
  const bool src_ptr = reg_source && ptr.reg(insn.src);
  const uint64_t size = isa::bytes_of(s.size);
  const auto at = [&](uint8_t base) { return regs[base] + static_cast<uint64_t>(int64_t{insn.off}); };
  switch (s.family) {
    case isa::Family::Alu:
      if (s.width == isa::Width::W32) return src_ptr || (dst_ptr && s.alu != isa::AluOp::Mov);
      switch (s.alu) {
        case isa::AluOp::Mov:
          return false;
        case isa::AluOp::Add:
          return dst_ptr && src_ptr;
        case isa::AluOp::Sub:
          return (src_ptr && !dst_ptr) || (src_ptr && (unordered_map_pointer(regs[insn.dst], maps) ||
                                                       unordered_map_pointer(regs[insn.src], maps)));
        case isa::AluOp::Mul:
        case isa::AluOp::Div:
        case isa::AluOp::Sdiv:
        case isa::AluOp::Or:
        case isa::AluOp::And:
        case isa::AluOp::Lsh:
        case isa::AluOp::Rsh:
        case isa::AluOp::Neg:
        case isa::AluOp::Mod:
        case isa::AluOp::Smod:
        case isa::AluOp::Xor:
        case isa::AluOp::Arsh:
          return dst_ptr || src_ptr;
        case isa::AluOp::Movsx8:
        case isa::AluOp::Movsx16:
        case isa::AluOp::Movsx32:
          return src_ptr;
      }
      return false;
    case isa::Family::Endian:
      return dst_ptr;
    case isa::Family::StoreReg:
      return (src_ptr && s.size != isa::MemSize::DW) || ptr.partial_overlap(at(insn.dst), size);
    case isa::Family::StoreImm:
      return ptr.partial_overlap(at(insn.dst), size);
    case isa::Family::Load:
    case isa::Family::LoadSigned:
      // Part of a spilled pointer, or a whole one read sign-extended.
      return ptr.partial_overlap(at(insn.src), size) ||
             (s.family == isa::Family::LoadSigned && ptr.overlaps(at(insn.src), size));
    case isa::Family::Atomic:
      return ptr.reg(insn.src) || (s.atomic == isa::AtomicOp::Cmpxchg && ptr.reg(0)) ||
             ptr.overlaps(at(insn.dst), size);
    case isa::Family::Jump: {
      if (s.cond == isa::JmpCond::Always) return false;
      if (!dst_ptr && !src_ptr) return false;
      if (s.width == isa::Width::W32) return true;
      const bool equality = s.cond == isa::JmpCond::Eq || s.cond == isa::JmpCond::Ne;
      if (!reg_source) return !(equality && insn.imm == 0);  // a pointer is never null in either
      // Two pointers into the same region compare alike (unless the
      // kernel lays that region out otherwise); anything else does not.
      return !(dst_ptr && src_ptr &&
               (regs[insn.dst] >> vm::kRegionShift) == (regs[insn.src] >> vm::kRegionShift)) ||
             (equality ? false : unordered_map_pointer(regs[insn.dst], maps));
    }
    case isa::Family::Call:
    case isa::Family::Exit:
    case isa::Family::Lddw:
    case isa::Family::PacketLoad:
      return false;
  }
  return false;
}

// Our validator's messages for rules that are ours alone
// (vm/program/validate.cpp).
std::string rejection_not_comparable(const std::string& validator_error) {
  if (validator_error.find("call to unregistered helper") != std::string::npos) {
    return "our validator knows only our helpers; the kernel has its own (" + validator_error + ")";
  }
  if (validator_error.find("more than the limit of") != std::string::npos) {
    return "our length limit is not the kernel's (" + validator_error + ")";
  }
  return {};
}

}  // namespace

Comparability check_comparability(const vm::Program& program, std::span<const uint8_t> memory,
                                  vm::RunMode mode, const vm::ExecLimits& limits) {
  Comparability out;
  auto loaded = vm::validate(program, default_helpers());
  if (!loaded) {
    out.rejection_not_comparable = rejection_not_comparable(loaded.error().message);
    if (out.rejection_not_comparable.empty())
      out.rejection_not_comparable = unreached_reserved_fields(program, memory, mode, limits);
    return out;
  }
  vm::Interpreter interp(*loaded, default_helpers(), limits);
  const uint64_t stack_lo = vm::region_base(vm::RegionId::Stack);
  const uint64_t stack_size = uint64_t{limits.max_call_depth} * vm::kStackFrameBytes;
  std::vector<bool> written(stack_size, false);

  // [addr, addr + size) as stack offsets, or false when not on the stack.
  const auto on_stack = [&](uint64_t addr, uint64_t size, uint64_t& off) {
    if (addr < stack_lo || addr - stack_lo + size > stack_size) return false;
    off = addr - stack_lo;
    return true;
  };
  const auto in_memory = [](uint64_t addr) {
    return (addr >> vm::kRegionShift) == static_cast<uint64_t>(vm::RegionId::Input);
  };
  const auto in_map = [&](uint64_t addr) {
    const uint64_t region = addr >> vm::kRegionShift;
    return region >= vm::kFirstMapRegion && region - vm::kFirstMapRegion < loaded->source.maps.size();
  };
  // The map a handle names, or null.
  const auto map_of = [&](uint64_t handle) -> const vm::MapDef* {
    const uint64_t index = handle - vm::region_base(vm::RegionId::Maps);
    return index < loaded->source.maps.size() ? &loaded->source.maps[index] : nullptr;
  };
  const auto mark = [&](uint64_t off, uint64_t size, bool value) {
    for (uint64_t b = off; b < off + size; ++b)
      written[b] = value;
  };
  const auto check = [&](uint64_t off, uint64_t size) {
    for (uint64_t b = off; b < off + size; ++b)
      out.uninitialized_stack_read = out.uninitialized_stack_read || !written[b];
  };

  PointerProvenance ptr;
  uint64_t off_scratch = 0;
  uint64_t entry_r1 = 0;
  std::optional<uint32_t> tail_call_at;  // pc of the helper call just traced, a bpf_tail_call
  const vm::TraceFn trace = [&](uint32_t pc, const std::array<uint64_t, isa::kNumRegisters>& regs) {
    const vm::Insn& insn = loaded->insns[pc];
    const isa::Semantics& s = isa::info(insn.form).sem;
    if (!ptr.started()) {
      ptr.start(regs);
      entry_r1 = regs[1];
    }
    // A tail call that did not fall through started its target in a
    // zeroed frame; the kernel's target frame holds whatever it held.
    if (tail_call_at && pc != *tail_call_at + 1) {
      ptr.tail_call_taken();
      if (on_stack(regs[isa::kFramePointer] - vm::kStackFrameBytes, vm::kStackFrameBytes, off_scratch))
        mark(off_scratch, vm::kStackFrameBytes, false);
    }
    tail_call_at.reset();
    out.pointer_bits_exposed =
        out.pointer_bits_exposed || exposes_pointer_bits(insn, s, regs, ptr, loaded->source.maps);
    const uint64_t size = isa::bytes_of(s.size);
    const auto at = [&](uint8_t base) { return regs[base] + static_cast<uint64_t>(int64_t{insn.off}); };
    uint64_t off = 0;
    // An access through a hash map value pointer older than the last
    // update or delete of a hash map (see PointerProvenance::epoch).
    const auto stale = [&](uint8_t base) {
      const uint64_t region = regs[base] >> vm::kRegionShift;
      const bool hash_value = region >= vm::kFirstMapRegion &&
                              region - vm::kFirstMapRegion < loaded->source.maps.size() &&
                              loaded->source.maps[region - vm::kFirstMapRegion].type == vm::MapType::Hash;
      return hash_value && ptr.reg(base) && ptr.epoch(base) != ptr.hash_writes();
    };
    switch (s.family) {
      case isa::Family::Load:
      case isa::Family::LoadSigned:
        if (on_stack(at(insn.src), size, off)) check(off, size);
        out.stale_map_pointer = out.stale_map_pointer || stale(insn.src);
        break;
      case isa::Family::StoreImm:
      case isa::Family::StoreReg:
        out.stale_map_pointer = out.stale_map_pointer || stale(insn.dst);
        if (on_stack(at(insn.dst), size, off)) mark(off, size, true);
        if (s.family == isa::Family::StoreReg && ptr.reg(insn.src) && in_memory(at(insn.dst)))
          out.pointer_stored_in_memory = true;
        if (s.family == isa::Family::StoreReg && ptr.reg(insn.src) && in_map(at(insn.dst)))
          out.pointer_stored_in_map = true;
        break;
      case isa::Family::Atomic:
        out.stale_map_pointer = out.stale_map_pointer || stale(insn.dst);
        if (on_stack(at(insn.dst), size, off)) {
          check(off, size);
          mark(off, size, true);
        }
        if (ptr.reg(insn.src) && in_memory(at(insn.dst))) out.pointer_stored_in_memory = true;
        break;
      case isa::Family::Call:
        if (s.call == isa::CallKind::Helper) {
          // The map helpers read the key (and an update its value) from
          // where r2 (r3) points: stack never written holds the kernel's
          // old bytes there, a spilled pointer a kernel address.
          const vm::MapDef* map = map_of(regs[1]);
          const bool keyed = insn.imm == static_cast<int32_t>(vm::HelperId::MapLookupElem) ||
                             insn.imm == static_cast<int32_t>(vm::HelperId::MapUpdateElem) ||
                             insn.imm == static_cast<int32_t>(vm::HelperId::MapDeleteElem);
          if (map != nullptr && keyed) {
            if (on_stack(regs[2], map->key_size, off)) check(off, map->key_size);
            if (ptr.overlaps(regs[2], map->key_size)) out.pointer_bits_exposed = true;
            if (insn.imm == static_cast<int32_t>(vm::HelperId::MapUpdateElem)) {
              if (on_stack(regs[3], map->value_size, off)) check(off, map->value_size);
              if (ptr.overlaps(regs[3], map->value_size)) out.pointer_stored_in_map = true;
            }
            const bool writes = insn.imm != static_cast<int32_t>(vm::HelperId::MapLookupElem);
            if (writes && map->type == vm::MapType::Hash) ptr.hash_map_written();
          }
        }
        if (s.call == isa::CallKind::Helper && insn.imm == static_cast<int32_t>(vm::HelperId::TailCall)) {
          tail_call_at = pc;
          if (regs[1] != entry_r1) out.tail_call_argument_changed = true;
        }
        // The callee's frame is the 512 bytes under the caller's.
        if (s.call != isa::CallKind::Helper &&
            on_stack(regs[isa::kFramePointer] - 2 * vm::kStackFrameBytes, vm::kStackFrameBytes, off)) {
          mark(off, vm::kStackFrameBytes, false);
        }
        break;
      case isa::Family::Alu:
      case isa::Family::Endian:
      case isa::Family::Jump:
      case isa::Family::Exit:
      case isa::Family::Lddw:
      case isa::Family::PacketLoad:
        break;
    }
    ptr.step(insn, s, regs);
  };
  std::vector<uint8_t> copy(memory.begin(), memory.end());
  (void)interp.run_traced(vm::RunInput{mode, copy}, trace);
  return out;
}

}  // namespace bpfdiff::oracle
