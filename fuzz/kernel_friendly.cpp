#include "fuzz/kernel_friendly.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "fuzz/form_choice.hpp"
#include "fuzz/kernel_friendly_base.hpp"
#include "fuzz/program_builder.hpp"
#include "fuzz/values.hpp"
#include "oracle/kernel/kernel_release.hpp"
#include "vm/isa/encode.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::Family;
using isa::Form;
using isa::FormInfo;
using Label = ProgramBuilder::Label;

using detail::kFp;
using detail::Kind;
using detail::kNoReg;
using detail::meet;
using detail::Reg;
using detail::scalar_value;
using detail::State;
using detail::usable;
// Most slots one ordinary step emits: a copied base moved by a constant or
// a masked scalar (mov, mov, and, mov, add) and the access.
constexpr std::size_t kMaxStepSlots = 6;
constexpr std::size_t kMaxLoopBody = 40;
constexpr uint32_t kMaxLoopIterations = 5;
constexpr int kMaxLoopDepth = 2;
// Loops per function: the verifier walks each turn of each loop once per
// distinct state reaching it, so states leaving one loop multiply through
// the next; with more loops an occasional program takes seconds and hits
// the 1M-instruction limit.
constexpr int kMaxLoopsPerFunction = 2;
constexpr uint32_t kMaxSubprograms = 3;
// Instruction-count bounds (see cost_left_): the entry function's whole run,
// and what a subprogram may run besides the subprograms it must call.
constexpr int64_t kEntryCost = static_cast<int64_t>(kGeneratedInstructionBudget) * 3 / 10;
// A program with a program array may restart up to 33 times, which its
// entry's bound pays for (restarts_fit): it gets more of the budget, or a
// tail call would fit only into the first few dozen instructions.
constexpr int64_t kTailCallEntryCost = static_cast<int64_t>(kGeneratedInstructionBudget) * 7 / 10;
constexpr int64_t kSubprogramCost = 300;
// Share of steps that branch (jumps, conditional exits). Drawn uniformly,
// the 50-odd jump forms would make a quarter of all steps branches, and
// every branch on an unknown value can double the states the verifier
// walks: a few programs then took seconds and hit its 1M-instruction limit.
constexpr double kControlRate = 0.12;
// A call: up to five argument moves, the call.
constexpr std::size_t kCallSlots = 6;

struct Function {
  Label label;
  int64_t cost = kSubprogramCost;  // bound on its run, the calls it must make included
  std::vector<uint32_t> must_call;
};

class KernelFriendlyGenerator : detail::KernelFriendlyBase {
 public:
  KernelFriendlyGenerator(ByteSource& src, const KernelFriendlyOptions& opt)
      : KernelFriendlyBase(src, opt),
        forms_(kernel_friendly_forms(opt.isa_version)),
        branches_(branch_forms(forms_)) {
    for (Form f : forms_) {
      const isa::Family family = isa::info(f).sem.family;
      const bool control = family == Family::Jump || family == Family::Exit;
      (control ? control_forms_ : straight_forms_).push_back(f);
    }
  }

  GeneratedCase run() {
    const std::size_t total = std::clamp(opt_.max_instructions, kMinGeneratedSlots, kMaxGeneratedSlots);
    mem_size_ = src_.below(32) == 0 ? 0 : 8 + src_.below(kMaxGeneratedMemory - 8 + 1);
    const uint64_t memory_seed = src_.u64();
    plan_functions(total);
    plan_maps();
    if (tail_calls()) functions_[0].cost = kTailCallEntryCost;

    b_.place(functions_[0].label);
    const std::size_t subprograms = functions_.size() - 1;
    const std::size_t pieces = subprograms + (tail_target_ ? 1 : 0);
    const std::size_t share = pieces == 0 ? 0 : total / (pieces + 3);
    function(0, total - share * pieces);
    for (uint32_t i = 1; i < functions_.size(); ++i) {
      b_.place(functions_[i].label);
      function(i, b_.size() + share);
    }
    if (tail_target_) {
      // Last, so no function can call it (optional calls go to later
      // functions only) and no branch reaches it.
      target_ = static_cast<uint32_t>(functions_.size());
      functions_.push_back({b_.new_label(), kSubprogramCost, {}});
      maps_.back().prog_entries[1].second = static_cast<uint32_t>(b_.size());
      b_.place(functions_[target_].label);
      function(target_, b_.size() + share);
    }

    GeneratedCase out;
    out.program.name = "kernel-friendly";
    out.program.slots = std::move(b_).finish();
    out.program.maps = maps_;
    out.memory = boundary_memory(mem_size_, memory_seed, away_from_pointers);
    return out;
  }

