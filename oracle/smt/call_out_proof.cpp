#include "oracle/smt/call_out_proof.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <unordered_set>
#include <utility>

#include "oracle/smt/callx_counterexample.hpp"
#include "oracle/smt/helper_counterexample.hpp"
#include "oracle/smt/jit_proof_support.hpp"
#include "oracle/smt/mem_model.hpp"
#include "oracle/smt/read_over_write.hpp"
#include "oracle/smt/x86/shared_context.hpp"
#include "oracle/smt/x86/symexec.hpp"
#include "vm/isa/encode.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/jit/offsets.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::oracle::smt {
namespace {

using proof_support::hex;
using proof_support::kContext;
using proof_support::sets_error_status;
using proof_support::value_in;
using proof_support::x86_of;

namespace off = jit::offsets;

constexpr uint32_t kCallPc = 1;
constexpr uint32_t kSecondFunction = 3;
// The native stack below rsp the glue may use as scratch: seven saved
// registers (the budget r10, r0, r1..r5), up to 8 bytes of realignment, the
// saved rsp, 8 bytes of padding and the return address are 88 bytes; the
// rest is margin.
constexpr uint64_t kScratchBytes = 128;
// Slots above the trampoline's return address it must leave alone (its
// caller's frame: everything the glue pushed, and more).
constexpr unsigned kCallerSlots = 10;

struct Obligation {
  std::string what;
  z3::expr holds;
  std::size_t path;
  bool shows_in_a_run = true;  // a .data test's outcome can show it broken (helper_counterexample.hpp)
};

// The call instruction at `from` calls the trampoline in context field
// `field` when the instruction before it loads its target from there.
bool calls_context_field(const std::vector<x86::Instruction>& insns, uint32_t from, int32_t field) {
  for (std::size_t i = 1; i < insns.size(); ++i) {
    if (insns[i].offset != from) continue;
    const x86::Instruction& load = insns[i - 1];
    if (insns[i].mnemonic != ZYDIS_MNEMONIC_CALL || load.mnemonic != ZYDIS_MNEMONIC_MOV ||
        load.operands.size() != 2)
      return false;
    const x86::Operand& src = load.operands[1];
    return src.kind == x86::Operand::Kind::Mem && src.base == kContext && src.imm == field;
  }
  return false;
}

bool is_call(const std::vector<x86::Instruction>& insns, uint32_t from) {
  for (const x86::Instruction& i : insns)
    if (i.offset == from) return i.mnemonic == ZYDIS_MNEMONIC_CALL;
  return false;
}

// The terms `(rsp + k) & -16` in `e` (the glue's realignment of the native
// stack, rsp the proof's initial one), each with k.
void find_realignments(const z3::expr& e, const z3::expr& rsp, std::unordered_set<unsigned>& seen,
                       std::vector<std::pair<z3::expr, int64_t>>& out) {
  if (!e.is_app() || !seen.insert(e.id()).second) return;
  // Z3 writes the `and` as concat(extract[63:4](rsp + k), #x0) once simplified.
  std::optional<z3::expr> aligned;
  uint64_t mask = 0;
  if (e.decl().decl_kind() == Z3_OP_BAND && e.num_args() == 2 && e.arg(1).simplify().is_numeral_u64(mask) &&
      mask == ~uint64_t{15})
    aligned = e.arg(0);
  if (e.decl().decl_kind() == Z3_OP_CONCAT && e.num_args() == 2 && e.arg(1).is_numeral() &&
      e.arg(1).get_sort().bv_size() == 4 && e.arg(1).is_numeral_u64(mask) && mask == 0 && e.arg(0).is_app() &&
      e.arg(0).decl().decl_kind() == Z3_OP_EXTRACT && e.arg(0).hi() == 63 && e.arg(0).lo() == 4)
    aligned = e.arg(0).arg(0);
  uint64_t k = 0;
  if (aligned && aligned->get_sort().bv_size() == 64 && (*aligned - rsp).simplify().is_numeral_u64(k))
    out.emplace_back(e, static_cast<int64_t>(k));
  for (unsigned i = 0; i < e.num_args(); ++i)
    find_realignments(e.arg(i), rsp, seen, out);
}

// Whether `e` has one of `terms` as a subterm.
bool mentions(const z3::expr& e, const z3::expr_vector& terms, std::unordered_set<unsigned>& seen) {
  if (!seen.insert(e.id()).second) return false;
  for (const z3::expr& t : terms)
    if (z3::eq(e, t)) return true;
  if (!e.is_app()) return false;
  for (unsigned i = 0; i < e.num_args(); ++i)
    if (mentions(e.arg(i), terms, seen)) return true;
  return false;
}

// `memory` without its stores to rsp - 1 .. rsp - kScratchBytes.
z3::expr strip_scratch(const z3::expr& memory, const z3::expr& rsp) {
  if (!memory.is_app() || memory.decl().decl_kind() != Z3_OP_STORE) return memory;
  const z3::expr below = strip_scratch(memory.arg(0), rsp);
  uint64_t k = 0;
  if ((memory.arg(1) - rsp).simplify().is_numeral_u64(k) && k >= ~kScratchBytes + 1) return below;
  return z3::store(below, memory.arg(1), memory.arg(2));
}

}  // namespace

