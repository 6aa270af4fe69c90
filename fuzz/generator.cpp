#include "fuzz/generator.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/form_choice.hpp"
#include "fuzz/generator_base.hpp"
#include "fuzz/program_builder.hpp"
#include "fuzz/values.hpp"
#include "vm/isa/encode.hpp"
#include "vm/program/maps.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/runtime/run.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::Family;
using isa::Form;
using isa::FormInfo;
using Label = ProgramBuilder::Label;

using detail::kFp;
using detail::kFrame;
// Most slots one ordinary step emits: a base pointer (lddw + add) and the access.
constexpr std::size_t kMaxStepSlots = 4;
constexpr std::size_t kMaxLoopBody = 48;
constexpr uint32_t kMaxLoopIterations = 8;
constexpr int kMaxLoopDepth = 2;
constexpr uint32_t kMaxSubprograms = 3;
constexpr double kUnboundedLoopRate = 0.0625;
constexpr double kRecursionRate = 0.03;
class Generator : detail::GeneratorBase {
 public:
  Generator(ByteSource& src, const GeneratorOptions& opt)
      : GeneratorBase(src, opt),
        forms_(generatable_forms(opt.isa_version)),
        branches_(branch_forms(forms_)) {}

  GeneratedCase run() {
    const std::size_t total = std::clamp(opt_.max_instructions, kMinGeneratedSlots, kMaxGeneratedSlots);
    choose_memory_size();
    const uint64_t memory_seed = src_.u64();
    // Usually r1 keeps the input address everywhere (it is never written), so
    // memory access can copy it; otherwise r1 is an ordinary register and the
    // input address is built from its known virtual address.
    r1_pinned_ = !src_.chance(0.2);
    const uint32_t subprograms = opt_.call_rate > 0 ? src_.below(kMaxSubprograms + 1) : 0;
    declare_maps();

    for (uint32_t i = 0; i <= subprograms; ++i)
      functions_.push_back(b_.new_label());
    b_.place(functions_[0]);
    prologue(total / 3);

    const std::size_t remaining = total - b_.size();
    const std::size_t share = subprograms == 0 ? 0 : remaining / (subprograms + 2);
    function(0, total - share * subprograms);
    for (uint32_t i = 1; i <= subprograms; ++i) {
      b_.place(functions_[i]);
      function(i, b_.size() + share);
    }

    GeneratedCase out;
    out.program.name = "generated";
    out.program.slots = std::move(b_).finish();
    out.program.maps = std::move(maps_);
    out.memory = boundary_memory(mem_size_, memory_seed);
    return out;
  }

 private:
  // ---- whole-program structure --------------------------------------------

  void choose_memory_size() {
    const uint32_t kind = src_.below(16);
    if (kind == 0) {
      mem_size_ = 0;
    } else if (kind == 1) {
      mem_size_ = 1 + src_.below(15);
    } else {
      mem_size_ = 16 + src_.below(kMaxGeneratedMemory - 16 + 1);
    }
  }

  // r0 and r2..r9 (r1 too when it is not pinned) start as boundary values, so
  // the first ALU ops already see rich inputs.
  void prologue(std::size_t max_slots) {
    for (uint8_t r = 0; r < kFp; ++r) {
      if (r == 1 && r1_pinned_) continue;
      if (b_.size() + 2 > max_slots) break;
      if (src_.chance(0.85)) b_.emit_lddw(r, draw_value(src_));
    }
  }

  // One function: steps until its slots run out, then exit. `end` is the
  // slot the function must end before.
  void function(uint32_t index, std::size_t end) {
    fn_ = index;
    protected_ = r1_pinned_ ? uint16_t{1u << 1} : uint16_t{0};
    limit_ = std::max(end, b_.size() + 1) - 1;  // one slot for the final exit
    steps_until_full();
    flush(depth_);
    b_.emit(isa::encode(Form::exit));
  }

  void steps_until_full() {
    while (room() >= kMaxStepSlots)
      step();
  }

  std::size_t room() const { return limit_ > b_.size() ? limit_ - b_.size() : 0; }

  void step() {
    bool done = false;
    if (depth_ < kMaxLoopDepth && src_.chance(opt_.loop_rate)) done = loop();
    if (!done && src_.chance(opt_.call_rate)) done = call();
    if (!done && src_.chance(opt_.helper_rate)) done = room() >= detail::kMaxHelperSlots && helper_call();
    for (int attempt = 0; !done && attempt < 4; ++attempt)
      done = emit_form(src_.pick(std::span<const Form>(forms_)));
    if (!done) {
      const uint8_t dst = writable_reg();
      b_.emit(isa::encode(Form::mov_imm, dst, 0, 0, draw_imm(src_)));
    }
    tick();
  }