 private:
  // ---- whole-program structure ----------------------------------------------

  // Subprogram i is called by a function before it (its parent), so every
  // subprogram is reachable and calls form a DAG. Costs add up bottom-up:
  // a function's bound covers the subprograms it must call.
  void plan_functions(std::size_t total) {
    uint32_t subprograms = 0;
    if (opt_.call_rate > 0 && total >= 48) subprograms = src_.below(kMaxSubprograms + 1);
    functions_.resize(subprograms + 1);
    for (auto& f : functions_)
      f.label = b_.new_label();
    for (uint32_t i = 1; i <= subprograms; ++i)
      functions_[src_.below(i)].must_call.push_back(i);
    for (uint32_t i = subprograms; i >= 1; --i) {
      for (uint32_t c : functions_[i].must_call)
        functions_[i].cost += functions_[c].cost;
    }
    functions_[0].cost = kEntryCost;
  }

  // One function: its setup, steps until its slots run out, the calls it
  // still owes, exit. `end` is the slot the function must end before.
  void function(uint32_t index, std::size_t end) {
    fn_ = index;
    Function& f = functions_[index];
    st_ = State{};
    const Kind arg1 = mem_size_ > 0 ? Kind::Mem : Kind::Scalar;
    if ((index == 0 && tail_calls()) || index == target_) {
      // Only r1: a tail call restarts the program (or enters the target)
      // through a prologue that may set nothing else (see tail_call()).
    } else if (index == 0) {
      // The rewrite's prologue: r1 = memory (or 0), r2 = its size, the rest 0.
      for (auto& r : st_.regs)
        r = {Kind::Scalar, 0};
    } else {
      for (uint8_t r = 2; r <= 5; ++r)
        st_.regs[r] = {Kind::Scalar, 0};
    }
    st_.regs[1] = {arg1, 0};
    protected_ = 0;
    locked_ = 0;
    depth_ = 0;
    loop_depth_ = 0;
    loops_ = 0;
    owed_ = f.must_call;
    cost_left_ = f.cost;
    for (uint32_t c : owed_)
      cost_left_ -= functions_[c].cost;
    if (index == 0) {
      entry_start_ = b_.size();
      owed_calls_cost_ = 0;
      restarts_charged_ = 0;
      prefix_charged_ = 0;
    }

    pin_ = kNoReg;
    if (mem_size_ > 0) {
      // A callee-saved copy of the memory pointer: calls clobber r1.
      pin_ = static_cast<uint8_t>(6 + src_.below(4));
      b_.emit(isa::encode(Form::mov_reg, pin_, 1));
      set(pin_, {Kind::Mem, 0});
      protected_ = static_cast<uint16_t>(1u << pin_);
    }
    init_stack(index == 0 ? 2 + src_.below(7) : 2 + src_.below(3));
    // One slot for the exit, one for making r0 a scalar before it.
    limit_ = std::max(end, b_.size() + 2) - 2;
    preload_registers((limit_ - b_.size()) / 5);

    reserve_ = owed_.size() * kCallSlots;
    steps_start_ = b_.size();
    steps_start_cost_ = cost_left_;
    while (room() >= kMaxStepSlots && cost_left_ >= static_cast<int64_t>(kMaxStepSlots) * 2)
      step();
    flush(depth_);
    limit_ += reserve_;
    reserve_ = 0;
    while (!owed_.empty()) {
      const uint32_t callee = owed_.back();
      owed_.pop_back();
      emit_call(callee);
    }
    if (index != 0 || tail_calls()) make_r0_scalar();
    b_.emit(isa::encode(Form::exit));
  }