const char* to_string(CallOutUnit u) {
  switch (u) {
    case CallOutUnit::Helper:
      return "call helper";
    case CallOutUnit::Callx:
      return "callx";
  }
  return "?";
}

std::string describe(const CallOutCase& c) {
  std::string what = c.unit == CallOutUnit::Helper ? "call helper " + std::to_string(c.helper)
                                                   : "callx r" + std::to_string(c.reg);
  return what + " (max depth " + std::to_string(c.max_call_depth) + ") on " + jit::engine_name(c.options);
}

Result<CallOutSnippet> compile_call_out_snippet(const CallOutCase& c) {
  vm::Program program;
  program.slots.push_back(isa::encode(isa::Form::mov_reg, 0, 0));
  if (c.unit == CallOutUnit::Helper) {
    program.slots.push_back(isa::encode(isa::Form::call_helper, 0, 0, 0, static_cast<int32_t>(c.helper)));
  } else {
    program.slots.push_back(isa::encode(isa::Form::callx, c.reg));
  }
  program.slots.push_back(isa::encode(isa::Form::exit));
  program.slots.push_back(isa::encode(isa::Form::mov_reg, 0, 0));
  program.slots.push_back(isa::encode(isa::Form::exit));
  program.slots.push_back(
      isa::encode(isa::Form::lddw_code, 0, 0, 0, static_cast<int32_t>(kSecondFunction) - 6));
  program.slots.push_back(isa::RawInsn{});
  program.slots.push_back(isa::encode(isa::Form::exit));
  auto compiled = proof_support::compile_snippet(program, c.max_call_depth, c.options);
  if (!compiled) return make_error(describe(c) + ": " + compiled.error().message);
  const jit::JitProgram& jp = *compiled->jit;
  CallOutSnippet s;
  s.code.assign(jp.code().begin(), jp.code().end());
  s.insn_offsets = jp.insn_offsets();
  s.function_starts = compiled->loaded->function_starts;
  s.stubs_begin = jp.body_size();
  s.begin = s.insn_offsets[kCallPc];
  s.end = s.insn_offsets[kCallPc + 1];
  auto decoded = proof_support::decode_function(s.code, s.stubs_begin);
  if (!decoded) return make_error(describe(c) + ": " + decoded.error().message);
  s.insns = std::move(decoded->insns);
  s.exit_label = decoded->exit_label;
  return s;
}

