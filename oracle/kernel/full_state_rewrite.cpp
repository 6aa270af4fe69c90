#include "oracle/kernel/full_state_rewrite.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <string>

namespace bpfdiff::oracle::kernel {
namespace {

using isa::RawInsn;

// Raw opcode facts the rewrite needs. It works on slots, not on our
// validated forms, because the guest agent receives raw requests and must
// hand whatever it cannot express back as Unsupported, not crash.
constexpr uint8_t kClassLd = 0x00;
constexpr uint8_t kClassLdx = 0x01;
constexpr uint8_t kClassStx = 0x03;
constexpr uint8_t kClassAlu32 = 0x04;
constexpr uint8_t kClassJmp = 0x05;
constexpr uint8_t kClassJmp32 = 0x06;
constexpr uint8_t kClassAlu64 = 0x07;
constexpr uint8_t kModeAbs = 0x20;
constexpr uint8_t kModeInd = 0x40;
constexpr uint8_t kModeAtomic = 0xc0;
constexpr uint8_t kLddw = 0x18;
constexpr uint8_t kJa = 0x05;
constexpr uint8_t kGotol = 0x06;
constexpr uint8_t kCall = 0x85;
constexpr uint8_t kCallx = 0x8d;
constexpr uint8_t kExit = 0x95;
constexpr uint8_t kMayGoto = 0xe5;  // BPF_JMP | BPF_JCOND: the kernel's, not RFC 9669's
constexpr uint8_t kClassSt = 0x02;
constexpr uint8_t kSrcMapFd = 1;        // BPF_PSEUDO_MAP_FD
constexpr uint8_t kSrcMapValue = 2;     // BPF_PSEUDO_MAP_VALUE
constexpr uint8_t kSrcMapIdx = 5;       // BPF_PSEUDO_MAP_IDX: the kernel's needs fd_array; we relocate
constexpr uint8_t kSrcMapIdxValue = 6;  // BPF_PSEUDO_MAP_IDX_VALUE
constexpr uint8_t kSrcFunc = 4;         // BPF_PSEUDO_FUNC (lddw) / BPF_PSEUDO_CALL is 1 (call)
constexpr uint8_t kSrcLocalCall = 1;
constexpr int32_t kAtomicFetch = 0x01;
constexpr int32_t kAtomicCmpxchg = 0xf1;
constexpr int32_t kLoadAcquire = 0x100;   // BPF_LOAD_ACQ (6.15): the kernel's, not RFC 9669's
constexpr int32_t kStoreRelease = 0x110;  // BPF_STORE_REL
constexpr uint16_t kAllRegs = 0x3ff;      // r0..r9
constexpr uint16_t kCallerSaved = 0x3e;   // r1..r5
// Helpers that read a clock or a random number and touch nothing else: safe
// to run on the host whatever the program does with them.
constexpr int32_t kKtimeGetNs = 5;
constexpr int32_t kGetPrandomU32 = 7;
// The map helpers act only on maps the program names, and it can name only
// the request's own (relocate_maps): equally safe on the host.
constexpr int32_t kMapLookupElem = 1;
constexpr int32_t kMapUpdateElem = 2;
constexpr int32_t kMapDeleteElem = 3;
constexpr int32_t kTailCall = 12;

bool always_allowed_helper(int32_t id) {
  return id == kKtimeGetNs || id == kGetPrandomU32 || id == kMapLookupElem || id == kMapUpdateElem ||
         id == kMapDeleteElem;
}

uint8_t cls(const RawInsn& i) {
  return i.opcode & 0x07;
}
bool is_lddw(const RawInsn& i) {
  return i.opcode == kLddw;
}
bool names_map(const RawInsn& i) {
  return i.src == kSrcMapFd || i.src == kSrcMapValue || i.src == kSrcMapIdx || i.src == kSrcMapIdxValue;
}

// Where the pc-relative target of a branch, call or lddw func lives.
enum class TargetField : uint8_t { None, Off, Imm };

TargetField target_field(const RawInsn& i) {
  if (is_lddw(i)) return i.src == kSrcFunc ? TargetField::Imm : TargetField::None;
  const uint8_t c = cls(i);
  if (c != kClassJmp && c != kClassJmp32) return TargetField::None;
  if (i.opcode == kGotol) return TargetField::Imm;
  const uint8_t op = i.opcode & 0xf0;
  if (op == 0x00) return c == kClassJmp ? TargetField::Off : TargetField::None;
  if (op == 0x80) return i.opcode == kCall && i.src == kSrcLocalCall ? TargetField::Imm : TargetField::None;
  if (op == 0x90) return TargetField::None;  // exit
  if (op <= 0xd0) return TargetField::Off;   // conditional jumps
  return TargetField::None;                  // 0xe0, 0xf0: no such jump; the kernel rejects it
}

int64_t target_of(const RawInsn& i, uint32_t pc) {
  const int64_t delta = target_field(i) == TargetField::Imm ? int64_t{i.imm} : int64_t{i.off};
  return int64_t{pc} + delta + 1;
}

// Slot indexes where instructions start (second lddw slots excluded).
std::vector<uint32_t> instruction_starts(std::span<const RawInsn> p) {
  std::vector<uint32_t> starts;
  for (uint32_t pc = 0; pc < p.size(); pc += is_lddw(p[pc]) ? 2 : 1)
    starts.push_back(pc);
  return starts;
}

std::string at(uint32_t pc, const std::string& why) {
  return "pc " + std::to_string(pc) + ": " + why;
}

// Registers an instruction leaves defined (gen) and undefined (kill) as
// the verifier sees it. Missing a gen only makes the analysis conservative.
void transfer(const RawInsn& i, uint16_t& regs) {
  const uint8_t c = cls(i);
  const auto bit = [](unsigned r) { return r < 10 ? static_cast<uint16_t>(1u << r) : uint16_t{0}; };
  if (i.opcode == kCall || i.opcode == kCallx ||
      (c == kClassLd && ((i.opcode & 0xe0) == kModeAbs || (i.opcode & 0xe0) == kModeInd))) {
    regs = static_cast<uint16_t>((regs & ~kCallerSaved) | 1u);  // r0 = result, r1..r5 clobbered
    return;
  }
  if (c == kClassAlu32 || c == kClassAlu64 || c == kClassLdx || is_lddw(i)) {
    regs |= bit(i.dst);
    return;
  }
  if (c == kClassStx && (i.opcode & 0xe0) == kModeAtomic) {
    if (i.imm == kAtomicCmpxchg) {
      regs |= 1u;
    } else if (i.imm & kAtomicFetch) {
      regs |= bit(i.src);
    }
  }
}

uint16_t reg_bit(unsigned r) {
  return r < 10 ? static_cast<uint16_t>(1u << r) : uint16_t{0};
}

// The arguments the kernel's prototype of a helper the requests may call
// takes (the verifier checks those registers only); others count as five.
uint16_t helper_arguments(int32_t id) {
  switch (id) {
    case kKtimeGetNs:
    case kGetPrandomU32:
      return 0;
    case kMapLookupElem:
    case kMapDeleteElem:
      return 0x06;  // map, key
    case kTailCall:
      return 0x0e;  // context, program array, index
    case kMapUpdateElem:
      return 0x1e;  // map, key, value, flags
    default:
      return kCallerSaved;
  }
}

// Registers an instruction reads, as far as the verifier checks that they
// are initialised. Calls count as reading r1..r5 (a callee's arguments, a
// helper's as its prototype says); an exit of the entry function reads r0 (the epilogue's spill).
// Reading too many only makes the minimal prologue less minimal.
uint16_t reads(const RawInsn& i) {
  const uint8_t c = cls(i);
  const bool x = (i.opcode & 0x08) != 0;
  const uint8_t op = i.opcode & 0xf0;
  switch (c) {
    case kClassAlu32:
    case kClassAlu64:
      if (op == 0xb0) return x ? reg_bit(i.src) : uint16_t{0};  // mov
      if (op == 0x80 || op == 0xd0) return reg_bit(i.dst);      // neg, byte swap
      return static_cast<uint16_t>(reg_bit(i.dst) | (x ? reg_bit(i.src) : 0));
    case kClassLdx:
      return reg_bit(i.src);
    case kClassSt:
      return reg_bit(i.dst);
    case kClassStx: {
      uint16_t r = static_cast<uint16_t>(reg_bit(i.dst) | reg_bit(i.src));
      if ((i.opcode & 0xe0) == kModeAtomic && i.imm == kAtomicCmpxchg) r |= 1u;
      return r;
    }
    case kClassLd:
      if (is_lddw(i)) return 0;
      return static_cast<uint16_t>(reg_bit(6) | ((i.opcode & 0xe0) == kModeInd ? reg_bit(i.src) : 0));
    case kClassJmp:
    case kClassJmp32:
      if (i.opcode == kCall) return i.src == 0 ? helper_arguments(i.imm) : kCallerSaved;
      if (i.opcode == kCallx) return static_cast<uint16_t>(kCallerSaved | reg_bit(i.dst));
      if (i.opcode == kExit) return 1u;
      if (i.opcode == kJa || i.opcode == kGotol) return 0;
      return static_cast<uint16_t>(reg_bit(i.dst) | (x ? reg_bit(i.src) : 0));
    default:
      return 0;
  }
}

RawInsn mov64_imm(uint8_t dst, int32_t imm) {
  return {0xb7, dst, 0, 0, imm};
}
RawInsn stxdw(uint8_t base, int16_t off, uint8_t src) {
  return {0x7b, base, src, off, 0};
}
RawInsn ldxdw(uint8_t dst, uint8_t base, int16_t off) {
  return {0x79, dst, base, off, 0};
}
RawInsn stdw_imm(uint8_t base, int16_t off, int32_t imm) {
  return {0x7a, base, 0, off, imm};
}
void lddw_map_value(std::vector<RawInsn>& out, uint8_t dst, int fd) {
  out.push_back({kLddw, dst, kSrcMapValue, 0, fd});
  out.push_back({0, 0, 0, 0, 0});  // offset 0 into the value
}
int16_t word(uint32_t w) {
  return static_cast<int16_t>(w * 8);
}

bool rewrite_has_memory(const RewriteInput& in) {
  return in.memory_map_fd >= 0 && in.memory_size > 0;
}

// Sets the registers of `regs` as our interpreter starts them.
std::vector<RawInsn> prologue(const RewriteInput& in, uint16_t regs) {
  std::vector<RawInsn> out;
  if (regs & reg_bit(1)) {
    if (rewrite_has_memory(in)) {
      lddw_map_value(out, 1, in.memory_map_fd);
    } else {
      out.push_back(mov64_imm(1, 0));
    }
  }
  if (regs & reg_bit(2)) out.push_back(mov64_imm(2, static_cast<int32_t>(in.memory_size)));
  for (uint8_t r : {0, 3, 4, 5, 6, 7, 8, 9}) {
    if (regs & reg_bit(r)) out.push_back(mov64_imm(r, 0));
  }
  return out;
}

// r0 goes to the reserved slot so r0 can hold the registers value's address.
std::vector<RawInsn> epilogue(const RewriteInput& in, uint16_t regs_valid) {
  std::vector<RawInsn> out;
  out.push_back(stxdw(10, kSpillOffset, 0));
  lddw_map_value(out, 0, in.regs_map_fd);
  for (uint8_t r = 1; r <= 9; ++r) {
    if (regs_valid & (1u << r)) out.push_back(stxdw(0, word(r), r));
  }
  out.push_back(stxdw(0, word(kFrameBaseWord), 10));
  out.push_back(ldxdw(1, 10, kSpillOffset));
  out.push_back(stxdw(0, word(0), 1));
  if (rewrite_has_memory(in)) {
    lddw_map_value(out, 1, in.memory_map_fd);
    out.push_back(stxdw(0, word(kMemoryBaseWord), 1));
  }
  // Array value addresses: a single-entry array's directly (the kernel
  // allows a direct value address only there), a larger one's through a
  // lookup of key 0 in the reserved slot (r0 is saved by now).
  bool looked_up = false;
  for (uint32_t m = 0; m < in.maps.size() && m < kMaxRequestMaps; ++m) {
    if (!in.maps[m].exports_value_base || in.maps[m].max_entries > 1) continue;
    lddw_map_value(out, 1, in.maps[m].fd);
    out.push_back(stxdw(0, word(kFirstMapBaseWord + m), 1));
  }
  for (uint32_t m = 0; m < in.maps.size() && m < kMaxRequestMaps; ++m) {
    if (!in.maps[m].exports_value_base || in.maps[m].max_entries <= 1) continue;
    looked_up = true;
    out.push_back(stdw_imm(10, kSpillOffset, 0));
    out.push_back({kLddw, 1, kSrcMapFd, 0, in.maps[m].fd});
    out.push_back({0, 0, 0, 0, 0});
    out.push_back({0xbf, 2, 10, 0, 0});  // mov r2, r10
    out.push_back({0x07, 2, 0, 0, kSpillOffset});
    out.push_back({kCall, 0, 0, 0, kMapLookupElem});
    out.push_back({0x15, 0, 0, 3, 0});  // if r0 == 0 skip the store (never: key 0 exists)
    lddw_map_value(out, 1, in.regs_map_fd);
    out.push_back(stxdw(1, word(kFirstMapBaseWord + m), 0));
  }
  if (looked_up) {
    // r0 no longer holds the registers value's address, nor the slot r0.
    lddw_map_value(out, 1, in.regs_map_fd);
    out.push_back(stdw_imm(1, word(kDoneWord), in.done_value));
    out.push_back(ldxdw(0, 1, word(0)));
    out.push_back({kExit, 0, 0, 0, 0});
    return out;
  }
  out.push_back(stdw_imm(0, word(kDoneWord), in.done_value));
  out.push_back(ldxdw(0, 10, kSpillOffset));  // the program's r0 is the test run's retval
  out.push_back({kExit, 0, 0, 0, 0});
  return out;
}

}  // namespace

namespace {

// Must-be-written dataflow over the entry function [0, end): in[pc] holds
// the registers defined on every path to pc (seen[pc]: reachable).
struct Defined {
  std::vector<uint16_t> in;
  std::vector<bool> seen;
};

Defined defined_registers(std::span<const RawInsn> p, uint32_t end, uint16_t at_entry) {
  Defined d{std::vector<uint16_t>(end, kAllRegs), std::vector<bool>(end, false)};
  if (end == 0) return d;
  std::vector<uint32_t> work;
  d.seen[0] = true;
  d.in[0] = at_entry;
  work.push_back(0);
  const auto flow = [&](uint32_t to, uint16_t regs) {
    if (to >= end) return;  // leaves the entry function: the kernel rejects that anyway
    const uint16_t met = d.seen[to] ? static_cast<uint16_t>(d.in[to] & regs) : regs;
    if (d.seen[to] && met == d.in[to]) return;
    d.seen[to] = true;
    d.in[to] = met;
    work.push_back(to);
  };
  while (!work.empty()) {
    const uint32_t pc = work.back();
    work.pop_back();
    const RawInsn& i = p[pc];
    uint16_t regs = d.in[pc];
    if (i.opcode == kExit) continue;
    transfer(i, regs);
    const TargetField tf = target_field(i);
    const bool is_jump = tf != TargetField::None && !is_lddw(i) && i.opcode != kCall;
    if (is_jump) {
      const int64_t t = target_of(i, pc);
      if (t >= 0) flow(static_cast<uint32_t>(std::min<int64_t>(t, end)), regs);
      const bool unconditional = i.opcode == kJa || i.opcode == kGotol;
      if (unconditional) continue;
    }
    flow(pc + (is_lddw(i) ? 2 : 1), regs);
  }
  return d;
}

// The last instruction of the entry function ends it (exit or unconditional
// jump), so nothing placed right after it can be reached by falling through.
bool entry_ends_with_jump(std::span<const RawInsn> p, uint32_t entry_end) {
  uint32_t last = entry_end;
  for (uint32_t pc = 0; pc < entry_end; pc += is_lddw(p[pc]) ? 2 : 1)
    last = pc;
  if (last >= entry_end || is_lddw(p[last])) return false;
  return ends_flow(p[last]);
}

}  // namespace

std::optional<int64_t> code_target(const RawInsn& insn, uint32_t pc) {
  if (target_field(insn) == TargetField::None) return std::nullopt;
  return target_of(insn, pc);
}

bool ends_flow(const RawInsn& insn) {
  return insn.opcode == kExit || insn.opcode == kJa || insn.opcode == kGotol;
}

Instrumentation instrumentation_for_seed(uint32_t seed) {
  const uint32_t v = seed % kInstrumentationVariants;
  return {(v & 1) ? EpiloguePlacement::AfterEntry : EpiloguePlacement::First,
          (v & 2) ? PrologueKind::Minimal : PrologueKind::Full};
}

std::string describe(const Instrumentation& i) {
  return std::string(i.placement == EpiloguePlacement::First ? "epilogue-first" : "epilogue-after") + "/" +
         (i.prologue == PrologueKind::Full ? "full-prologue" : "minimal-prologue");
}

uint16_t registers_defined_at_exits(std::span<const RawInsn> p, uint32_t entry_end, uint16_t at_entry) {
  const uint32_t end = std::min<uint32_t>(entry_end, static_cast<uint32_t>(p.size()));
  if (end == 0) return kAllRegs;
  const Defined d = defined_registers(p, end, at_entry);
  uint16_t at_exits = kAllRegs;
  for (uint32_t pc = 0; pc < end; ++pc) {
    if (d.seen[pc] && p[pc].opcode == kExit) at_exits &= d.in[pc];
  }
  return at_exits;
}

uint16_t registers_read_before_written(std::span<const RawInsn> p, uint32_t entry_end) {
  const uint32_t end = std::min<uint32_t>(entry_end, static_cast<uint32_t>(p.size()));
  // Defining a register the program reads early defines it on later paths
  // too, which can only shrink what else is read undefined: iterate to the
  // fixed point (at most one round per register).
  uint16_t needed = 0;
  for (;;) {
    const Defined d = defined_registers(p, end, needed);
    uint16_t more = needed;
    for (uint32_t pc = 0; pc < end; pc += is_lddw(p[pc]) ? 2 : 1) {
      if (d.seen[pc]) more |= static_cast<uint16_t>(reads(p[pc]) & ~d.in[pc] & kAllRegs);
    }
    if (more == needed) return needed;
    needed = more;
  }
}

// A slot for the context below every constant frame offset the entry
// function uses: accesses through r10 or a copy of it, and the frame
// addresses made from such copies with `add`/`sub` immediates. A program
// reaching it otherwise overwrites it (the verifier then refuses the tail
// call) or reads it first (stack never written: not comparable).
//
// The copies are followed in slot order, not along paths: a register moved
// from r10 stays a copy, at its offset, until something else writes it. Only
// those adds count -- a negative add to a plain scalar (`add r3, -300`) made
// the slot so low that the entry's frame and a callee's passed the kernel's
// combined 512-byte limit.
int16_t context_slot(std::span<const RawInsn> p, uint32_t entry_end) {
  int32_t lowest = 0;
  std::array<std::optional<int32_t>, 11> frame_copy{};  // per register: r10 + this, when a copy
  frame_copy[10] = 0;
  const auto low = [&](int32_t off) { lowest = std::min(lowest, off); };
  for (uint32_t pc = 0; pc < entry_end && pc < p.size(); pc += is_lddw(p[pc]) ? 2 : 1) {
    const RawInsn& i = p[pc];
    const uint8_t c = cls(i);
    const uint8_t dst = i.dst & 0x0f;
    const uint8_t src = i.src & 0x0f;
    const auto copy = [&](uint8_t r) { return r < frame_copy.size() ? frame_copy[r] : std::nullopt; };
    if (c == kClassLdx && copy(src)) low(*copy(src) + i.off);
    if ((c == kClassSt || c == kClassStx) && copy(dst)) low(*copy(dst) + i.off);
    if (dst >= 10) continue;
    const uint8_t op = i.opcode & 0xf0;
    const bool imm_source = (i.opcode & 0x08) == 0;
    if (c == kClassAlu64 && op == 0xb0 && !imm_source && i.off == 0) {  // mov dst, src
      frame_copy[dst] = copy(src);
    } else if (c == kClassAlu64 && (op == 0x00 || op == 0x10) && imm_source && frame_copy[dst]) {
      frame_copy[dst] = *frame_copy[dst] + (op == 0x00 ? i.imm : -i.imm);  // add / sub imm
      low(*frame_copy[dst]);
    } else if (c == kClassAlu64 && (op == 0x00 || op == 0x10) && frame_copy[dst]) {
      // Plus a register: the offset is no longer known; keep the last.
    } else if (c == kClassJmp && op == 0x80) {  // a call clobbers r0..r5
      for (uint8_t r = 0; r <= 5; ++r)
        frame_copy[r].reset();
    } else if (c == kClassAlu32 || c == kClassAlu64 || c == kClassLdx || is_lddw(i)) {
      frame_copy[dst].reset();
    } else if (c == kClassStx && (i.opcode & 0xe0) == 0xc0 && (i.imm & 0x01) != 0) {
      // An atomic fetch loads the old value into src; cmpxchg into r0.
      frame_copy[i.imm == 0xf1 ? 0 : src].reset();
    }
  }
  const int32_t slot = (lowest - 7) / 8 * 8 - 8;  // 8-aligned, below the lowest offset
  return static_cast<int16_t>(std::clamp<int32_t>(slot, kLowestContextSlot, -8));
}

Result<void> check_expressible(std::span<const RawInsn> p, bool allow_helper_calls, uint32_t map_count,
                               bool allow_tail_calls) {
  if (p.empty()) return make_error("the program is empty");
  for (uint32_t pc = 0; pc < p.size(); pc += is_lddw(p[pc]) ? 2 : 1) {
    const RawInsn& i = p[pc];
    if (is_lddw(i) && i.src != 0 && i.src != kSrcFunc) {
      if (!names_map(i)) {
        return make_error(at(pc, "lddw with src " + std::to_string(i.src) +
                                     " names a kernel variable; the request carries none"));
      }
      if (i.imm < 0 || static_cast<uint32_t>(i.imm) >= map_count) {
        return make_error(at(pc, "lddw names map " + std::to_string(i.imm) + "; the request carries " +
                                     std::to_string(map_count)));
      }
    }
    if (i.opcode == kCall && i.src == 0 && i.imm == kTailCall && !allow_tail_calls) {
      return make_error(at(pc, "a tail call needs the program's program array in the request"));
    }
    const bool harmless =
        i.src == 0 && (always_allowed_helper(i.imm) || (allow_tail_calls && i.imm == kTailCall));
    if (i.opcode == kCall && i.src != kSrcLocalCall && !allow_helper_calls && !harmless) {
      return make_error(at(pc, i.src == 0 ? "helper calls are not run on the kernel (they are the "
                                            "kernel's helpers, not ours)"
                                          : "kfunc calls are not run on the kernel"));
    }
    if (i.opcode == kMayGoto)
      return make_error(at(pc, "may_goto is the kernel's instruction, not RFC 9669's"));
    const bool atomic = cls(i) == kClassStx && (i.opcode & 0xe0) == kModeAtomic;
    if (atomic && (i.imm == kLoadAcquire || i.imm == kStoreRelease)) {
      return make_error(
          at(pc, "load-acquire and store-release are the kernel's instructions, not RFC 9669's"));
    }
  }
  return {};
}

std::vector<RawInsn> relocate_maps(std::span<const RawInsn> p, std::span<const int> map_fds) {
  std::vector<RawInsn> out(p.begin(), p.end());
  for (uint32_t pc = 0; pc < out.size(); pc += is_lddw(out[pc]) ? 2 : 1) {
    RawInsn& i = out[pc];
    if (!is_lddw(i) || !names_map(i) || i.imm < 0 || static_cast<std::size_t>(i.imm) >= map_fds.size())
      continue;
    const bool value = i.src == kSrcMapValue || i.src == kSrcMapIdxValue;
    i.src = value ? kSrcMapValue : kSrcMapFd;
    i.imm = map_fds[static_cast<std::size_t>(i.imm)];
  }
  return out;
}

Result<RewrittenProgram> rewrite_full_state(const RewriteInput& in) {
  if (in.maps.size() > kMaxRequestMaps)
    return make_error("more than " + std::to_string(kMaxRequestMaps) + " maps");
  const auto map_count = static_cast<uint32_t>(in.maps.size());
  if (auto ok = check_expressible(in.program, in.allow_helper_calls, map_count, in.tail_calls); !ok)
    return ok.error();
  std::vector<int> fds;
  for (const RewriteInput::Map& m : in.maps)
    fds.push_back(m.fd);
  const std::vector<RawInsn> relocated = relocate_maps(in.program, fds);
  const std::span<const RawInsn> p = relocated;
  if (p.size() > std::numeric_limits<int32_t>::max() / 2) return make_error("the program is too long");
  if (in.memory_size > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return make_error("the memory is larger than an imm32 can describe");
  }
  const auto n = static_cast<uint32_t>(p.size());
  const std::vector<uint32_t> starts = instruction_starts(p);

  // Find where the first subprogram begins; refuse targets outside the
  // program, which no layout can keep meaning the same.
  uint32_t entry_end = n;
  for (uint32_t pc : starts) {
    const RawInsn& i = p[pc];
    if (target_field(i) == TargetField::None) continue;
    const int64_t t = target_of(i, pc);
    if (t < 0 || t >= n) return make_error(at(pc, "target " + std::to_string(t) + " is outside the program"));
    const bool function_start = (is_lddw(i) || i.opcode == kCall);
    if (function_start && t > 0) entry_end = std::min(entry_end, static_cast<uint32_t>(t));
  }
  // A truncated lddw would borrow its second slot from whatever follows.
  if (!starts.empty() && is_lddw(p[starts.back()]) && starts.back() + 1 >= n) {
    return make_error(at(starts.back(), "lddw is truncated"));
  }

  RewrittenProgram out;
  out.entry_end = entry_end;
  out.instrumentation = in.instrumentation;
  if (out.instrumentation.placement == EpiloguePlacement::AfterEntry && !entry_ends_with_jump(p, entry_end)) {
    out.instrumentation.placement = EpiloguePlacement::First;
  }
  std::vector<uint32_t> tail_calls;  // original pcs of the entry function's tail calls
  if (in.tail_calls) {
    out.instrumentation.prologue = PrologueKind::Minimal;
    for (uint32_t pc : starts) {
      if (p[pc].opcode != kCall || p[pc].src != 0 || p[pc].imm != kTailCall) continue;
      if (pc >= entry_end)
        return make_error(at(pc, "a tail call from a subprogram is not run on the kernel"));
      tail_calls.push_back(pc);
    }
  }
  out.prologue_regs = out.instrumentation.prologue == PrologueKind::Full
                          ? kAllRegs
                          : registers_read_before_written(p, entry_end);
  if (in.tail_calls && (out.prologue_regs & ~reg_bit(1)) != 0) {
    return make_error(
        "the program reads a register other than r1 before writing it; a tail call "
        "restarts it through the prologue, which would give that register another value "
        "than our VM carries into the target");
  }
  // r1 counts as defined at every start (below), so the prologue sets it
  // even where the program never reads it: an exit that never wrote r1
  // would otherwise export the kernel's context against our memory.
  if (in.tail_calls) out.prologue_regs |= reg_bit(1);
  // After a tail call only what the target wrote since its start is the
  // same on both sides (r1 too: our VM carries the argument over, which the
  // comparison checks is the entry's r1).
  out.regs_valid = registers_defined_at_exits(p, entry_end, in.tail_calls ? reg_bit(1) : out.prologue_regs);
  if (in.tail_calls) out.context_slot = context_slot(p, entry_end);
  std::vector<RawInsn> pro = prologue(in, out.prologue_regs);
  std::vector<RawInsn> epi = epilogue(in, out.regs_valid);
  if (in.tail_calls) pro.insert(pro.begin(), stxdw(10, out.context_slot, 1));
  const auto stubs_at = static_cast<uint32_t>(epi.size());  // within the epilogue's slots
  for (std::size_t k = 0; k < tail_calls.size(); ++k) {
    epi.push_back(ldxdw(1, 10, out.context_slot));
    epi.push_back({kCall, 0, 0, 0, kTailCall});
    epi.push_back({kJa, 0, 0, 0, 0});  // back after the original call: set below
  }
  out.tail_call_stubs = static_cast<uint32_t>(tail_calls.size());
  out.prologue_slots = static_cast<uint32_t>(pro.size());
  out.epilogue_slots = static_cast<uint32_t>(epi.size());

  out.insns = pro;
  if (out.instrumentation.placement == EpiloguePlacement::First) {
    out.insns.push_back({kJa, 0, 0, static_cast<int16_t>(epi.size()), 0});
    out.insns.insert(out.insns.end(), epi.begin(), epi.end());
    out.insns.insert(out.insns.end(), p.begin(), p.end());
  } else {
    out.insns.insert(out.insns.end(), p.begin(), p.begin() + entry_end);
    out.insns.insert(out.insns.end(), epi.begin(), epi.end());
    out.insns.insert(out.insns.end(), p.begin() + entry_end, p.end());
  }

  // Each tail call: a jump to its stub, whose last jump returns after it.
  for (std::size_t k = 0; k < tail_calls.size(); ++k) {
    const int64_t site = out.new_pc(tail_calls[k]);
    const int64_t stub = int64_t{out.epilogue_pc()} + stubs_at + 3 * static_cast<int64_t>(k);
    const int64_t there = stub - site - 1;
    const int64_t back = site + 1 - (stub + 2) - 1;
    if (there < std::numeric_limits<int16_t>::min() || there > std::numeric_limits<int16_t>::max())
      return make_error(at(tail_calls[k], "the tail call's stub is out of a jump's reach"));
    out.insns[static_cast<std::size_t>(site)] = {kJa, 0, 0, static_cast<int16_t>(there), 0};
    out.insns[static_cast<std::size_t>(stub + 2)].off = static_cast<int16_t>(back);
  }
  for (uint32_t pc : starts) {
    if (std::binary_search(tail_calls.begin(), tail_calls.end(), pc)) continue;
    RawInsn& i = out.insns[out.new_pc(pc)];
    const int64_t from = out.new_pc(pc);
    if (pc < entry_end && i.opcode == kExit) {
      const int64_t delta = int64_t{out.epilogue_pc()} - from - 1;
      if (delta >= std::numeric_limits<int16_t>::min() && delta <= std::numeric_limits<int16_t>::max()) {
        i = {kJa, 0, 0, static_cast<int16_t>(delta), 0};
      } else {
        i = {kGotol, 0, 0, 0, static_cast<int32_t>(delta)};  // v4: kernels before 6.6 reject it
      }
      continue;
    }
    const TargetField tf = target_field(i);
    if (tf == TargetField::None) continue;
    const auto t = static_cast<uint32_t>(target_of(p[pc], pc));
    const int64_t delta = int64_t{out.new_pc(t)} - from - 1;
    if (tf == TargetField::Imm) {
      i.imm = static_cast<int32_t>(delta);
    } else if (delta >= std::numeric_limits<int16_t>::min() && delta <= std::numeric_limits<int16_t>::max()) {
      i.off = static_cast<int16_t>(delta);
    } else if (i.opcode == kJa) {
      i = {kGotol, 0, 0, 0, static_cast<int32_t>(delta)};
    } else {
      return make_error(at(pc, "the branch offset no longer fits 16 bits after the epilogue is inserted"));
    }
  }
  return out;
}

}  // namespace bpfdiff::oracle::kernel