  // The arena [-8 * slots, 0): every stack access goes here, and it is
  // written before anything can read it (the kernel's stack is not zeroed).
  void init_stack(uint32_t slots) {
    arena_ = 8 * static_cast<int32_t>(slots);
    for (int32_t off = -8; off >= -arena_; off -= 8) {
      const std::optional<uint8_t> s = any_scalar();
      if (s && src_.chance(0.5)) {
        b_.emit(isa::encode(Form::stxdw, kFp, *s, static_cast<int16_t>(off)));
      } else {
        b_.emit(isa::encode(Form::stdw, kFp, 0, static_cast<int16_t>(off), draw_imm(src_)));
      }
    }
  }

  // Boundary values in registers, so the first ALU ops see rich inputs.
  void preload_registers(std::size_t max_slots) {
    const std::size_t stop = b_.size() + max_slots;
    for (uint8_t r = 0; r < kFp; ++r) {
      if (r == 1 || r == pin_ || b_.size() + 2 > stop) continue;
      if (!src_.chance(0.5)) continue;
      if (src_.chance(0.5)) {
        b_.emit_lddw(r, scalar_value(src_));
      } else {
        b_.emit(isa::encode(Form::mov_imm, r, 0, 0, draw_imm(src_)));
      }
      set(r, {Kind::Scalar, 0});
    }
  }

  std::size_t room() const {
    const std::size_t used = b_.size() + reserve_;
    return limit_ > used ? limit_ - used : 0;
  }

  void step() {
    const std::size_t before = b_.size();
    bool done = false;
    if (loop_depth_ < kMaxLoopDepth && loops_ < kMaxLoopsPerFunction && src_.chance(opt_.loop_rate)) {
      done = loop();
      loops_ += done;
    }
    if (!done && depth_ == 0 && !owed_.empty() && src_.chance(0.3)) done = owed_call();
    if (!done && calls_allowed_here() && src_.chance(opt_.call_rate)) done = optional_call();
    if (!done && calls_allowed_here() && src_.chance(opt_.helper_rate)) done = helper_call();
    if (!done && !maps_.empty() && calls_allowed_here() && src_.chance(opt_.map_rate))
      done = map_call(room());
    if (!done && fn_ == 0 && loop_depth_ == 0 && tail_calls() && src_.chance(opt_.tail_call_rate)) {
      // A restart must fit the entry's bound; a tail call into the target
      // ends the chain and needs nothing more of it.
      const bool restart = restarts_fit();
      done = tail_call(room(), restart);
      if (done && restart) charge_restarts();
    }
    for (int attempt = 0; !done && attempt < 4; ++attempt) {
      const bool control = src_.chance(kControlRate);
      done = emit_form(src_.pick(std::span<const Form>(control ? control_forms_ : straight_forms_)));
    }
    if (!done) {
      const uint8_t dst = writable(Kind::Scalar);
      b_.emit(isa::encode(Form::mov_imm, dst, 0, 0, draw_imm(src_)));
      set(dst, {Kind::Scalar, 0});
    }
    if (!loop_just_closed_) cost_left_ -= static_cast<int64_t>(b_.size() - before);
    loop_just_closed_ = false;
    tick();
  }

  // A tail call to index 0 restarts the program, up to kMaxTailCalls times
  // in one run wherever the calls are, and each restart runs at most what
  // the entry has run up to its furthest tail call. So the part of that
  // prefix not yet charged is charged kMaxTailCalls times to the entry's
  // bound. The prefix: the set-up slots before the first step, what the
  // steps charged since (loops by their turns, optional calls by their
  // callees' bounds), and the bounds of the owed calls already made.
  int64_t tail_call_prefix() const {
    return steps_start_cost_ - cost_left_ - restarts_charged_ + owed_calls_cost_ +
           static_cast<int64_t>(steps_start_ - entry_start_);
  }
  bool restarts_fit() const {
    const int64_t extra = (tail_call_prefix() - prefix_charged_) * int64_t{vm::kMaxTailCalls};
    return extra + 2 * static_cast<int64_t>(kMaxStepSlots) <= cost_left_;
  }
  void charge_restarts() {
    const int64_t prefix = tail_call_prefix();
    const int64_t extra = (prefix - prefix_charged_) * int64_t{vm::kMaxTailCalls};
    cost_left_ -= extra;
    restarts_charged_ += extra;
    prefix_charged_ = prefix;
  }

  // ---- labels -------------------------------------------------------------------

