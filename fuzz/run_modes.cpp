#include "fuzz/run_modes.hpp"

#include <algorithm>
#include <array>

#include "vm/isa/encode.hpp"
#include "vm/isa/table.hpp"
#include "vm/program/maps.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::encode;
using isa::Form;

constexpr int16_t kCtxBytes = sizeof(vm::XdpMd);

// What the probe before the adapter does.
enum class Probe : uint8_t {
  None,
  ContextRead,
  ContextStore,
  ContextAtomic,
  RodataRead,
  RodataStore,
  RodataAtomic
};

class Recaster {
 public:
  Recaster(const vm::Program& program, std::span<const uint8_t> memory, vm::RunMode mode, uint64_t budget,
           ByteSource& src)
      : src_(src) {
    out_.program = program;
    out_.input.mode = mode;
    out_.input.memory.assign(memory.begin(), memory.end());
    out_.input.limits.instruction_budget = budget;
  }

  ModeCase run() {
    if (out_.program.entry != 0 || out_.program.slots.empty()) {
      out_.input.mode = vm::RunMode::Memory;
      return std::move(out_);
    }
    const ModeCase original = out_;
    probe(choose_probe());
    adapter();
    if (prologue_.empty()) return std::move(out_);
    prepend();
    // A body that starts with a function start of its own (a local call or
    // code address aimed at slot 0) cannot be entered by falling through: such
    // a program keeps memory mode.
    if (!vm::validate(out_.program, oracle::default_helpers())) {
      ModeCase unchanged = original;
      unchanged.input.mode = vm::RunMode::Memory;
      unchanged.input.metadata.clear();
      return unchanged;
    }
    return std::move(out_);
  }

 private:
  Probe choose_probe() {
    if (!src_.chance(0.25)) return Probe::None;
    const bool context = out_.input.mode == vm::RunMode::Packet && src_.chance(0.6);
    if (context) {
      static constexpr std::array<Probe, 3> kContext = {Probe::ContextRead, Probe::ContextStore,
                                                        Probe::ContextAtomic};
      return src_.pick(std::span<const Probe>(kContext));
    }
    if (out_.program.maps.size() >= vm::kMaxMaps) return Probe::None;
    static constexpr std::array<Probe, 3> kRodata = {Probe::RodataRead, Probe::RodataStore,
                                                     Probe::RodataAtomic};
    return src_.pick(std::span<const Probe>(kRodata));
  }

  // An offset into a region of `size` bytes for an access of `width`: in
  // bounds mostly, sometimes straddling or past the end.
  int16_t offset_in(int16_t size, int16_t width) {
    if (src_.chance(0.15)) return static_cast<int16_t>(size - width + 1 + src_.below(8));
    return static_cast<int16_t>(src_.below(static_cast<uint32_t>(size - width + 1)));
  }

  void store_probe(uint8_t base, int16_t size) {
    static constexpr std::array<Form, 4> kImm = {Form::stb, Form::sth, Form::stw, Form::stdw};
    static constexpr std::array<Form, 4> kReg = {Form::stxb, Form::stxh, Form::stxw, Form::stxdw};
    const uint32_t w = src_.below(4);
    const auto width = static_cast<int16_t>(1 << w);
    const int16_t off = offset_in(size, width);
    if (src_.chance(0.5)) {
      emit(encode(kImm[w], base, 0, off, static_cast<int32_t>(src_.u32())));
    } else {
      emit(encode(Form::mov_imm, 4, 0, 0, static_cast<int32_t>(src_.u32())));
      emit(encode(kReg[w], base, 4, off));
    }
  }

  void atomic_probe(uint8_t base, int16_t size) {
    static constexpr std::array<Form, 8> kAtomics = {
        Form::atomic32_add, Form::atomic32_fetch_or, Form::atomic32_xchg, Form::atomic32_cmpxchg,
        Form::atomic_add,   Form::atomic_fetch_and,  Form::atomic_xchg,   Form::atomic_cmpxchg};
    const uint32_t i = src_.below(static_cast<uint32_t>(kAtomics.size()));
    const Form form = kAtomics[i];
    const auto width = static_cast<int16_t>(i < 4 ? 4 : 8);  // the first four are 32-bit
    emit(encode(Form::mov_imm, 4, 0, 0, static_cast<int32_t>(src_.u32())));
    emit(encode(Form::mov_imm, 0, 0, 0, 0));  // cmpxchg compares with r0
    emit(encode(form, base, 4, offset_in(size, width)));
  }

  void read_probe(uint8_t base, int16_t size) {
    static constexpr std::array<Form, 4> kLoads = {Form::ldxb, Form::ldxh, Form::ldxw, Form::ldxdw};
    const uint32_t w = src_.below(4);
    emit(encode(kLoads[w], 0, base, offset_in(size, static_cast<int16_t>(1 << w))));
  }

  // A read-only array map of one value, like a C program's .rodata.
  void add_rodata() {
    vm::MapDef m;
    m.name = ".rodata";
    m.value_size = 8 * (1 + src_.below(4));
    m.max_entries = 1;
    m.read_only = true;
    m.initial_values.resize(m.value_size);
    for (uint8_t& b : m.initial_values)
      b = src_.byte();
    rodata_bytes_ = static_cast<int16_t>(m.value_size);
    rodata_index_ = static_cast<int32_t>(out_.program.maps.size());
    out_.program.maps.push_back(std::move(m));
  }