  // ---- labels ---------------------------------------------------------------

  Label forward(uint32_t steps) {
    const Label l = b_.new_label();
    pending_.add(l, steps, depth_);
    return l;
  }

  void tick() {
    pending_.tick(depth_, [this](const auto& e) { b_.place(e.label); });
  }

  void flush(int depth) {
    pending_.flush(depth, [this](const auto& e) { b_.place(e.label); });
  }

  // ---- loops and calls --------------------------------------------------------

  bool loop() {
    const bool bounded = !src_.chance(kUnboundedLoopRate);
    const std::size_t closing = bounded ? 2 : 1;
    if (room() < (bounded ? 1 : 0) + kMaxStepSlots + closing) return false;
    uint8_t counter = 0;
    if (bounded) {
      const auto r = pick_loop_counter(src_, [this](uint8_t c) { return (protected_ & (1u << c)) == 0; });
      if (!r) return false;
      counter = *r;
      const Form init = loop_counter_init(src_, opt_.isa_version);
      b_.emit(isa::encode(init, counter, 0, 0, static_cast<int32_t>(1 + src_.below(kMaxLoopIterations))));
    }
    const Label head = b_.new_label();
    b_.place(head);

    const std::size_t saved_limit = limit_;
    const uint16_t saved_protected = protected_;
    limit_ = b_.size() + std::min(room() - closing, kMaxLoopBody);
    if (bounded) protected_ = static_cast<uint16_t>(protected_ | (1u << counter));
    ++depth_;
    const uint32_t steps = 1 + src_.below(6);
    for (uint32_t i = 0; i < steps && room() >= kMaxStepSlots; ++i)
      step();
    flush(depth_);
    --depth_;
    protected_ = saved_protected;
    limit_ = saved_limit;

    if (bounded) {
      emit_loop_back_edge(b_, src_, branches_.loop_closers, counter, head);
    } else {
      const Form back =
          form_in_version(Form::gotol, opt_.isa_version) && src_.chance(0.5) ? Form::gotol : Form::ja;
      b_.emit_jump(back, 0, 0, 0, head);
    }
    return true;
  }

  // A subprogram after the current function, so calls form a DAG and always
  // return; rarely any subprogram, which may recurse until the call-depth limit.
  bool callee(Label& out) {
    const auto count = static_cast<uint32_t>(functions_.size());
    if (count <= 1) return false;
    if (src_.chance(kRecursionRate)) {
      out = functions_[1 + src_.below(count - 1)];
      return true;
    }
    if (fn_ + 1 >= count) return false;
    out = functions_[fn_ + 1 + src_.below(count - fn_ - 1)];
    return true;
  }

  bool call() {
    Label target = 0;
    if (!callee(target)) return false;
    if (src_.chance(0.4)) {
      emit_callx(target);
    } else {
      b_.emit_call(target);
    }
    return true;
  }

  void emit_callx(Label target) {
    const uint8_t r = writable_reg();
    b_.emit_code_address(r, target);
    b_.emit(isa::encode(Form::callx, r));
  }

  // callx on something that is not a function: a helper id (none are
  // registered), a misaligned code address or whatever a register holds.
  bool emit_bad_callx() {
    if (!src_.chance(0.3)) return false;
    const uint8_t r = writable_reg();
    switch (src_.below(3)) {
      case 0:
        b_.emit(isa::encode(Form::mov_imm, r, 0, 0, static_cast<int32_t>(src_.below(256))));
        break;
      case 1:
        b_.emit_lddw(r, vm::region_base(vm::RegionId::Code) + 1 + src_.below(64));
        break;
      default:
        b_.emit(isa::encode(Form::callx, readable_reg()));
        return true;
    }
    b_.emit(isa::encode(Form::callx, r));
    return true;
  }

  // ---- one form -----------------------------------------------------------------