  // Jumps to a forward label carry the state they leave, met at the label.
  Label forward(uint32_t steps) {
    const Label l = b_.new_label();
    pending_.add(l, steps, depth_, st_);
    return l;
  }

  void place(const ForwardLabels<State>::Entry& e) {
    b_.place(e.label);
    st_ = meet(st_, e.extra);
  }

  void tick() {
    pending_.tick(depth_, [this](const auto& e) { place(e); });
  }

  void flush(int depth) {
    pending_.flush(depth, [this](const auto& e) { place(e); });
  }

  // ---- loops ----------------------------------------------------------------------

  // `counter = N; head: body; counter -= 1; if counter > 0 goto head`, with
  // the counter in r6..r9 (calls preserve them). The body runs at least once.
  bool loop() {
    const auto picked = pick_loop_counter(src_, [this](uint8_t r) { return can_write(r, Kind::Scalar); });
    if (!picked) return false;
    const uint8_t counter = *picked;
    // The body may not write the counter nor the pointers the head holds;
    // keep at least three registers it can write.
    uint16_t body_protected = static_cast<uint16_t>(protected_ | (1u << counter));
    for (uint8_t r = 0; r < kFp; ++r) {
      const Kind k = st_.regs[r].kind;
      if (r != counter && (k == Kind::Mem || k == Kind::Stack))
        body_protected = static_cast<uint16_t>(body_protected | (1u << r));
    }
    if (__builtin_popcount(~body_protected & 0x3ffu) < 3) return false;
    auto turns = 1 + src_.below(kMaxLoopIterations);
    constexpr int64_t kMinBody = 3 * kMaxStepSlots;
    while (turns > 1 && cost_left_ / turns < kMinBody + 2)
      --turns;
    if (cost_left_ / turns < kMinBody + 2) return false;

    // Calls in the body clobber r1..r5; restoring them before the back edge
    // takes up to two slots each.
    const bool body_calls = src_.chance(0.5);
    std::size_t repair = 0;
    if (body_calls) {
      for (uint8_t r = 1; r <= 5; ++r) {
        const Kind k = st_.regs[r].kind;
        repair += k == Kind::Scalar ? 1 : (k == Kind::Mem || k == Kind::Stack) ? 2 : 0;
      }
    }
    constexpr std::size_t kClosing = 2;
    if (room() < 1 + kMaxStepSlots + kClosing + repair) return false;

    b_.emit(
        isa::encode(loop_counter_init(src_, opt_.isa_version), counter, 0, 0, static_cast<int32_t>(turns)));
    set(counter, {Kind::Scalar, 0});
    const Label head = b_.new_label();
    b_.place(head);
    const State at_head = st_;

    const std::size_t saved_limit = limit_;
    const uint16_t saved_protected = protected_;
    const uint16_t saved_locked = locked_;
    const bool saved_calls = body_calls_;
    const int64_t saved_cost = cost_left_ - 1;
    limit_ = b_.size() + reserve_ + std::min(room() - kClosing - repair, kMaxLoopBody);
    protected_ = body_protected;
    // The body is generated against the head's state, so each turn must
    // leave every register the body may rely on as it found it: scalars stay
    // scalars (calls aside: r1..r5 are restored below), pointers are not written.
    for (uint8_t r = 0; r < kFp; ++r) {
      if (at_head.regs[r].kind == Kind::Scalar) locked_ = static_cast<uint16_t>(locked_ | (1u << r));
    }
    body_calls_ = body_calls;
    const int64_t body_cost = saved_cost / turns - static_cast<int64_t>(kClosing);
    cost_left_ = body_cost;
    ++depth_;
    ++loop_depth_;
    const uint32_t steps = 1 + src_.below(6);
    for (uint32_t i = 0; i < steps && room() >= kMaxStepSlots && cost_left_ >= 2 * int64_t{kMaxStepSlots};
         ++i)
      step();
    flush(depth_);
    --depth_;
    --loop_depth_;
    const int64_t body_used = body_cost - cost_left_;
    protected_ = saved_protected;
    locked_ = saved_locked;
    body_calls_ = saved_calls;
    limit_ = saved_limit;

    for (uint8_t r = 1; r <= 5; ++r) {
      if (st_.regs[r] != at_head.regs[r] && usable(at_head.regs[r])) restore(r, at_head.regs[r]);
    }

    emit_loop_back_edge(b_, src_, branches_.loop_closers, counter, head);
    cost_left_ = saved_cost - static_cast<int64_t>(turns) * (body_used + static_cast<int64_t>(kClosing) + 5);
    loop_just_closed_ = true;
    return true;
  }