ControlProof prove_call_out_snippet(const CallOutCase& c, const CallOutSnippet& s, unsigned timeout_ms) {
  const auto start = std::chrono::steady_clock::now();
  ControlProof proof;
  try {
    z3::context& ctx = x86::shared_context();
    const x86::Machine in = x86::Machine::symbolic(ctx);
    const z3::expr cp = in.gpr[kContext];
    const z3::expr rsp = in.gpr[x86::kRsp];
    const z3::expr& m0 = in.memory;
    std::array<z3::expr, isa::kNumRegisters> regs = proof_support::bpf_registers(in);
    const auto bv = [&](uint64_t v, unsigned bits = 64) { return ctx.bv_val(v, bits); };
    const auto at = [&](const z3::expr& base, uint64_t o) { return (base + bv(o)).simplify(); };
    const auto field_of = [&](const z3::expr& memory, int32_t o, unsigned bytes) {
      return mem::context_field(memory, cp, o, bytes);
    };
    const auto field = [&](int32_t o, unsigned bytes) { return field_of(m0, o, bytes); };
    const auto set_field = [&](const z3::expr& memory, int32_t o, const z3::expr& v) {
      return mem::write_le(memory, at(cp, static_cast<uint64_t>(o)), v);
    };
    const z3::expr depth = field(off::kDepth, 4);
    const z3::expr deepest = field(off::kDeepest, 4);
    const z3::expr budget = in.gpr[proof_support::kBudget];
    const z3::expr frames = field(off::kFrames, 8);
    const z3::expr regions = field(off::kRegions, 8);
    const z3::expr table = field(off::kFunctionCode, 8);
    const z3::expr stack_lo = at(regions, static_cast<uint64_t>(off::kStackLo));
    const uint64_t frame_bytes = sizeof(vm::CallFrame);
    const uint64_t slots = s.insn_offsets.size();
    const z3::expr scratch_base = (rsp - bv(kScratchBytes)).simplify();

    z3::expr_vector pre(ctx);
    pre.push_back(z3::ult(depth, bv(c.max_call_depth, 32)));
    // The native stack is 8-byte aligned wherever JIT code runs (entered by
    // a call from C++, then moved by pushes, calls and 8-byte adjustments).
    pre.push_back((rsp & bv(7)) == bv(0));
    const z3::expr delta = in.gpr[proof_support::kStackDelta];
    pre.push_back(delta == field(off::kStackDelta, 8));
    const std::array<std::pair<z3::expr, uint64_t>, 5> objects = {
        std::pair{cp, uint64_t{sizeof(jit::JitContext)}},
        std::pair{regions, uint64_t{sizeof(vm::Region) * vm::kMaxRegions}},
        std::pair{frames, uint64_t{frame_bytes * c.max_call_depth}}, std::pair{table, uint64_t{8 * slots}},
        std::pair{scratch_base, uint64_t{kScratchBytes + 8}}};
    for (const auto& [base, size] : objects)
      pre.push_back(z3::ule(base, bv(~uint64_t{0} - size)));
    for (std::size_t i = 0; i < objects.size(); ++i) {
      for (std::size_t j = i + 1; j < objects.size(); ++j) {
        const auto& [a, la] = objects[i];
        const auto& [b, lb] = objects[j];
        pre.push_back(z3::ule(a + bv(la), b) || z3::ule(b + bv(lb), a));
      }
    }
    // The code does not wrap around and is not at address 0 (the function
    // table's "no function here").
    pre.push_back(z3::ugt(x86::code_address(ctx, 0), bv(0)));
    pre.push_back(z3::ule(x86::code_address(ctx, 0), bv(~uint64_t{0} - s.code.size())));
    const auto is_start = [&](uint64_t slot) {
      return std::binary_search(s.function_starts.begin(), s.function_starts.end(), slot);
    };
    for (uint64_t slot = 0; slot < slots; ++slot) {
      const z3::expr entry = mem::read_le(m0, at(table, 8 * slot), 8);
      pre.push_back(entry == (is_start(slot) ? x86::code_address(ctx, s.insn_offsets[slot]) : bv(0)));
    }
    const auto extent = [](uint64_t bytes) { return static_cast<int64_t>(bytes); };
    const std::vector<DisjointObject> disjoint = {
        {cp, 0, extent(sizeof(jit::JitContext))},
        {regions.simplify(), 0, extent(sizeof(vm::Region) * vm::kMaxRegions)},
        {frames.simplify(), 0, extent(frame_bytes * c.max_call_depth)},
        {table.simplify(), 0, extent(8 * slots)},
        {rsp, -extent(kScratchBytes), 8}};

    const z3::expr probe = ctx.bv_const("probe", 64);
    // Host memory `a` is `b` everywhere but the glue's scratch below rsp
    // (both stores over `base`): stores into the scratch, at rsp - 1 ..
    // rsp - 128 once rsp's realignment is resolved (below), are dropped
    // from both, the rest compared store by store.
    const auto same_beyond_scratch = [&](const z3::expr& a, const z3::expr& b, const z3::expr& base) {
      return same_memory(strip_scratch(a, rsp), strip_scratch(b, rsp), base, probe);
    };

    // What the interpreter does with the value of callx's register.
    const z3::expr value = regs[c.reg];
    const z3::expr in_code =
        z3::lshr(value, bv(vm::kRegionShift)) == bv(static_cast<uint64_t>(vm::RegionId::Code));
    const z3::expr code_offset = value & bv(vm::kRegionOffsetMask);
    const z3::expr slot = z3::lshr(code_offset, bv(3));
    z3::expr names_start = ctx.bool_val(false);
    z3::expr start_code = bv(0);
    for (uint32_t f : s.function_starts) {
      names_start = names_start || slot == bv(f);
      start_code = z3::ite(slot == bv(f), x86::code_address(ctx, s.insn_offsets[f]), start_code);
    }
    const z3::expr local = in_code && (code_offset & bv(7)) == bv(0) && names_start;
    const z3::expr by_id = z3::ule(value, bv(0xffffffffu));
    const bool callx = c.unit == CallOutUnit::Callx;
    const z3::expr calls_helper = callx ? by_id : ctx.bool_val(true);
    const int32_t trampoline_field = callx ? off::kCallxTrampoline : off::kTrampoline;

    const auto error = [&](const z3::expr& memory, vm::ErrorKind kind, const z3::expr& address) {
      z3::expr m = set_field(memory, off::kStatus, bv(static_cast<uint32_t>(jit::JitStatus::Error), 32));
      m = set_field(m, off::kErrorKind, bv(static_cast<uint32_t>(kind), 32));
      m = set_field(m, off::kErrorPc, bv(kCallPc, 32));
      m = set_field(m, off::kErrorAddress, address);
      return set_field(m, off::kErrorSize, bv(0, 32));
    };
    const z3::expr deeper = depth + bv(1, 32);
    const z3::expr too_deep = z3::uge(deeper, bv(c.max_call_depth, 32));
    // The two faults callx may take before calling anything (the error exit).
    // The depth fault comes after the target is found: ctx.callx_target, the
    // JIT's own scratch field, then holds the function's code address.
    const z3::expr bad_target = !by_id && !local;
    const z3::expr faults = callx ? bad_target || (local && too_deep) : ctx.bool_val(false);
    const z3::expr fault_memory =
        z3::ite(bad_target, error(m0, vm::ErrorKind::BadCallTarget, value),
                error(set_field(m0, off::kCallxTarget, start_code), vm::ErrorKind::CallDepthExceeded, bv(0)));

    // The local call callx makes (interpreter.cpp call_local), and the
    // native call to the function's code.
    const z3::expr frame = (frames + z3::zext(depth, 32) * bv(frame_bytes)).simplify();
    z3::expr called = set_field(m0, off::kCallxTarget, start_code);
    for (unsigned i = 0; i < 4; ++i)
      called = mem::write_le(called, at(frame, offsetof(vm::CallFrame, callee_saved) + 8 * i), regs[6 + i]);
    called = mem::write_le(called, at(frame, offsetof(vm::CallFrame, r10)), regs[10]);
    called = mem::write_le(called, at(frame, offsetof(vm::CallFrame, return_pc)), bv(kCallPc + 1, 32));
    called = set_field(called, off::kDepth, deeper);
    called = set_field(called, off::kDeepest, z3::ite(z3::ugt(deeper, deepest), deeper, deepest));
    called = mem::write_le(called, stack_lo, mem::read_le(m0, stack_lo, 8) - bv(vm::kStackFrameBytes));
    called = mem::write_le(called, at(rsp, static_cast<uint64_t>(-8)),
                           x86::code_address(ctx, s.insn_offsets[kCallPc + 1]));

    std::vector<Obligation> obligations;
    std::size_t path = 0;
    // Per path after a helper call: the helper doing what the case's helper
    // does in a .data test's run (helper_counterexample.hpp); other paths
    // need nothing of it.
    const std::optional<TestRunHelper> test_helper = callx ? std::nullopt : helper_in_test_run(c.helper);
    std::map<std::size_t, z3::expr> helper_in_test;
    const auto registers = [&](const x86::Machine& out, const std::array<z3::expr, isa::kNumRegisters>& want,
                               const std::string& where, const z3::expr& when, bool shows = true) {
      for (uint8_t r = 0; r < isa::kNumRegisters; ++r)
        obligations.push_back({"r" + std::to_string(r) + " (" + x86::gpr_name(x86_of(r)) + ") " + where +
                                   " equals the interpreter's",
                               z3::implies(when, out.gpr[x86_of(r)] == want[r]), path, shows});
      obligations.push_back({"r12 (the JIT context) keeps its value " + where,
                             z3::implies(when, out.gpr[kContext] == cp), path, shows});
      // The budget r10 waits on the native stack while the helper runs.
      obligations.push_back({"r10 (the budget) keeps its value " + where,
                             z3::implies(when, out.gpr[proof_support::kBudget] == budget), path, shows});
    };
    const auto obligation = [&](std::string what, const z3::expr& when, const z3::expr& holds) {
      obligations.push_back({std::move(what), z3::implies(when, holds), path});
    };

    // Runs from `begin` through pc 1's code and on through the stubs and
    // the epilogue's tail-call and error paths, up to the exit label.
    const auto run = [&](uint32_t from, const x86::Machine& state) -> Result<std::vector<x86::PathExit>> {
      auto body = x86::execute_range(s.insns, from, s.end, state);
      if (!body) return body.error();
      std::vector<x86::PathExit> exits;
      for (x86::PathExit& e : *body) {
        if (e.target == x86::kIndirectTarget || e.target < s.stubs_begin || e.target >= s.exit_label) {
          exits.push_back(std::move(e));
          continue;
        }
        auto stub = x86::execute_range(s.insns, e.target, s.exit_label, e.state);
        if (!stub) return stub.error();
        for (x86::PathExit& f : *stub) {
          f.condition = e.condition && f.condition;
          exits.push_back(std::move(f));
        }
      }
      return exits;
    };

    auto first = run(s.begin, in);
    if (!first)
      return finish_proof(proof, start, ControlProof::Verdict::Error,
                          describe(c) + ": " + first.error().message);
    // The glue realigns rsp to 16 bytes with an `and`, which would leave
    // every address after it a bit-mask of rsp that no rewriting decides;
    // with rsp mod 16 fixed (0 or 8: each path twice), `(rsp + k) & -16` is
    // rsp + k - ((k + rsp mod 16) mod 16), a constant offset again.
    for (uint64_t low : {uint64_t{0}, uint64_t{8}})
      for (const x86::PathExit& unaligned : *first) {
        std::unordered_set<unsigned> seen;
        std::vector<std::pair<z3::expr, int64_t>> realigned;
        find_realignments(unaligned.condition, rsp, seen, realigned);
        find_realignments(unaligned.state.memory, rsp, seen, realigned);
        for (const z3::expr& g : unaligned.state.gpr)
          find_realignments(g, rsp, seen, realigned);
        if (unaligned.address) find_realignments(*unaligned.address, rsp, seen, realigned);
        z3::expr_vector from(ctx), to(ctx);
        for (const auto& [term, k] : realigned) {
          from.push_back(term);
          to.push_back(rsp + bv(static_cast<uint64_t>(k) - ((static_cast<uint64_t>(k) + low) & 15)));
        }
        const auto resolve = [&](const z3::expr& x) { return z3::expr(x).substitute(from, to).simplify(); };
        x86::PathExit e = unaligned;
        e.condition = resolve(unaligned.condition) && (rsp & bv(15)) == bv(low);
        e.state.memory = resolve(unaligned.state.memory);
        for (z3::expr& g : e.state.gpr)
          g = resolve(g);
        if (e.address) e.address = resolve(*e.address);
        const z3::expr& cond = e.condition;
        const x86::Machine& out = e.state;
        if (e.target == s.exit_label) {
          obligation("the code faults before calling anything only when the interpreter does", cond, faults);
          registers(out, regs, "at the fault", cond);
          obligation("rsp at the fault is the interpreter's native stack", cond, out.gpr[x86::kRsp] == rsp);
          obligation(
              "host memory at the fault (status, error kind, pc, address, size) equals the interpreter's",
              cond, same_memory(out.memory, fault_memory, m0, probe));
          ++path;
          continue;
        }
        if (e.target != x86::kIndirectTarget || !is_call(s.insns, e.from)) {
          obligation("a path leaves to code offset " + std::to_string(e.target) +
                         ", where the interpreter's rules never go",
                     cond, ctx.bool_val(false));
          ++path;
          continue;
        }
        if (!calls_context_field(s.insns, e.from, trampoline_field)) {
          // callx's local call.
          obligation("the code calls a function only when the interpreter's callx does", cond,
                     callx ? local && !too_deep : ctx.bool_val(false));
          std::array<z3::expr, isa::kNumRegisters> after = regs;
          after[10] = regs[10] - bv(vm::kStackFrameBytes);
          registers(out, after, "at the local call", cond);
          obligation("r9 at the local call is the stack delta", cond,
                     out.gpr[proof_support::kStackDelta] == delta);
          obligation("rsp at the local call is the interpreter's native stack less the return address", cond,
                     out.gpr[x86::kRsp] == rsp - bv(8));
          obligation("the local call goes to the code of the function the value names", cond,
                     *e.address == start_code);
          obligation(
              "host memory at the local call (frame, depth, deepest, stack bound, return address) equals "
              "the interpreter's",
              cond, same_memory(out.memory, called, m0, probe));
          ++path;
          continue;
        }

        // The trampoline: what it is given.
        const z3::expr crsp = out.gpr[x86::kRsp];
        obligation("the code calls the helper only when the interpreter does", cond, calls_helper);
        const uint8_t args[5] = {x86::kRdi, x86::kRsi, x86::kRdx, x86::kRcx, 8};
        for (uint8_t a = 0; a < 5; ++a)
          obligation("the helper's argument " + std::to_string(a + 1) + " (" + x86::gpr_name(args[a]) +
                         ") is r" + std::to_string(a + 1),
                     cond, out.gpr[args[a]] == regs[a + 1]);
        obligation("the trampoline's sixth argument (r9) is the JIT context", cond, out.gpr[9] == cp);
        obligation("the call goes to the trampoline in the context", cond,
                   *e.address == field(trampoline_field, 8));
        obligation("rsp + 8 is a multiple of 16 at the trampoline's entry (SysV)", cond,
                   ((crsp + bv(8)) & bv(15)) == bv(0));
        z3::expr given = set_field(m0, off::kPc, bv(kCallPc, 32));
        if (callx) given = set_field(given, off::kCallxValue, value);
        obligation("host memory the helper sees (ctx.pc" + std::string(callx ? ", ctx.callx_value" : "") +
                       ", nothing else but the native stack below rsp) is the interpreter's",
                   cond, same_beyond_scratch(out.memory, given, m0));
        ++path;

        // The helper, as SysV lets it be: anything but the callee-saved
        // registers, rsp after its ret, and its caller's frame.
        x86::Machine back = x86::Machine::symbolic(ctx, "helper_");
        for (uint8_t r : {x86::kRbx, x86::kRbp, uint8_t{12}, uint8_t{13}, uint8_t{14}, uint8_t{15}})
          back.gpr[r] = out.gpr[r];
        back.gpr[x86::kRsp] = crsp + bv(8);
        const z3::expr helper_memory = back.memory;
        for (unsigned i = 0; i < kCallerSlots; ++i) {
          const z3::expr slot_address = (crsp + bv(8 + 8 * i)).simplify();
          back.memory = mem::write_le(back.memory, slot_address, mem::read_le(out.memory, slot_address, 8));
        }
        const z3::expr m1 = back.memory;
        // The trampolines write the error fields and tail_target, never
        // ctx.stack_delta (r9 is reloaded from it after the call).
        pre.push_back(field_of(m1, off::kStackDelta, 8) == field(off::kStackDelta, 8));
        const z3::expr result = back.gpr[x86::kRax];
        const z3::expr failed = field_of(m1, off::kErrorKind, 4) != bv(0, 32);
        const z3::expr tail_target = field_of(m1, off::kTailTarget, 8);
        const z3::expr tail = !failed && tail_target != bv(0);
        std::array<z3::expr, isa::kNumRegisters> returned = regs;
        returned[0] = result;
        const z3::expr as_in_test = !test_helper ? ctx.bool_val(false)
                                    : test_helper->fails
                                        ? failed
                                        : !failed && !tail && result == bv(test_helper->result);

        uint32_t resume = 0;
        for (const x86::Instruction& i : s.insns)
          if (i.offset == e.from) resume = i.end();
        auto second = run(resume, back);
        if (!second)
          return finish_proof(proof, start, ControlProof::Verdict::Error,
                              describe(c) + ": " + second.error().message);
        for (const x86::PathExit& f : *second) {
          const z3::expr both = cond && f.condition;
          const x86::Machine& end = f.state;
          helper_in_test.insert_or_assign(path, as_in_test);
          obligation("rsp after the helper is the interpreter's native stack", both,
                     end.gpr[x86::kRsp] == rsp);
          if (f.target == s.exit_label) {
            obligation("the run ends with an error after the helper only when the helper failed", both,
                       failed);
            // A failed run reports its error, not its registers.
            registers(end, regs, "after the failed helper (r0 kept)", both, false);
            const z3::expr want =
                set_field(m1, off::kStatus, bv(static_cast<uint32_t>(jit::JitStatus::Error), 32));
            obligation("host memory after the failed helper is the helper's, status Error", both,
                       same_beyond_scratch(end.memory, want, helper_memory));
          } else if (f.target == s.end) {
            obligation("the code goes on to pc 2 only when the helper succeeded without a tail call", both,
                       !failed && !tail);
            registers(end, returned, "after the helper (r0 its result)", both);
            obligation("r9 after the helper is the stack delta", both,
                       end.gpr[proof_support::kStackDelta] == delta);
            obligation("host memory after the helper is the helper's", both,
                       same_beyond_scratch(end.memory, m1, helper_memory));
          } else if (f.target == x86::kIndirectTarget && !is_call(s.insns, f.from)) {
            obligation("the code jumps away only when the helper made a tail call", both, tail);
            obligation("the tail call jumps to the target the helper set", both, *f.address == tail_target);
            registers(end, returned, "at the tail call (r0 the helper's result, same frame)", both);
            obligation("r9 at the tail call is the stack delta", both,
                       end.gpr[proof_support::kStackDelta] == delta);
            obligation(
                "host memory at the tail call is the helper's with ctx.tail_target cleared", both,
                same_beyond_scratch(end.memory, set_field(m1, off::kTailTarget, bv(0)), helper_memory));
          } else {
            obligation("a path leaves to code offset " + std::to_string(f.target) +
                           " after the helper, where the interpreter's rules never go",
                       both, ctx.bool_val(false));
          }
          ++path;
        }
      }
    proof.paths = static_cast<unsigned>(path);

    // One query per x86 path and depth below the limit, as in call_proof:
    // with the depth a constant every frame address is a constant offset.
    z3::expr_vector depth_bytes(ctx);
    for (unsigned i = 0; i < 4; ++i)
      depth_bytes.push_back(z3::select(m0, at(cp, static_cast<uint64_t>(off::kDepth) + i)));
    // callx reads the function table at the slot its value names: a symbolic
    // index into host memory that no rewriting decides. So the values are
    // split too: outside the code region (no table read), each slot of the
    // program (value = code region | 8 * slot + low bits: the read is at a
    // constant offset) and the slots past the program's end.
    struct ValueClass {
      z3::expr_vector from, to;  // the substitution of callx's register
      std::optional<z3::expr> assumption;
    };
    std::vector<ValueClass> classes;
    classes.push_back({z3::expr_vector(ctx), z3::expr_vector(ctx), std::nullopt});
    if (callx) {
      classes.back().assumption = !in_code;
      const z3::expr low = ctx.bv_const("callx_low_bits", 3);
      const z3::expr code_region = bv(static_cast<uint64_t>(vm::RegionId::Code), 32);
      const auto value_class = [&](const z3::expr& slot_bits, std::optional<z3::expr> assumption) {
        ValueClass k{z3::expr_vector(ctx), z3::expr_vector(ctx), std::move(assumption)};
        k.from.push_back(value);
        k.to.push_back(z3::concat(code_region, z3::concat(slot_bits, low)));
        classes.push_back(std::move(k));
      };
      for (uint64_t k = 0; k < slots; ++k)
        value_class(bv(k, 29), std::nullopt);
      const z3::expr far = ctx.bv_const("callx_far_slot", 29);
      value_class(far, z3::uge(far, bv(slots, 29)));
    }
    const auto in_class = [](const ValueClass& k, const z3::expr& e) {
      return k.from.empty() ? e : z3::expr(e).substitute(k.from, k.to);
    };
    const auto make_solver = [&] {
      z3::solver solver(ctx, "QF_ABV");
      if (timeout_ms > 0) {
        z3::params params(ctx);
        params.set("timeout", timeout_ms);
        solver.set(params);
      }
      return solver;
    };
    // The paths after a helper call last: their queries (over the memory
    // the helper leaves) are the slowest, and a fault in callx's target
    // checks or local call is then found without proving the helper glue
    // first. A proof solves every path either way.
    std::vector<std::size_t> order;
    for (const bool after_helper : {false, true})
      for (std::size_t p = 0; p < path; ++p)
        if (helper_in_test.contains(p) == after_helper) order.push_back(p);
    std::optional<z3::model> found;
    const ValueClass* found_class = nullptr;
    std::size_t found_at = 0;  // in `order`
    for (std::size_t n = 0; n < order.size() && !found; ++n) {
      const std::size_t p = order[n];
      z3::expr_vector all(ctx);
      for (const Obligation& o : obligations)
        if (o.path == p) all.push_back(o.holds);
      const z3::expr claim = z3::mk_and(all);
      for (const ValueClass& k : classes) {
        // A path the class excludes (callx's helper paths for a code-region
        // value, its table paths for any other) has nothing to prove there.
        const z3::expr claimed = in_class(k, claim).simplify();
        if (claimed.is_true()) continue;
        z3::expr classed = in_class(k, z3::mk_and(pre)) && !claimed;
        if (k.assumption) classed = classed && *k.assumption;
        // A path whose obligations never read the depth (the helper glue)
        // holds at every depth alike: one query with the depth left free.
        std::unordered_set<unsigned> visited;
        const uint32_t depths = mentions(claimed, depth_bytes, visited) ? c.max_call_depth : 1;
        for (uint32_t d = 0; d < depths && !found; ++d) {
          z3::expr_vector fixed_depth(ctx);
          for (unsigned i = 0; i < 4; ++i)
            fixed_depth.push_back(bv((d >> (8 * i)) & 0xff, 8));
          const z3::expr fixed = expand_reads(
              (depths == 1 ? classed : classed.substitute(depth_bytes, fixed_depth)).simplify(), disjoint);
          z3::solver solver = make_solver();
          solver.add(fixed.simplify());
          if (depths > 1)
            for (unsigned i = 0; i < 4; ++i)
              solver.add(depth_bytes[static_cast<int>(i)] == fixed_depth[static_cast<int>(i)]);
          switch (solver.check()) {
            case z3::unsat:
              continue;
            case z3::unknown:
              return finish_proof(proof, start, ControlProof::Verdict::Error,
                                  "solver gave up: " + solver.reason_unknown() + " (path " +
                                      std::to_string(p + 1) + " of " + std::to_string(path) + ", depth " +
                                      std::to_string(d) + ")");
            case z3::sat:
              found = solver.get_model();
              found_class = &k;
              found_at = n;
              break;
          }
        }
        if (found) break;
      }
    }
    if (!found) return finish_proof(proof, start, ControlProof::Verdict::Proved, "");
    const z3::model& m = *found;
    for (unsigned r = 0; r < x86::kGprCount; ++r)
      proof.inputs[r] = value_in(m, in_class(*found_class, in.gpr[r]));
    proof.depth = static_cast<uint32_t>(value_in(m, depth));
    proof.remaining = value_in(m, budget);
    for (const Obligation& o : obligations) {
      if (!m.eval(in_class(*found_class, o.holds), true).is_false()) continue;
      std::string values = "depth " + std::to_string(proof.depth) + ", deepest " +
                           std::to_string(value_in(m, deepest)) + ", error address before " +
                           hex(value_in(m, field(off::kErrorAddress, 8)));
      values += proof_support::bpf_register_values(proof.inputs, 0);
      std::string detail = describe(c) + ": " + o.what + " [" + values + "]";
      if (callx) {
        CallxWitness w;
        w.value = proof.inputs[x86_of(c.reg)];
        w.depth = proof.depth;
        for (uint8_t r = 0; r < 4; ++r)
          w.callee_saved[r] = proof.inputs[x86_of(static_cast<uint8_t>(6 + r))];
        auto text = callx_counterexample_data(c, w, s.function_starts, slots, "smt check: " + detail);
        if (text) {
          proof.data_test = *text;
        } else {
          detail += " (" + text.error().message + ")";
        }
      } else {
        // Solved again with the helper of a test's run, on what such a run
        // shows, and with the context JitProgram::run starts: no error, no
        // tail call pending.
        const z3::expr test_run =
            field(off::kErrorKind, 4) == bv(0, 32) && field(off::kTailTarget, 8) == bv(0);
        // Only adds constraints and drops obligations: the paths searched
        // before the one refuted stay proved, so the search starts there.
        for (std::size_t i = found_at; test_helper && i < order.size() && proof.data_test.empty(); ++i) {
          const std::size_t q = order[i];
          z3::expr_vector shown(ctx);
          for (const Obligation& ob : obligations)
            if (ob.path == q && ob.shows_in_a_run) shown.push_back(ob.holds);
          const auto helper = helper_in_test.find(q);
          z3::expr query = z3::mk_and(pre) && !z3::mk_and(shown) && test_run;
          if (helper != helper_in_test.end()) query = query && helper->second;
          z3::solver solver = make_solver();
          solver.add(expand_reads(query.simplify(), disjoint).simplify());
          if (solver.check() != z3::sat) continue;
          const z3::model hm = solver.get_model();
          HelperWitness w;
          for (uint8_t r = 0; r < isa::kFramePointer; ++r)
            w.regs[r] = value_in(hm, regs[r]);
          if (auto text = helper_counterexample_data(c, w, "smt check: " + detail)) proof.data_test = *text;
        }
        if (proof.data_test.empty())
          detail += test_helper ? " (no .data test: no run of helper " + std::to_string(c.helper) +
                                      " without maps shows it; helper_counterexample.hpp)"
                                : " (no .data test: helper " + std::to_string(c.helper) +
                                      " behaves by its arguments or maps in a run)";
      }
      return finish_proof(proof, start, ControlProof::Verdict::Counterexample, std::move(detail));
    }
    return finish_proof(proof, start, ControlProof::Verdict::Error,
                        "the solver's model violates no obligation");
  } catch (const z3::exception& e) {
    return finish_proof(proof, start, ControlProof::Verdict::Error, std::string("z3: ") + e.msg());
  }
}

ControlProof prove_call_out_case(const CallOutCase& c, unsigned timeout_ms) {
  return proof_support::compile_and_prove<ControlProof>(c, compile_call_out_snippet, prove_call_out_snippet,
                                                        timeout_ms);
}

std::vector<CallOutCase> call_out_cases_for(isa::Form form, uint8_t reg, const jit::JitOptions& options) {
  std::vector<CallOutCase> out;
  if (form == isa::Form::call_helper) {
    for (uint32_t helper :
         {static_cast<uint32_t>(vm::HelperId::KtimeGetNs), static_cast<uint32_t>(vm::HelperId::TailCall)}) {
      CallOutCase c;
      c.unit = CallOutUnit::Helper;
      c.helper = helper;
      c.max_call_depth = 1;  // the helper glue never reads the depth
      c.options = options;
      out.push_back(c);
    }
  } else if (form == isa::Form::callx) {
    for (uint32_t max_depth : {1u, 2u, 8u}) {
      CallOutCase c;
      c.unit = CallOutUnit::Callx;
      c.reg = reg;
      c.max_call_depth = max_depth;
      c.options = options;
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace bpfdiff::oracle::smt