  bool emit_form(Form f) {
    const FormInfo& fi = isa::info(f);
    const isa::Semantics& s = fi.sem;
    switch (s.family) {
      case Family::Alu:
        if (s.alu == isa::AluOp::Neg) {
          b_.emit(isa::encode(f, writable_reg()));
        } else if (s.source == isa::Source::Reg) {
          const uint8_t dst = writable_reg();
          b_.emit(isa::encode(f, dst, readable_reg()));
        } else {
          const uint8_t dst = writable_reg();
          b_.emit(isa::encode(f, dst, 0, 0, draw_imm(src_)));
        }
        return true;
      case Family::Endian:
        b_.emit(isa::encode(f, writable_reg()));
        return true;
      case Family::Jump:
        return emit_jump(f);
      case Family::Call:
        return emit_call_form(s.call);
      case Family::Exit:
        emit_exit();
        return true;
      case Family::Lddw:
        if (s.lddw == isa::LddwKind::CodeAddr) {
          // Any function, the entry included: the address is a value too.
          const uint8_t dst = writable_reg();
          b_.emit_code_address(dst, functions_[src_.below(static_cast<uint32_t>(functions_.size()))]);
        } else {
          const uint8_t dst = writable_reg();
          b_.emit_lddw(dst, draw_value(src_));
        }
        return true;
      case Family::Load:
      case Family::LoadSigned: {
        const MemRef m = address(isa::bytes_of(s.size));
        b_.emit(isa::encode(f, writable_reg(), m.base, m.off));
        return true;
      }
      case Family::StoreImm: {
        const MemRef m = address(isa::bytes_of(s.size));
        b_.emit(isa::encode(f, m.base, 0, m.off, draw_imm(src_)));
        return true;
      }
      case Family::StoreReg: {
        const MemRef m = address(isa::bytes_of(s.size));
        b_.emit(isa::encode(f, m.base, readable_reg(), m.off));
        return true;
      }
      case Family::Atomic: {
        const MemRef m = address(isa::bytes_of(s.size));
        // Fetching forms write the old value into src (cmpxchg into r0).
        const bool writes_src = fi.rules.src == isa::RegRule::Writable;
        const uint8_t value = writes_src ? writable_reg() : readable_reg();
        b_.emit(isa::encode(f, m.base, value, m.off));
        return true;
      }
      case Family::PacketLoad:
        return emit_packet(f);
    }
    return false;
  }

  bool emit_jump(Form f) {
    const isa::Semantics& s = isa::info(f).sem;
    const Label target = forward(1 + src_.below(4));
    if (s.cond == isa::JmpCond::Always) {
      b_.emit_jump(f, 0, 0, 0, target);
    } else {
      const uint8_t dst = readable_reg();
      const JumpOperand o = draw_jump_operand(src_, f, [this] { return readable_reg(); });
      b_.emit_jump(f, dst, o.reg, o.imm, target);
    }
    return true;
  }

  bool emit_call_form(isa::CallKind kind) {
    switch (kind) {
      case isa::CallKind::Helper:
        return false;  // not generatable: no helpers are registered
      case isa::CallKind::Local: {
        Label target = 0;
        if (!callee(target)) return false;
        b_.emit_call(target);
        return true;
      }
      case isa::CallKind::Indirect: {
        Label target = 0;
        if (!callee(target)) return emit_bad_callx();
        emit_callx(target);
        return true;
      }
    }
    return false;
  }

  // Mostly a conditional return (`if cond goto L; exit; L:`); sometimes a bare
  // exit, after which only pending forward jumps reach the code that follows.
  void emit_exit() {
    if (src_.chance(0.15) || branches_.cond_jumps.empty()) {
      b_.emit(isa::encode(Form::exit));
      return;
    }
    const Form f = src_.pick(std::span<const Form>(branches_.cond_jumps));
    const Label skip = b_.new_label();
    const uint8_t dst = readable_reg();
    const JumpOperand o = draw_jump_operand(src_, f, [this] { return readable_reg(); });
    b_.emit_jump(f, dst, o.reg, o.imm, skip);
    b_.emit(isa::encode(Form::exit));
    b_.place(skip);
  }

  // ---- memory -------------------------------------------------------------------

  // A register holding the input address plus k; may emit code to make it.
  uint8_t input_base(int64_t k) {
    const uint8_t t = writable_reg();
    if (r1_pinned_) {
      b_.emit(isa::encode(Form::mov_reg, t, 1));
      if (k != 0) b_.emit(isa::encode(Form::add_imm, t, 0, 0, static_cast<int32_t>(k)));
    } else {
      b_.emit_lddw(t, vm::region_base(vm::RegionId::Input) + static_cast<uint64_t>(k));
    }
    return t;
  }

  // Input address + a as base + off: r1 itself, or a copy moved by k.
  MemRef input_ref(int64_t a) {
    if (r1_pinned_ && src_.chance(0.5)) return {1, static_cast<int16_t>(a)};
    const int64_t k = src_.range(0, mem_size_);
    return {input_base(k), static_cast<int16_t>(a - k)};
  }

  // Frame top + a as base + off: r10 itself, or a copy moved by k.
  MemRef stack_ref(int64_t a) {
    if (src_.chance(0.5)) return {kFp, static_cast<int16_t>(a)};
    const uint8_t t = writable_reg();
    const auto k = static_cast<int32_t>(src_.range(-kFrame, 0));
    b_.emit(isa::encode(Form::mov_reg, t, kFp));
    if (src_.chance(0.5)) {
      b_.emit(isa::encode(Form::add_imm, t, 0, 0, k));
    } else {
      b_.emit(isa::encode(Form::sub_imm, t, 0, 0, -k));
    }
    return {t, static_cast<int16_t>(a - k)};
  }