  // Puts back what register r held at a loop head (after a call clobbered it).
  void restore(uint8_t r, Reg v) {
    switch (v.kind) {
      case Kind::Scalar:
        b_.emit(isa::encode(Form::mov_imm, r, 0, 0, draw_imm(src_)));
        break;
      case Kind::Mem:
        b_.emit(isa::encode(Form::mov_reg, r, pin_));
        if (v.off != 0) b_.emit(isa::encode(Form::add_imm, r, 0, 0, v.off));
        break;
      case Kind::Stack:
        b_.emit(isa::encode(Form::mov_reg, r, kFp));
        if (v.off != 0) b_.emit(isa::encode(Form::add_imm, r, 0, 0, v.off));
        break;
      case Kind::Unset:
      case Kind::Mixed:
        return;
    }
    set(r, v);
  }

  // ---- calls ------------------------------------------------------------------------

  bool calls_allowed_here() const { return loop_depth_ == 0 || body_calls_; }

  bool owed_call() {
    if (room() < kCallSlots) return false;
    const uint32_t callee = owed_.back();
    owed_.pop_back();
    reserve_ -= kCallSlots;
    owed_calls_cost_ += functions_[callee].cost + static_cast<int64_t>(kCallSlots);
    emit_call(callee);
    return true;
  }

  // A call to a later subprogram whose run fits in what is left.
  bool optional_call() {
    const auto count = static_cast<uint32_t>(functions_.size());
    if (fn_ + 1 >= count || room() < kCallSlots) return false;
    const uint32_t callee = fn_ + 1 + src_.below(count - fn_ - 1);
    const int64_t cost = functions_[callee].cost + static_cast<int64_t>(kCallSlots);
    if (cost_left_ < cost + 2 * static_cast<int64_t>(kMaxStepSlots)) return false;
    cost_left_ -= functions_[callee].cost;
    emit_call(callee);
    return true;
  }

  // Every subprogram expects r1 = the memory (or a scalar without memory)
  // and scalars in r2..r5.
  void emit_call(uint32_t callee) {
    const Reg want1 = mem_size_ > 0 ? Reg{Kind::Mem, 0} : Reg{Kind::Scalar, 0};
    if (want1.kind == Kind::Mem ? st_.regs[1] != want1 : st_.regs[1].kind != Kind::Scalar) {
      if (want1.kind == Kind::Mem) {
        b_.emit(isa::encode(Form::mov_reg, 1, pin_));
      } else {
        b_.emit(isa::encode(Form::mov_imm, 1, 0, 0, draw_imm(src_)));
      }
      set(1, want1);
    }
    for (uint8_t r = 2; r <= 5; ++r) {
      if (st_.regs[r].kind == Kind::Scalar) continue;
      b_.emit(isa::encode(Form::mov_imm, r, 0, 0, draw_imm(src_)));
      set(r, {Kind::Scalar, 0});
    }
    b_.emit_call(functions_[callee].label);
    clobber_after_call();
  }

  void clobber_after_call() {
    set(0, {Kind::Scalar, 0});
    for (uint8_t r = 1; r <= 5; ++r)
      set(r, {});
  }

  // ktime_get_ns or get_prandom_u32, its result reduced to 0 at once: the
  // values differ between the kernel and our VM, the reduction does not
  // (ktime < 2^63, prandom < 2^32).
  bool helper_call() {
    if (room() < 2) return false;
    const bool ktime = src_.chance(0.5);
    b_.emit_helper_call(ktime ? kKtimeGetNsHelper : kGetPrandomU32Helper);
    clobber_after_call();
    switch (src_.below(3)) {
      case 0:
        b_.emit(isa::encode(Form::rsh_imm, 0, 0, 0, ktime ? 63 : 32 + static_cast<int32_t>(src_.below(32))));
        break;
      case 1:
        b_.emit(isa::encode(Form::and_imm, 0, 0, 0, 0));
        break;
      default:
        b_.emit(isa::encode(src_.chance(0.5) ? Form::mul_imm : Form::mul32_imm, 0, 0, 0, 0));
        break;
    }
    return true;
  }

