#include "fuzz/verifier_mutate.hpp"

#include <array>
#include <optional>
#include <span>

#include "fuzz/values.hpp"
#include "oracle/engine.hpp"
#include "oracle/interp_engine.hpp"
#include "vm/isa/encode.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::Family;
using isa::Form;
using isa::JmpCond;
using isa::Semantics;

// The form whose semantics are exactly `s`, if the ISA version has one.
std::optional<Form> form_with(const Semantics& s, isa::IsaVersion version) {
  for (const isa::FormInfo& fi : isa::all_forms()) {
    if (fi.sem == s && static_cast<uint8_t>(fi.version) <= static_cast<uint8_t>(version)) return fi.form;
  }
  return std::nullopt;
}

// Pairs that swap: signed with unsigned, strict with non-strict.
constexpr std::array<std::pair<JmpCond, JmpCond>, 4> kSignedness = {{{JmpCond::Gt, JmpCond::Sgt},
                                                                     {JmpCond::Ge, JmpCond::Sge},
                                                                     {JmpCond::Lt, JmpCond::Slt},
                                                                     {JmpCond::Le, JmpCond::Sle}}};
constexpr std::array<std::pair<JmpCond, JmpCond>, 4> kStrictness = {{{JmpCond::Gt, JmpCond::Ge},
                                                                     {JmpCond::Lt, JmpCond::Le},
                                                                     {JmpCond::Sgt, JmpCond::Sge},
                                                                     {JmpCond::Slt, JmpCond::Sle}}};

JmpCond swap_in(std::span<const std::pair<JmpCond, JmpCond>> pairs, JmpCond c) {
  for (const auto& [a, b] : pairs) {
    if (c == a) return b;
    if (c == b) return a;
  }
  return c;
}

// An operation of the same group: bitwise, shifts, divisions, add/sub/mul.
isa::AluOp sibling(isa::AluOp op, ByteSource& src) {
  using isa::AluOp;
  static constexpr std::array<std::array<AluOp, 4>, 4> kGroups = {
      {{AluOp::And, AluOp::Or, AluOp::Xor, AluOp::And},
       {AluOp::Lsh, AluOp::Rsh, AluOp::Arsh, AluOp::Rsh},
       {AluOp::Div, AluOp::Mod, AluOp::Sdiv, AluOp::Smod},
       {AluOp::Add, AluOp::Sub, AluOp::Mul, AluOp::Add}}};
  for (const auto& group : kGroups) {
    for (AluOp member : group) {
      if (member == op) return group[src.below(4)];
    }
  }
  return op;
}

int32_t nudge(int32_t v, ByteSource& src) {
  if (src.chance(0.25)) return draw_imm(src);
  const auto d = static_cast<int32_t>(1 + src.below(8));
  return static_cast<int32_t>(static_cast<uint32_t>(v) + static_cast<uint32_t>(src.chance(0.5) ? d : -d));
}