  void probe(Probe p) {
    switch (p) {
      case Probe::None:
        return;
      case Probe::ContextRead:
        return read_probe(1, kCtxBytes);
      case Probe::ContextStore:
        return store_probe(1, kCtxBytes);
      case Probe::ContextAtomic:
        return atomic_probe(1, kCtxBytes);
      case Probe::RodataRead:
      case Probe::RodataStore:
      case Probe::RodataAtomic:
        break;
    }
    add_rodata();
    for (const isa::RawInsn& slot : isa::encode_lddw(Form::lddw_map_value, 3, rodata_index_, 0))
      emit(slot);
    if (p == Probe::RodataRead) return read_probe(3, rodata_bytes_);
    if (p == Probe::RodataStore) return store_probe(3, rodata_bytes_);
    atomic_probe(3, rodata_bytes_);
  }

  // r1 = the input's address, r2 = its length, from what the mode provides.
  void adapter() {
    std::vector<uint8_t>& memory = out_.input.memory;
    switch (out_.input.mode) {
      case vm::RunMode::Memory:
        return;
      case vm::RunMode::Packet:
        emit(encode(Form::ldxw, 2, 1, 4));  // data_end
        emit(encode(Form::ldxw, 1, 1, 0));  // data
        emit(encode(Form::sub_reg, 2, 1));
        return;
      case vm::RunMode::MetaBuffer: {
        // Two 8-byte slots somewhere in a buffer of 16 to 40 bytes, in either order.
        const uint32_t size = 16 + 8 * src_.below(4);
        const uint32_t data = src_.below(size - 15);
        const uint32_t end = data + 8 + src_.below(size - 15 - data);
        const bool swap = src_.chance(0.5);
        out_.input.metadata.assign(size, 0);
        out_.input.data_offset = swap ? end : data;
        out_.input.data_end_offset = swap ? data : end;
        emit(encode(Form::ldxdw, 1, 1, static_cast<int16_t>(out_.input.data_offset)));
        return;  // r2 already holds the packet's length
      }
      case vm::RunMode::NoData: {
        // Half the time r1 = r2 = 0 as they come (the program's accesses
        // through r1 fault on the null page); else a stack area of the
        // memory's size, zero-filled, stands in for the memory.
        if (src_.chance(0.5)) return;
        const auto size = static_cast<int32_t>(std::min<std::size_t>((memory.size() + 7) / 8 * 8, 256));
        memory.clear();
        emit(encode(Form::mov_reg, 1, 10));
        emit(encode(Form::add_imm, 1, 0, 0, -static_cast<int32_t>(vm::kStackFrameBytes / 2)));
        emit(encode(Form::mov_imm, 2, 0, 0, size));
        for (int32_t off = 0; off < size; off += 8)
          emit(encode(Form::stdw, 1, 0, static_cast<int16_t>(off), 0));
        return;
      }
    }
  }

  void emit(const isa::RawInsn& slot) { prologue_.push_back(slot); }

  // The prologue before the body; absolute slots past the entry move with the body.
  void prepend() {
    vm::Program& p = out_.program;
    const auto shift = static_cast<uint32_t>(prologue_.size());
    p.slots.insert(p.slots.begin(), prologue_.begin(), prologue_.end());
    // Entries at slot 0 stay there: the prologue cannot fall through into a
    // function start, so a tail call to the entry runs the prologue again
    // (on whatever r1 the caller passes; every engine must agree on that too).
    for (vm::MapDef& m : p.maps) {
      for (auto& entry : m.prog_entries) {
        if (entry.second != 0) entry.second += shift;
      }
    }
    for (vm::ProgramEntry& e : p.entries) {
      if (e.slot != 0) e.slot += shift;
    }
  }

  ByteSource& src_;
  ModeCase out_;
  std::vector<isa::RawInsn> prologue_;
  int16_t rodata_bytes_ = 0;
  int32_t rodata_index_ = 0;
};

}  // namespace

std::span<const vm::RunMode> all_run_modes() {
  static constexpr std::array<vm::RunMode, 4> kModes = {vm::RunMode::Memory, vm::RunMode::NoData,
                                                        vm::RunMode::Packet, vm::RunMode::MetaBuffer};
  return kModes;
}

ModeCase recast_for_mode(const vm::Program& program, std::span<const uint8_t> memory, vm::RunMode mode,
                         uint64_t budget, ByteSource& src) {
  return Recaster(program, memory, mode, budget, src).run();
}

}  // namespace bpfdiff::fuzz

namespace bpfdiff::fuzz {

ModeCase generate_mode_case(ByteSource& src, const GeneratorOptions& options) {
  GeneratedCase c = generate(src, options);
  if (src.exhausted()) {
    ModeCase m;
    m.program = std::move(c.program);
    m.input.memory = std::move(c.memory);
    m.input.limits.instruction_budget = kGeneratedInstructionBudget;
    return m;
  }
  const std::span<const vm::RunMode> modes = all_run_modes();
  const vm::RunMode mode = modes[src.below(static_cast<uint32_t>(modes.size()))];
  return recast_for_mode(c.program, c.memory, mode, kGeneratedInstructionBudget, src);
}

}  // namespace bpfdiff::fuzz