  // ---- one form -----------------------------------------------------------------------

  bool emit_form(Form f) {
    const FormInfo& fi = isa::info(f);
    const isa::Semantics& s = fi.sem;
    switch (s.family) {
      case Family::Alu:
        return emit_alu(f);
      case Family::Endian:
        b_.emit(isa::encode(f, scalar_dest()));
        return true;
      case Family::Jump:
        return s.cond == isa::JmpCond::Always ? emit_diamond(f) : emit_cond_jump(f);
      case Family::Call:
        if (s.call == isa::CallKind::Local) return calls_allowed_here() && optional_call();
        if (s.call == isa::CallKind::Helper)
          return opt_.helper_rate > 0 && calls_allowed_here() && helper_call();
        return false;
      case Family::Exit:
        return emit_exit();
      case Family::Lddw: {
        const uint8_t dst = writable(Kind::Scalar);
        b_.emit_lddw(dst, scalar_value(src_));
        set(dst, {Kind::Scalar, 0});
        return true;
      }
      case Family::Load:
      case Family::LoadSigned: {
        const MemRef m = address(isa::bytes_of(s.size), false);
        const uint8_t dst = writable(Kind::Scalar);
        b_.emit(isa::encode(f, dst, m.base, m.off));
        set(dst, {Kind::Scalar, 0});
        return true;
      }
      case Family::StoreImm: {
        const MemRef m = address(isa::bytes_of(s.size), false);
        b_.emit(isa::encode(f, m.base, 0, m.off, draw_imm(src_)));
        return true;
      }
      case Family::StoreReg: {
        const uint8_t value = scalar_source();
        avoid_ = static_cast<uint16_t>(1u << value);
        const MemRef m = address(isa::bytes_of(s.size), false);
        avoid_ = 0;
        b_.emit(isa::encode(f, m.base, value, m.off));
        return true;
      }
      case Family::Atomic:
        return emit_atomic(f);
      case Family::PacketLoad:
        return false;
    }
    return false;
  }

  int32_t shift_imm(isa::Width w) {
    const int32_t width = w == isa::Width::W64 ? 64 : 32;
    const int32_t imm = draw_imm(src_);
    return ((imm % width) + width) % width;
  }

  bool emit_alu(Form f) {
    const isa::Semantics& s = isa::info(f).sem;
    const bool wide = s.width == isa::Width::W64;
    if (s.alu == isa::AluOp::Mov) {
      if (s.source == isa::Source::Imm) {
        const uint8_t dst = writable(Kind::Scalar);
        b_.emit(isa::encode(f, dst, 0, 0, draw_imm(src_)));
        set(dst, {Kind::Scalar, 0});
        return true;
      }
      // A 64-bit copy may copy a pointer (r10 included); 32-bit and
      // sign-extending moves would expose its bits, so they take scalars.
      if (f == Form::mov_reg && src_.chance(0.3)) {
        const std::optional<uint8_t> p = any_of(src_.chance(0.5) ? Kind::Mem : Kind::Stack);
        if (p) {
          const Reg v = reg(*p);
          const uint8_t dst = writable(v.kind);
          if (!can_write(dst, v.kind)) return false;
          b_.emit(isa::encode(f, dst, *p));
          set(dst, v);
          return true;
        }
      }
      const uint8_t from = scalar_source();
      const uint8_t dst = writable(Kind::Scalar);
      b_.emit(isa::encode(f, dst, from));
      set(dst, {Kind::Scalar, 0});
      return true;
    }
    // Moving a pointer by a constant keeps it a pointer the verifier tracks.
    if ((s.alu == isa::AluOp::Add || s.alu == isa::AluOp::Sub) && wide && s.source == isa::Source::Imm &&
        src_.chance(0.25) && move_pointer(s.alu == isa::AluOp::Sub)) {
      return true;
    }
    if (s.alu == isa::AluOp::Neg) {
      b_.emit(isa::encode(f, scalar_dest()));
      return true;
    }
    if (s.source == isa::Source::Reg) {
      const uint8_t from = scalar_source();
      const uint8_t dst = scalar_dest();
      if (reg(from).kind != Kind::Scalar) return false;
      b_.emit(isa::encode(f, dst, from));
      return true;
    }
    int32_t imm = draw_imm(src_);
    const isa::AluOp op = s.alu;
    if (op == isa::AluOp::Lsh || op == isa::AluOp::Rsh || op == isa::AluOp::Arsh) {
      imm = shift_imm(s.width);  // the verifier refuses constant shifts by the width or more
    } else if ((op == isa::AluOp::Div || op == isa::AluOp::Mod || op == isa::AluOp::Sdiv ||
                op == isa::AluOp::Smod) &&
               imm == 0) {
      imm = 1 + static_cast<int32_t>(src_.below(255));  // "div by zero" for constants
    }
    b_.emit(isa::encode(f, scalar_dest(), 0, 0, imm));
    return true;
  }