// One edit of the slot at pc, or nothing when the slot has no edit that applies.
std::optional<isa::RawInsn> edit(const isa::RawInsn& insn, ByteSource& src, isa::IsaVersion version) {
  const std::optional<Form> form = isa::find_form(insn);
  if (!form) return std::nullopt;
  Semantics s = isa::info(*form).sem;
  isa::RawInsn out = insn;
  const auto reencode = [&](const Semantics& t) -> std::optional<isa::RawInsn> {
    const std::optional<Form> f = form_with(t, version);
    if (!f) return std::nullopt;
    isa::RawInsn r = isa::encode(*f, insn.dst, insn.src, insn.off, insn.imm);
    // Forms told apart by off (sdiv, movsx) take their discriminator from
    // the table; jumps keep their target.
    if (t.family == Family::Jump) r.off = insn.off;
    return r;
  };
  if (s.family == Family::Jump) {
    if (s.cond == JmpCond::Always) return std::nullopt;
    switch (src.below(4)) {
      case 0:
        if (s.source != isa::Source::Imm) return std::nullopt;
        out.imm = nudge(insn.imm, src);
        return out;
      case 1:
        s.width = s.width == isa::Width::W64 ? isa::Width::W32 : isa::Width::W64;
        return reencode(s);
      case 2:
        s.cond = swap_in(kSignedness, s.cond);
        return reencode(s);
      default:
        s.cond = swap_in(kStrictness, s.cond);
        return reencode(s);
    }
  }
  if (s.family == Family::Alu) {
    if (s.alu == isa::AluOp::Mov) {
      if (s.source == isa::Source::Imm) {
        out.imm = nudge(insn.imm, src);
        return out;
      }
      s.width = s.width == isa::Width::W64 ? isa::Width::W32 : isa::Width::W64;
      return reencode(s);
    }
    if (s.source == isa::Source::Imm && src.chance(0.5)) {
      out.imm = nudge(insn.imm, src);
      return out;
    }
    if (src.chance(0.3)) {
      s.width = s.width == isa::Width::W64 ? isa::Width::W32 : isa::Width::W64;
      return reencode(s);
    }
    s.alu = sibling(s.alu, src);
    return reencode(s);
  }
  if (s.family == Family::Load || s.family == Family::LoadSigned || s.family == Family::StoreImm ||
      s.family == Family::StoreReg) {
    if (src.chance(0.5)) {
      static constexpr std::array<int16_t, 6> kMoves = {1, -1, 4, -4, 8, -8};
      out.off = static_cast<int16_t>(insn.off + src.pick(std::span<const int16_t>(kMoves)));
      return out;
    }
    static constexpr std::array<isa::MemSize, 4> kSizes = {isa::MemSize::B, isa::MemSize::H, isa::MemSize::W,
                                                           isa::MemSize::DW};
    s.size = src.pick(std::span<const isa::MemSize>(kSizes));
    if (s.family == Family::Load && src.chance(0.2)) {
      s.family = Family::LoadSigned;
    } else if (s.family == Family::LoadSigned && src.chance(0.3)) {
      s.family = Family::Load;
    }
    return reencode(s);
  }
  return std::nullopt;
}

bool follows_helper_call(const isa::RawInsn& previous) {
  const std::optional<Form> form = isa::find_form(previous);
  if (!form) return false;
  const Semantics& s = isa::info(*form).sem;
  return s.family == Family::Call && s.call == isa::CallKind::Helper;
}

}  // namespace

vm::Program mutate_for_verifier(const vm::Program& program, ByteSource& src, isa::IsaVersion version,
                                std::size_t edits) {
  vm::Program out = program;
  if (out.slots.empty()) return out;
  const auto n = static_cast<uint32_t>(out.slots.size());
  for (std::size_t done = 0, tries = 0; done < edits && tries < 16 * edits; ++tries) {
    const uint32_t pc = src.below(n);
    // The second slot of an lddw is not an instruction.
    if (pc > 0 && isa::find_form(out.slots[pc - 1]) &&
        isa::info(*isa::find_form(out.slots[pc - 1])).slots == 2) {
      continue;
    }
    // The slot after a helper call reduces its result (a clock, a random
    // number) to a constant, since the kernel's value differs from our VM's;
    // an edit there makes the result observable, a difference no bug causes.
    if (pc > 0 && follows_helper_call(out.slots[pc - 1])) continue;
    const std::optional<isa::RawInsn> changed = edit(out.slots[pc], src, version);
    if (!changed) continue;
    const isa::RawInsn before = out.slots[pc];
    out.slots[pc] = *changed;
    if (!vm::validate(out, oracle::default_helpers())) {
      out.slots[pc] = before;
      continue;
    }
    ++done;
  }
  return out;
}

bool runs_past_budget(const vm::Program& program, std::span<const uint8_t> memory) {
  oracle::InterpEngine interp(oracle::default_helpers());
  oracle::EngineInput input;
  input.memory.assign(memory.begin(), memory.end());
  input.limits.instruction_budget = kGeneratedInstructionBudget;
  return interp.run(program, input).error.kind == vm::ErrorKind::BudgetExhausted;
}

GeneratedCase mutate_case_for_verifier(const GeneratedCase& parent, ByteSource& src,
                                       isa::IsaVersion version) {
  GeneratedCase out = parent;
  for (std::size_t attempt = 0;; ++attempt) {
    out.program = mutate_for_verifier(parent.program, src, version, 1 + src.below(3));
    if (attempt == kRunawayRedraws || !runs_past_budget(out.program, out.memory)) break;
    if (src.below(kRunawayMutantKeep) == 0) break;
  }
  out.program.name += "+mutant";
  return out;
}

}  // namespace bpfdiff::fuzz
