#include "vm/interp/interpreter.hpp"

#include <algorithm>
#include <cstring>

#include "vm/isa/table.hpp"
#include "vm/runtime/semantics_impl.hpp"

namespace bpfdiff::vm {
namespace {

using isa::Family;
using isa::Semantics;
using isa::Source;
using isa::Width;

using Frame = CallFrame;

// Everything the dispatch loop touches, in one place so the step functions
// can be small inline templates. No default member initialisers: loop()
// sets every field, and a compiler asked to zero the whole struct first
// picks `rep stos`, whose start-up costs more than a short run.
struct Machine {
  uint64_t reg[isa::kNumRegisters];
  uint32_t pc;
  uint32_t depth;  // frames pushed by local calls
  uint32_t max_depth;
  uint32_t deepest;  // largest depth reached, to know how much stack to clear next run
  Frame* frames;
  AddressSpace* mem;
  Region* stack;
  const Insn* code;
  const LoadedProgram* program;
  const HelperSpec* const* helper_at;  // per pc, resolved once
  const HelperRegistry* helpers;
  HelperEnv* env;
  std::span<uint8_t> packet;  // what legacy packet loads read
  ExecError error;
};

constexpr uint64_t sext_imm(int32_t imm) {
  return sem::sext_imm(imm);
}

template <unsigned N>
inline uint64_t read_le(const uint8_t* p) {
  if constexpr (N == 1) {
    return *p;
  } else if constexpr (N == 2) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  } else if constexpr (N == 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  } else {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
}

template <unsigned N>
inline void write_le(uint8_t* p, uint64_t v) {
  if constexpr (N == 1) {
    *p = static_cast<uint8_t>(v);
  } else if constexpr (N == 2) {
    const auto x = static_cast<uint16_t>(v);
    std::memcpy(p, &x, 2);
  } else if constexpr (N == 4) {
    const auto x = static_cast<uint32_t>(v);
    std::memcpy(p, &x, 4);
  } else {
    std::memcpy(p, &v, 8);
  }
}

template <unsigned N>
constexpr uint64_t sign_extend(uint64_t v) {
  if constexpr (N == 1) return sem::sext8(v);
  if constexpr (N == 2) return sem::sext16(v);
  if constexpr (N == 4) return sem::sext32(v);
  return v;
}

inline bool fault(Machine& m, ErrorKind kind, uint64_t addr, uint32_t size) {
  m.error = ExecError{kind, m.pc, addr, size};
  return false;
}

// Whether any instruction can write memory: a store, an atomic, or a call
// that may reach a helper (helpers write through the pointers they are
// given; bpf_tail_call clears the frame). Without one, the stack stays as
// the previous run left it: zeroed.
bool can_write_memory(const LoadedProgram& program) {
  for (const Insn& insn : program.insns) {
    const isa::Semantics& s = isa::info(insn.form).sem;
    switch (s.family) {
      case Family::StoreImm:
      case Family::StoreReg:
      case Family::Atomic:
        return true;
      case Family::Call:
        if (s.call != isa::CallKind::Local) return true;
        break;
      case Family::Alu:
      case Family::Endian:
      case Family::Jump:
      case Family::Exit:
      case Family::Lddw:
      case Family::Load:
      case Family::LoadSigned:
      case Family::PacketLoad:
        break;
    }
  }
  return false;
}

bool call_local(Machine& m, uint32_t target) {
  if (m.depth + 1 >= m.max_depth) return fault(m, ErrorKind::CallDepthExceeded, 0, 0);
  Frame& f = m.frames[m.depth++];
  m.deepest = std::max(m.deepest, m.depth);
  std::memcpy(f.callee_saved, &m.reg[6], sizeof f.callee_saved);
  f.r10 = m.reg[10];
  f.return_pc = m.pc + 1;
  m.reg[10] -= kStackFrameBytes;
  m.stack->lo -= kStackFrameBytes;
  m.pc = target;
  return true;
}

bool call_helper(Machine& m, const HelperSpec& spec) {
  HelperCall call;
  std::memcpy(call.args, &m.reg[1], sizeof call.args);
  call.memory = m.mem;
  call.user = spec.user;
  call.env = m.env;
  call.pc = m.pc;
  const uint64_t r0 = spec.fn(call);
  if (call.error) {
    m.error = *call.error;
    return false;
  }
  m.reg[0] = r0;  // r1..r5 are left as they were: helpers cannot reach them
  // A tail call replaces the running function in its (reset) frame: same
  // depth, same r10, and its exit returns to this function's caller.
  m.pc = call.tail_call ? *call.tail_call : m.pc + 1;
  return true;
}

// callx: the register holds a function address made by `lddw rX, code` or,
// as in uBPF, a helper id.
bool call_indirect(Machine& m, uint64_t value) {
  if ((value >> kRegionShift) == static_cast<uint64_t>(RegionId::Code)) {
    const uint64_t off = value & kRegionOffsetMask;
    const auto& starts = m.program->function_starts;
    const uint64_t target = off / isa::kSlotBytes;
    if (off % isa::kSlotBytes == 0 && std::binary_search(starts.begin(), starts.end(), target)) {
      return call_local(m, static_cast<uint32_t>(target));
    }
    return fault(m, ErrorKind::BadCallTarget, value, 0);
  }
  if (value > UINT32_MAX) return fault(m, ErrorKind::BadCallTarget, value, 0);
  const HelperSpec* spec = m.helpers->find(static_cast<uint32_t>(value));
  if (spec == nullptr) return fault(m, ErrorKind::UnknownHelper, value, 0);
  return call_helper(m, *spec);
}

// Returns false when the run is over: from the entry function this is the
// normal end of the program.
bool do_exit(Machine& m) {
  if (m.depth == 0) return false;
  const Frame& f = m.frames[--m.depth];
  std::memcpy(&m.reg[6], f.callee_saved, sizeof f.callee_saved);
  m.reg[10] = f.r10;
  m.stack->lo += kStackFrameBytes;
  m.pc = f.return_pc;
  return true;
}

template <Semantics S>
[[gnu::always_inline]] inline bool step(Machine& m, const Insn& i) {
  if constexpr (S.family == Family::Alu) {
    uint64_t src;
    if constexpr (S.source == Source::Reg) {
      src = m.reg[i.src];
    } else {
      src = sext_imm(i.imm);
    }
    if constexpr (S.width == Width::W64) {
      m.reg[i.dst] = sem::alu64<S.alu>(m.reg[i.dst], src);
    } else {
      m.reg[i.dst] = sem::alu32<S.alu>(m.reg[i.dst], src);
    }
    ++m.pc;
    return true;
  } else if constexpr (S.family == Family::Endian) {
    m.reg[i.dst] = sem::endian<S.endian, S.endian_bits>(m.reg[i.dst]);
    ++m.pc;
    return true;
  } else if constexpr (S.family == Family::Jump) {
    if constexpr (S.cond == isa::JmpCond::Always) {
      m.pc = i.target;
    } else {
      const uint64_t b = S.source == Source::Reg ? m.reg[i.src] : sext_imm(i.imm);
      m.pc = sem::condition<S.cond, S.width>(m.reg[i.dst], b) ? i.target : m.pc + 1;
    }
    return true;
  } else if constexpr (S.family == Family::Call) {
    if constexpr (S.call == isa::CallKind::Helper) {
      return call_helper(m, *m.helper_at[m.pc]);
    } else if constexpr (S.call == isa::CallKind::Local) {
      return call_local(m, i.target);
    } else {
      return call_indirect(m, m.reg[i.dst]);
    }
  } else if constexpr (S.family == Family::Exit) {
    return do_exit(m);
  } else if constexpr (S.family == Family::Lddw) {
    m.reg[i.dst] = i.imm64;
    m.pc += 2;
    return true;
  } else if constexpr (S.family == Family::Load || S.family == Family::LoadSigned) {
    constexpr unsigned N = isa::bytes_of(S.size);
    const uint64_t addr = m.reg[i.src] + static_cast<uint64_t>(static_cast<int64_t>(i.off));
    const uint8_t* p = m.mem->translate(addr, N, false);
    if (p == nullptr) return fault(m, ErrorKind::MemoryRead, addr, N);
    const uint64_t v = read_le<N>(p);
    m.reg[i.dst] = S.family == Family::LoadSigned ? sign_extend<N>(v) : v;
    ++m.pc;
    return true;
  } else if constexpr (S.family == Family::StoreImm || S.family == Family::StoreReg) {
    constexpr unsigned N = isa::bytes_of(S.size);
    const uint64_t addr = m.reg[i.dst] + static_cast<uint64_t>(static_cast<int64_t>(i.off));
    uint8_t* p = m.mem->translate(addr, N, true);
    if (p == nullptr) return fault(m, ErrorKind::MemoryWrite, addr, N);
    write_le<N>(p, S.family == Family::StoreReg ? m.reg[i.src] : sext_imm(i.imm));
    ++m.pc;
    return true;
  } else if constexpr (S.family == Family::Atomic) {
    constexpr unsigned N = isa::bytes_of(S.size);
    const uint64_t addr = m.reg[i.dst] + static_cast<uint64_t>(static_cast<int64_t>(i.off));
    uint8_t* p = m.mem->translate(addr, N, true);
    if (p == nullptr) return fault(m, ErrorKind::MemoryWrite, addr, N);
    // A single-threaded VM: a plain read-modify-write is atomic.
    const uint64_t old = read_le<N>(p);
    const uint64_t val = m.reg[i.src];
    if constexpr (S.atomic == isa::AtomicOp::Cmpxchg) {
      const uint64_t expected = N == 4 ? static_cast<uint32_t>(m.reg[0]) : m.reg[0];
      if (old == expected) write_le<N>(p, val);
      m.reg[0] = old;
    } else {
      uint64_t result;
      if constexpr (S.atomic == isa::AtomicOp::Add) result = old + val;
      if constexpr (S.atomic == isa::AtomicOp::Or) result = old | val;
      if constexpr (S.atomic == isa::AtomicOp::And) result = old & val;
      if constexpr (S.atomic == isa::AtomicOp::Xor) result = old ^ val;
      if constexpr (S.atomic == isa::AtomicOp::Xchg) result = val;
      write_le<N>(p, result);
      if constexpr (S.fetch) m.reg[i.src] = old;
    }
    ++m.pc;
    return true;
  } else if constexpr (S.family == Family::PacketLoad) {
    // Legacy packet access keeps its Linux meaning: the value is read in
    // network byte order, and an access outside the packet ends the whole
    // program with r0 = 0 instead of faulting.
    constexpr unsigned N = isa::bytes_of(S.size);
    uint64_t off = sext_imm(i.imm);
    if constexpr (S.packet == isa::PacketMode::Ind) off += m.reg[i.src];
    if (m.packet.size() < N || off > m.packet.size() - N) {
      // Unwind every local call, as if each frame had returned, so the run
      // ends in the entry function's state like any other program end.
      if (m.depth > 0) {
        const Frame& outer = m.frames[0];
        std::memcpy(&m.reg[6], outer.callee_saved, sizeof outer.callee_saved);
        m.reg[10] = outer.r10;
        m.stack->lo = m.stack->hi - kStackFrameBytes;
        m.depth = 0;
      }
      m.reg[0] = 0;
      return false;
    }
    const uint64_t v = read_le<N>(m.packet.data() + off);
    if constexpr (N == 1) m.reg[0] = v;
    if constexpr (N == 2) m.reg[0] = sem::bswap16(static_cast<uint16_t>(v));
    if constexpr (N == 4) m.reg[0] = sem::bswap32(static_cast<uint32_t>(v));
    ++m.pc;
    return true;
  }
}

}  // namespace

Interpreter::Interpreter(const LoadedProgram& program, const HelperRegistry& helpers, ExecLimits limits)
    : program_(program), helpers_(helpers), limits_(limits) {
  env_.maps = MapStore(program.source.maps);
  limits_.max_call_depth = std::max<uint32_t>(limits_.max_call_depth, 1);
  stack_.resize(std::size_t{limits_.max_call_depth} * kStackFrameBytes);
  dirty_frames_ = limits_.max_call_depth;
  state_.frames.resize(limits_.max_call_depth);
  // Helper specs are resolved per pc once, so the call path is a load and an
  // indirect call.
  helper_at_.assign(program_.insns.size(), nullptr);
  for (std::size_t pc = 0; pc < program_.insns.size(); ++pc) {
    if (program_.insns[pc].form == isa::Form::call_helper) {
      helper_at_[pc] = helpers_.find(static_cast<uint32_t>(program_.insns[pc].imm));
    }
  }
  writes_memory_ = can_write_memory(program_);
}

uint64_t Interpreter::register_region(std::span<uint8_t> bytes, bool writable) {
  const uint32_t index =
      static_cast<uint32_t>(RegionId::FirstDynamic) + static_cast<uint32_t>(registered_.size());
  if (index >= kFirstMapRegion) return 0;  // the regions above hold map values
  registered_.push_back({bytes, writable});
  layout_stale_ = true;
  return region_base(index);
}

RunResult Interpreter::run(const RunInput& input) {
  prepare(input);
  return loop<false>(nullptr, nullptr);
}

RunResult Interpreter::run_traced(const RunInput& input, const TraceFn& trace) {
  prepare(input);
  return loop<true>(&trace, nullptr);
}

Interpreter::Start Interpreter::prepare(const RunInput& input) {
  // Every run: the stack's live bound (an error inside a local call leaves
  // it lowered) and the helpers' clock, random state and tail-call count.
  // Inlined on both paths below, so that on the fast one the compiler knows
  // the trace is empty and emits no loop of string destructors.
  auto start = [&]() __attribute__((always_inline)) {
    Region& stack = memory_.region(static_cast<uint32_t>(RegionId::Stack));
    stack.lo = stack.hi - kStackFrameBytes;
    env_.start_run(input.seed);
    return start_;
  };
  // The rest, out of line (a tail call), so that the fast path of a short
  // run on the same input as the previous one saves no registers and calls
  // nothing.
  auto set_up = [&]() __attribute__((noinline)) {
    // Every run starts from a zeroed stack, so a read of a slot the program
    // never wrote is deterministic (0) in every engine. Only the frames the
    // previous run reached can be dirty, and only if the program can write.
    if (writes_memory_) {
      const std::size_t dirty = std::size_t{dirty_frames_} * kStackFrameBytes;
      std::fill(stack_.end() - static_cast<std::ptrdiff_t>(dirty), stack_.end(), uint8_t{0});
      dirty_frames_ = limits_.max_call_depth;  // until this run reports how deep it went
    }
    // The regions that outlive a run (stack, registered buffers, map
    // values) stay mapped until the layout changes.
    if (layout_stale_) map_persistent_regions();
    env_.trace.clear();
    // The Input and Null regions change only in map_input (and when the
    // table is rebuilt), and what they hold depends only on the mode and
    // the bytes: the same input as the previous run's is mapped already.
    // MetaBuffer writes the packet's addresses into the caller's buffer,
    // which the program may have overwritten, so it maps every time.
    const InputKey& k = input_key_;
    if (!k.mapped || input.mode != k.mode || input.memory.data() != k.data || input.memory.size() != k.size ||
        input.mode == RunMode::MetaBuffer) {
      map_input(input);
    }
    return start();
  };
  const InputKey& k = input_key_;
  if (writes_memory_ || layout_stale_ || !env_.trace.empty() || !k.mapped || input.mode != k.mode ||
      input.memory.data() != k.data || input.memory.size() != k.size || input.mode == RunMode::MetaBuffer) {
    return set_up();
  }
  return start();
}

// Out of line, as is map_input: a short run on the same input reaches
// neither, and prepare() then needs no registers of its own to save.
[[gnu::noinline]] void Interpreter::map_persistent_regions() {
  memory_.clear();
  memory_.map(static_cast<uint32_t>(RegionId::Stack), stack_, true);
  for (std::size_t k = 0; k < registered_.size(); ++k) {
    memory_.map(static_cast<uint32_t>(RegionId::FirstDynamic) + static_cast<uint32_t>(k),
                registered_[k].bytes, registered_[k].writable);
  }
  env_.maps.map_into(memory_);
  layout_stale_ = false;
  input_key_.mapped = false;  // the table was cleared: the input regions too
}

[[gnu::noinline]] void Interpreter::map_input(const RunInput& input) {
  input_key_ = InputKey{true, input.mode, input.memory.data(), input.memory.size()};
  memory_.unmap(static_cast<uint32_t>(RegionId::Null));
  const auto input_region = static_cast<uint32_t>(RegionId::Input);
  memory_.unmap(input_region);
  start_ = Start{};
  packet_ = {};
  switch (input.mode) {
    case RunMode::NoData:
      return;
    case RunMode::Memory:
      if (!input.memory.empty()) {
        start_.r1 = memory_.map(input_region, input.memory, true);
        start_.r2 = input.memory.size();
        packet_ = input.memory;
      }
      return;
    case RunMode::Packet:
    case RunMode::MetaBuffer:
      break;
  }
  // The packet sits at kPacketBase in region 0; an empty (or impossibly
  // large) packet leaves region 0 unmapped, so every access faults.
  const bool fits = !input.memory.empty() && input.memory.size() <= kMaxPacketBytes;
  if (fits) memory_.map_at(static_cast<uint32_t>(RegionId::Null), kPacketBase, input.memory, true);
  const uint64_t data = kPacketBase;
  const uint64_t data_end = kPacketBase + (fits ? input.memory.size() : 0);
  packet_ = input.memory;
  if (input.mode == RunMode::Packet) {
    xdp_md_ = XdpMd{
        static_cast<uint32_t>(data), static_cast<uint32_t>(data_end), static_cast<uint32_t>(data), 0, 0, 0};
    // Read-only, as the verifier makes struct xdp_md for XDP programs.
    start_.r1 = memory_.map(input_region, {reinterpret_cast<uint8_t*>(&xdp_md_), sizeof xdp_md_}, false);
    return;
  }
  std::span<uint8_t> meta = input.metadata;
  auto put = [&](uint64_t offset, uint64_t value) {
    if (offset <= meta.size() && meta.size() - offset >= 8) std::memcpy(meta.data() + offset, &value, 8);
  };
  put(input.data_offset, data);
  put(input.data_end_offset, data_end);
  if (!meta.empty()) start_.r1 = memory_.map(input_region, meta, true);
  start_.r2 = data_end - data;
}

RunResult Interpreter::resume() {
  return loop<false>(nullptr, &state_);
}

template <bool kTrace>
RunResult Interpreter::loop(const TraceFn* trace, const ExecState* from) {
  Machine m;
  uint64_t executed = 0;
  if (from == nullptr) {
    clear_registers(m.reg);
    // One register at a time from start_ (a 16-byte copy of the pair just
    // stored would stall on store forwarding).
    m.reg[1] = start_.r1;
    m.reg[2] = start_.r2;
    m.reg[10] = stack_top();
    m.pc = program_.source.entry;
    m.depth = 0;
    m.deepest = 0;
  } else {
    copy_registers(m.reg, from->regs.data());
    m.pc = from->pc;
    m.depth = from->depth;
    m.deepest = from->deepest;
    executed = from->executed;
  }
  m.max_depth = limits_.max_call_depth;
  m.frames = state_.frames.data();
  m.mem = &memory_;
  m.stack = &memory_.region(static_cast<uint32_t>(RegionId::Stack));
  m.code = program_.insns.data();
  m.program = &program_;
  m.helper_at = helper_at_.data();
  m.helpers = &helpers_;
  m.env = &env_;
  m.packet = packet_;

  const uint64_t budget = limits_.instruction_budget;
  for (;;) {
    if (executed == budget) {
      m.error = ExecError{ErrorKind::BudgetExhausted, m.pc, 0, 0};
      break;
    }
    ++executed;
    const Insn& insn = m.code[m.pc];
    if constexpr (kTrace) {
      std::array<uint64_t, isa::kNumRegisters> regs;
      std::copy(std::begin(m.reg), std::end(m.reg), regs.begin());
      (*trace)(m.pc, regs);
    }
    bool running = false;
    using namespace isa;  // the rows of forms.def name enumerators unqualified
    switch (insn.form) {
#define BPF_FORM(name, opcode, disc, disc_value, mnemonic, semantics) \
  case isa::Form::name:                                               \
    running = step<semantics>(m, insn);                               \
    break;
#include "vm/isa/forms.def"
#undef BPF_FORM
    }
    if (!running) break;
  }

  // The result is built in place (one object, returned on every path) from
  // the machine's registers.
  if (writes_memory_) dirty_frames_ = m.deepest + 1;
  RunResult result(RunResult::RegistersFilledByEngine::Tag);
  copy_registers(result.regs.data(), m.reg);
  result.instructions = executed;
  // Only a failed run copies the error: copying the default one would cost
  // a store-forwarding stall on every short run.
  if (m.error.kind != ErrorKind::None) result.error = m.error;
  return result;
}

}  // namespace bpfdiff::vm