  // `add/sub rP, k` on a Mem or Stack register, keeping it within its area.
  bool move_pointer(bool sub) {
    const bool mem = mem_size_ > 0 && src_.chance(0.5);
    const std::optional<uint8_t> p = any_of(mem ? Kind::Mem : Kind::Stack);
    if (!p || *p == kFp || !can_write(*p, Kind::Mixed)) return false;
    const Reg v = reg(*p);
    const int64_t lo = mem ? 0 : -arena_;
    const int64_t hi = mem ? mem_size_ : 0;
    const auto target = static_cast<int32_t>(src_.range(lo, hi));
    const int32_t delta = target - v.off;
    sub = sub && v.kind == Kind::Mem;  // the verifier prohibits subtraction from a stack pointer
    b_.emit(isa::encode(sub ? Form::sub_imm : Form::add_imm, *p, 0, 0, sub ? -delta : delta));
    set(*p, {v.kind, target});
    return true;
  }

  bool emit_cond_jump(Form f) {
    const uint8_t dst = scalar_source();
    if (isa::info(f).sem.source == isa::Source::Reg) {
      const uint8_t other = scalar_source();
      b_.emit_jump(f, dst, other, 0, forward(1 + src_.below(4)));
      return true;
    }
    // The target before the immediate: the order g++ gave the two draws when
    // they were arguments of one call (unspecified in C++, so clang drew them
    // the other way round and its programs differed), now the same everywhere.
    const Label target = forward(1 + src_.below(4));
    b_.emit_jump(f, dst, 0, draw_imm(src_), target);
    return true;
  }

  // `if c goto else; A; ja/gotol end; else: B; end:` -- the only way an
  // unconditional jump appears, so what follows it is always a jump target.
  bool emit_diamond(Form f) {
    if (room() < 2 * kMaxStepSlots + 3 || branches_.cond_jumps.empty()) return false;
    const Form c = src_.pick(std::span<const Form>(branches_.cond_jumps));
    const uint8_t dst = scalar_source();
    const Label else_label = b_.new_label();
    const Label end_label = b_.new_label();
    const JumpOperand o = draw_jump_operand(src_, c, [this] { return scalar_source(); });
    b_.emit_jump(c, dst, o.reg, o.imm, else_label);
    const State at_branch = st_;
    ++depth_;
    const std::size_t saved_limit = limit_;
    limit_ = b_.size() + reserve_ + (room() - 1) / 2;
    if (room() >= kMaxStepSlots) step();
    flush(depth_);
    limit_ = saved_limit - 1;
    b_.emit_jump(f, 0, 0, 0, end_label);
    const State after_then = st_;
    b_.place(else_label);
    st_ = at_branch;
    if (room() >= kMaxStepSlots) step();
    flush(depth_);
    limit_ = saved_limit;
    --depth_;
    b_.place(end_label);
    st_ = meet(st_, after_then);
    return true;
  }

  // A conditional return: `if c goto skip; exit; skip:`. A subprogram
  // returns a scalar.
  bool emit_exit() {
    if (room() < 4 || branches_.cond_jumps.empty()) return false;
    const Form c = src_.pick(std::span<const Form>(branches_.cond_jumps));
    const uint8_t dst = scalar_source();
    const Label skip = b_.new_label();
    const JumpOperand o = draw_jump_operand(src_, c, [this] { return scalar_source(); });
    b_.emit_jump(c, dst, o.reg, o.imm, skip);
    const State at_branch = st_;
    // The entry's r0 is set by the full-state prologue, except in a program
    // with tail calls, whose minimal prologue sets only r1 (and a failed
    // tail call leaves r0 unset).
    if (fn_ != 0 || tail_calls()) make_r0_scalar();
    b_.emit(isa::encode(Form::exit));
    b_.place(skip);
    st_ = at_branch;
    return true;
  }