  // Where the next access of `n` bytes goes: the current stack frame or the
  // input memory, in bounds except at the out-of-bounds rate.
  MemRef address(unsigned n) {
    if (src_.chance(opt_.out_of_bounds_rate)) return out_of_bounds(n);
    if (const auto ref = map_value_ref(n)) return *ref;
    if (mem_size_ >= n && src_.chance(0.5)) return input_ref(offset_in(0, int64_t{mem_size_} - n, n));
    return stack_ref(offset_in(-kFrame, -int64_t{n}, n));
  }

  // Now and then, a value of an array map: `lddw t, map_value(i, k)` (the
  // validator resolves it to the value's address) and an offset from there.
  std::optional<MemRef> map_value_ref(unsigned n) {
    if (maps_.empty() || !src_.chance(0.15)) return std::nullopt;
    const std::optional<uint32_t> index = some_map(vm::MapType::Array);
    if (!index || maps_[*index].value_size < n) return std::nullopt;
    const vm::MapDef& m = maps_[*index];
    const int64_t total = int64_t{m.max_entries} * m.value_size;
    const int64_t a = offset_in(0, total - n, n);  // any entry: values lie back to back
    const auto k = static_cast<int32_t>(src_.below(m.value_size));
    const uint8_t t = writable_reg();
    const Form f = src_.chance(0.5) ? Form::lddw_map_value : Form::lddw_map_idx_value;
    b_.emit(isa::encode_lddw(f, t, static_cast<int32_t>(*index), k));
    return MemRef{t, static_cast<int16_t>(a - k)};
  }

  MemRef out_of_bounds(unsigned n) {
    const auto size = static_cast<int64_t>(mem_size_);
    switch (src_.below(5)) {
      case 0:  // straddles or passes the end of the input
        return input_ref(src_.range(size - n + 1, size + 16));
      case 1:  // before the input
        return input_ref(src_.range(-16, -1));
      case 2:  // above the frame top: out of bounds in the entry function only
        if (fn_ == 0) return {kFp, static_cast<int16_t>(src_.range(1 - int64_t{n}, 16))};
        [[fallthrough]];
      case 3:  // below the frame bottom
        return {kFp, static_cast<int16_t>(src_.range(-kFrame - 24, -kFrame - 1))};
      default: {  // whatever a register holds
        const uint8_t r = readable_reg();
        return {r, static_cast<int16_t>(draw_imm(src_))};
      }
    }
  }

  // Legacy packet loads read the input memory; one that misses it ends the
  // program with r0 = 0, so in-bounds ones are the rule here too.
  bool emit_packet(Form f) {
    const isa::Semantics& s = isa::info(f).sem;
    const int64_t n = isa::bytes_of(s.size);
    const int64_t size = mem_size_;
    const bool oob = src_.chance(opt_.out_of_bounds_rate);
    if (!oob && size < n) return false;
    const int64_t a = oob ? (src_.chance(0.5) ? src_.range(size - n + 1, size + 16) : src_.range(-16, -1))
                          : src_.range(0, size - n);
    if (s.packet == isa::PacketMode::Abs) {
      b_.emit(isa::encode(f, 0, 0, 0, static_cast<int32_t>(a)));
      return true;
    }
    if (oob && src_.chance(0.3)) {
      const uint8_t r = readable_reg();
      b_.emit(isa::encode(f, 0, r, 0, draw_imm(src_)));
      return true;
    }
    const uint8_t r = writable_reg();
    const int64_t k = src_.range(0, size);
    b_.emit(isa::encode(Form::mov_imm, r, 0, 0, static_cast<int32_t>(k)));
    b_.emit(isa::encode(f, 0, r, 0, static_cast<int32_t>(a - k)));
    return true;
  }

  const std::vector<Form> forms_;
  const BranchForms branches_;
  std::vector<Label> functions_;  // entry labels; [0] is the entry function
  ForwardLabels<> pending_;
  uint32_t mem_size_ = 0;
  uint32_t fn_ = 0;
  std::size_t limit_ = 0;
  int depth_ = 0;
};

}  // namespace

bool generatable(isa::Form form) {
  const isa::Semantics& s = isa::info(form).sem;
  if (s.family == Family::Call) return s.call != isa::CallKind::Helper;
  if (s.family == Family::Lddw) return s.lddw == isa::LddwKind::Imm64 || s.lddw == isa::LddwKind::CodeAddr;
  return true;
}

std::vector<isa::Form> generatable_forms(isa::IsaVersion version) {
  return forms_of_version(version, generatable);
}

GeneratedCase generate(ByteSource& src, const GeneratorOptions& opt) {
  return Generator(src, opt).run();
}

}  // namespace bpfdiff::fuzz