  void make_r0_scalar() {
    if (st_.regs[0].kind == Kind::Scalar) return;
    if (auto s = any_scalar(); s && src_.chance(0.5)) {
      b_.emit(isa::encode(Form::mov_reg, 0, *s));
    } else {
      b_.emit(isa::encode(Form::mov_imm, 0, 0, 0, draw_imm(src_)));
    }
    set(0, {Kind::Scalar, 0});
  }

  bool emit_atomic(Form f) {
    const FormInfo& fi = isa::info(f);
    const unsigned n = isa::bytes_of(fi.sem.size);
    const bool cmpxchg = fi.sem.atomic == isa::AtomicOp::Cmpxchg;
    if (cmpxchg && (st_.regs[0].kind != Kind::Scalar || !can_write(0, Kind::Scalar))) {
      if (!can_write(0, Kind::Scalar)) return false;
      b_.emit(isa::encode(Form::mov_imm, 0, 0, 0, draw_imm(src_)));
      set(0, {Kind::Scalar, 0});
    }
    // Fetching forms write the old value into src (cmpxchg into r0).
    const bool writes_src = fi.rules.src == isa::RegRule::Writable;
    const uint8_t value = writes_src ? scalar_dest() : scalar_source();
    avoid_ = static_cast<uint16_t>((1u << value) | (cmpxchg ? 1u : 0u));
    const MemRef m = address(n, true);
    avoid_ = 0;
    b_.emit(isa::encode(f, m.base, value, m.off));
    if (writes_src) set(value, {Kind::Scalar, 0});
    if (cmpxchg) set(0, {Kind::Scalar, 0});
    return true;
  }

  const std::vector<Form> forms_;
  std::vector<Form> control_forms_;   // jumps and exit
  std::vector<Form> straight_forms_;  // the rest
  const BranchForms branches_;
  std::vector<Function> functions_;
  ForwardLabels<State> pending_;
  std::vector<uint32_t> owed_;  // subprograms the current function still has to call
  uint32_t fn_ = 0;
  uint32_t target_ = UINT32_MAX;  // the tail-call target's function index, once placed
  std::size_t limit_ = 0;
  std::size_t reserve_ = 0;  // slots kept for the calls still owed
  // What the current scope may still run, counted in instructions: each
  // emitted slot once per turn of the loops around it, a call as its
  // callee's bound. Keeps every run well inside the instruction budget.
  int64_t cost_left_ = 0;
  // Tail-call restarts (restarts_fit): where the entry's slots begin, what
  // the restarts have cost, and the prefix they were charged for.
  std::size_t entry_start_ = 0;
  std::size_t steps_start_ = 0;
  int64_t steps_start_cost_ = 0;
  int64_t owed_calls_cost_ = 0;
  int64_t restarts_charged_ = 0;
  int64_t prefix_charged_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  int loops_ = 0;  // opened in the current function
  bool body_calls_ = false;
  bool loop_just_closed_ = false;
};

}  // namespace

bool kernel_friendly(isa::Form form) {
  const isa::Semantics& s = isa::info(form).sem;
  if (s.family == Family::Call) return s.call != isa::CallKind::Indirect;
  if (s.family == Family::Lddw) return s.lddw == isa::LddwKind::Imm64;
  return s.family != Family::PacketLoad;
}

std::vector<isa::Form> kernel_friendly_forms(isa::IsaVersion version) {
  return forms_of_version(version, kernel_friendly);
}

GeneratedCase generate_kernel_friendly(ByteSource& src, const KernelFriendlyOptions& opt) {
  return KernelFriendlyGenerator(src, opt).run();
}

isa::IsaVersion isa_version_for_kernel(std::string_view release) {
  return oracle::kernel::kernel_release_at_least(release, 6, 6) ? isa::IsaVersion::V4 : isa::IsaVersion::V3;
}

}  // namespace bpfdiff::fuzz
