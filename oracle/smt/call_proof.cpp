#include "oracle/smt/call_proof.hpp"

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <optional>

#include "oracle/smt/check_matrix.hpp"
#include "oracle/smt/control_counterexample.hpp"
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

namespace bpfdiff::oracle::smt {
namespace {

using proof_support::hex;
using proof_support::kContext;
using proof_support::sets_error_status;
using proof_support::value_in;
using proof_support::x86_of;

namespace off = jit::offsets;

constexpr uint32_t kCallPc = 1;
constexpr uint32_t kCalleePc = 3;
constexpr uint32_t kEntryLength = 2;

// The budgets left a charge counterexample tries first (above every block
// length of control_cases_for).
constexpr uint64_t kSmallBudget = 32;

bool is_charge(ControlUnit u) {
  return u == ControlUnit::EntryCharge || u == ControlUnit::CalleeCharge;
}

uint32_t exit_pc(const ControlCase& c) {
  return kCalleePc + c.callee_length - 1;
}

// What the interpreter does, in the JIT context's terms: where the JIT's
// code must go, and the registers, rsp and host memory it must arrive with.
struct Outcome {
  std::string name;
  z3::expr when;
  uint32_t target;  // code offset, or x86::kIndirectTarget (ret)
  std::array<z3::expr, isa::kNumRegisters> regs;
  z3::expr rsp;
  z3::expr memory;
  std::optional<z3::expr> address;  // kIndirectTarget: the host address returned to
  z3::expr budget;                  // r10: the budget left
};

struct Obligation {
  std::string what;
  z3::expr holds;
  std::size_t path;
};

}  // namespace

const char* to_string(ControlUnit u) {
  switch (u) {
    case ControlUnit::EntryCharge:
      return "entry block charge";
    case ControlUnit::CallLocal:
      return "call local";
    case ControlUnit::CalleeCharge:
      return "callee block charge";
    case ControlUnit::Exit:
      return "exit";
  }
  return "?";
}

std::string describe(const ControlCase& c) {
  return std::string(to_string(c.unit)) + " (max depth " + std::to_string(c.max_call_depth) +
         ", callee block " + std::to_string(c.callee_length) + ") on " + jit::engine_name(c.options);
}

Result<ControlSnippet> compile_control_snippet(const ControlCase& c) {
  if (c.callee_length < 2)
    return make_error(describe(c) + ": the callee block needs at least 2 instructions");
  vm::Program program;
  program.slots.push_back(isa::encode(isa::Form::mov_reg, 0, 0));
  program.slots.push_back(isa::encode(isa::Form::call_local, 0, 0, 0, kCalleePc - kCallPc - 1));
  program.slots.push_back(isa::encode(isa::Form::exit));
  for (uint32_t i = 0; i + 1 < c.callee_length; ++i)
    program.slots.push_back(isa::encode(isa::Form::mov_reg, 0, 0));
  program.slots.push_back(isa::encode(isa::Form::exit));
  auto compiled = proof_support::compile_snippet(program, c.max_call_depth, c.options);
  if (!compiled) return make_error(describe(c) + ": " + compiled.error().message);
  const jit::JitProgram& jp = *compiled->jit;
  ControlSnippet s;
  s.code.assign(jp.code().begin(), jp.code().end());
  s.insn_offsets = jp.insn_offsets();
  s.stubs_begin = jp.body_size();
  const auto range = [&](uint32_t pc) {
    s.begin = s.insn_offsets[pc];
    s.end = pc + 1 < s.insn_offsets.size() ? s.insn_offsets[pc + 1] : jp.body_size();
  };
  switch (c.unit) {
    case ControlUnit::EntryCharge:
      range(0);
      break;
    case ControlUnit::CallLocal:
      range(kCallPc);
      break;
    case ControlUnit::CalleeCharge:
      range(kCalleePc);
      break;
    case ControlUnit::Exit:
      range(exit_pc(c));
      break;
  }
  auto decoded = proof_support::decode_function(s.code, s.stubs_begin);
  if (!decoded) return make_error(describe(c) + ": " + decoded.error().message);
  s.insns = std::move(decoded->insns);
  s.exit_label = decoded->exit_label;
  return s;
}

ControlProof prove_control_snippet(const ControlCase& c, const ControlSnippet& s, unsigned timeout_ms) {
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
    const auto field = [&](int32_t o, unsigned bytes) { return mem::context_field(m0, cp, o, bytes); };
    const auto set_field = [&](const z3::expr& memory, int32_t o, const z3::expr& v) {
      return mem::write_le(memory, at(cp, static_cast<uint64_t>(o)), v);
    };
    const z3::expr depth = field(off::kDepth, 4);
    const z3::expr deepest = field(off::kDeepest, 4);
    const z3::expr remaining = in.gpr[proof_support::kBudget];  // the budget lives in r10
    const z3::expr frames = field(off::kFrames, 8);
    const z3::expr regions = field(off::kRegions, 8);
    const z3::expr stack_lo = at(regions, static_cast<uint64_t>(off::kStackLo));
    const uint64_t frame_bytes = sizeof(vm::CallFrame);

    // What the JIT and the interpreter both keep true.
    z3::expr_vector pre(ctx);
    pre.push_back(field(off::kStatus, 4) == bv(static_cast<uint32_t>(jit::JitStatus::Exit), 32));
    pre.push_back(z3::ult(depth, bv(c.max_call_depth, 32)));
    const z3::expr delta = in.gpr[proof_support::kStackDelta];
    pre.push_back(delta == field(off::kStackDelta, 8));
    const std::array<std::pair<z3::expr, uint64_t>, 4> objects = {
        std::pair{cp, uint64_t{sizeof(jit::JitContext)}},
        std::pair{regions, uint64_t{sizeof(vm::Region) * vm::kMaxRegions}},
        std::pair{frames, uint64_t{frame_bytes * c.max_call_depth}},
        std::pair{(rsp - bv(8)).simplify(), uint64_t{16}}};  // the native slots a call pushes, an exit pops
    for (const auto& [base, size] : objects)
      pre.push_back(z3::ule(base, bv(~uint64_t{0} - size)));
    for (std::size_t i = 0; i < objects.size(); ++i) {
      for (std::size_t j = i + 1; j < objects.size(); ++j) {
        const auto& [a, la] = objects[i];
        const auto& [b, lb] = objects[j];
        pre.push_back(z3::ule(a + bv(la), b) || z3::ule(b + bv(lb), a));
      }
    }

    // The same objects for the rewriting of reads over writes, which then
    // decides most address comparisons before the solver sees them.
    const auto extent = [](uint64_t bytes) { return static_cast<int64_t>(bytes); };
    const std::vector<DisjointObject> disjoint = {
        {cp, 0, extent(sizeof(jit::JitContext))},
        {regions.simplify(), 0, extent(sizeof(vm::Region) * vm::kMaxRegions)},
        {frames.simplify(), 0, extent(frame_bytes * c.max_call_depth)},
        {rsp, -8, 8}};

    std::vector<Outcome> outcomes;
    const auto charge = [&](uint32_t pc, uint32_t length) {
      const z3::expr enough = z3::uge(remaining, bv(length));
      outcomes.push_back({"the block runs (budget - " + std::to_string(length) + ")", enough, s.end, regs,
                          rsp, m0, std::nullopt, remaining - bv(length)});
      z3::expr deopt = set_field(m0, off::kStatus, bv(static_cast<uint32_t>(jit::JitStatus::Deopt), 32));
      deopt = set_field(deopt, off::kPc, bv(pc, 32));
      outcomes.push_back({"deoptimise at pc " + std::to_string(pc) + ", budget unchanged", !enough,
                          s.exit_label, regs, rsp, deopt, std::nullopt, remaining});
    };
    switch (c.unit) {
      case ControlUnit::EntryCharge:
        charge(0, kEntryLength);
        break;
      case ControlUnit::CalleeCharge:
        charge(kCalleePc, c.callee_length);
        break;
      case ControlUnit::CallLocal: {
        // interpreter.cpp call_local: `depth + 1 >= max_depth` in uint32_t.
        const z3::expr deeper = depth + bv(1, 32);
        const z3::expr too_deep = z3::uge(deeper, bv(c.max_call_depth, 32));
        z3::expr fault = set_field(m0, off::kStatus, bv(static_cast<uint32_t>(jit::JitStatus::Error), 32));
        fault = set_field(fault, off::kErrorKind,
                          bv(static_cast<uint32_t>(vm::ErrorKind::CallDepthExceeded), 32));
        fault = set_field(fault, off::kErrorPc, bv(kCallPc, 32));
        fault = set_field(fault, off::kErrorAddress, bv(0));
        fault = set_field(fault, off::kErrorSize, bv(0, 32));
        outcomes.push_back(
            {"CallDepthExceeded at pc 1", too_deep, s.exit_label, regs, rsp, fault, std::nullopt, remaining});
        const z3::expr frame = (frames + z3::zext(depth, 32) * bv(frame_bytes)).simplify();
        z3::expr called = m0;
        for (unsigned i = 0; i < 4; ++i)
          called =
              mem::write_le(called, at(frame, offsetof(vm::CallFrame, callee_saved) + 8 * i), regs[6 + i]);
        called = mem::write_le(called, at(frame, offsetof(vm::CallFrame, r10)), regs[10]);
        called = mem::write_le(called, at(frame, offsetof(vm::CallFrame, return_pc)), bv(kCallPc + 1, 32));
        called = set_field(called, off::kDepth, deeper);
        called = set_field(called, off::kDeepest, z3::ite(z3::ugt(deeper, deepest), deeper, deepest));
        called = mem::write_le(called, stack_lo, mem::read_le(m0, stack_lo, 8) - bv(vm::kStackFrameBytes));
        // The native call: the return address, pc 2's code, on the stack.
        called = mem::write_le(called, at(rsp, static_cast<uint64_t>(-8)),
                               x86::code_address(ctx, s.insn_offsets[kCallPc + 1]));
        std::array<z3::expr, isa::kNumRegisters> after = regs;
        after[10] = regs[10] - bv(vm::kStackFrameBytes);
        outcomes.push_back({"the call (frame pushed, depth + 1)", !too_deep, s.insn_offsets[kCalleePc], after,
                            (rsp - bv(8)).simplify(), called, std::nullopt, remaining});
        break;
      }
      case ControlUnit::Exit: {
        // interpreter.cpp do_exit.
        const z3::expr outermost = depth == bv(0, 32);
        outcomes.push_back(
            {"the program ends (depth 0)", outermost, s.exit_label, regs, rsp, m0, std::nullopt, remaining});
        const z3::expr shallower = depth - bv(1, 32);
        const z3::expr frame = (frames + z3::zext(shallower, 32) * bv(frame_bytes)).simplify();
        std::array<z3::expr, isa::kNumRegisters> after = regs;
        for (unsigned i = 0; i < 4; ++i)
          after[6 + i] = mem::read_le(m0, at(frame, offsetof(vm::CallFrame, callee_saved) + 8 * i), 8);
        after[10] = mem::read_le(m0, at(frame, offsetof(vm::CallFrame, r10)), 8);
        z3::expr returned = set_field(m0, off::kDepth, shallower);
        returned =
            mem::write_le(returned, stack_lo, mem::read_le(m0, stack_lo, 8) + bv(vm::kStackFrameBytes));
        outcomes.push_back({"the return to the caller (depth - 1)", !outermost, x86::kIndirectTarget, after,
                            (rsp + bv(8)).simplify(), returned, mem::read_le(m0, rsp, 8), remaining});
        break;
      }
    }

    // The unit's code, then the stubs it jumps to, up to the exit label.
    auto body = x86::execute_range(s.insns, s.begin, s.end, in);
    if (!body)
      return finish_proof(proof, start, ControlProof::Verdict::Error,
                          describe(c) + ": " + body.error().message);
    std::vector<x86::PathExit> exits;
    for (x86::PathExit& e : *body) {
      if (e.target < s.stubs_begin || e.target >= s.exit_label) {
        exits.push_back(std::move(e));
        continue;
      }
      auto stub = x86::execute_range(s.insns, e.target, s.exit_label, e.state);
      if (!stub)
        return finish_proof(proof, start, ControlProof::Verdict::Error,
                            describe(c) + ": " + stub.error().message);
      for (x86::PathExit& f : *stub) {
        f.condition = e.condition && f.condition;
        exits.push_back(std::move(f));
      }
    }
    proof.paths = static_cast<unsigned>(exits.size());

    const z3::expr probe = ctx.bv_const("probe", 64);
    std::vector<Obligation> obligations;
    std::size_t path = 0;
    for (const x86::PathExit& e : exits) {
      const auto add = [&](std::string what, const z3::expr& holds) {
        obligations.push_back({std::move(what), z3::implies(e.condition, holds), path});
      };
      const Outcome* o = nullptr;
      for (const Outcome& candidate : outcomes)
        if (candidate.target == e.target) o = &candidate;
      if (o == nullptr) {
        obligations.push_back({"a path leaves to code offset " + std::to_string(e.target) +
                                   ", where the interpreter's rules never go",
                               !e.condition, path});
        ++path;
        continue;
      }
      const x86::Machine& out = e.state;
      add("the code reaches " + o->name + " only when the interpreter does", o->when);
      for (uint8_t r = 0; r < isa::kNumRegisters; ++r)
        add("r" + std::to_string(r) + " (" + x86::gpr_name(x86_of(r)) + ") at " + o->name +
                " equals the interpreter's",
            out.gpr[x86_of(r)] == o->regs[r]);
      add("r12 (the JIT context) keeps its value", out.gpr[kContext] == cp);
      add("rsp at " + o->name + " is the interpreter's native stack", out.gpr[x86::kRsp] == o->rsp);
      add("r10 (the budget) at " + o->name + " is the interpreter's",
          out.gpr[proof_support::kBudget] == o->budget);
      // Code runs on from every target but the exit, and expects the stack delta in r9.
      if (o->target != s.exit_label)
        add("r9 at " + o->name + " is the stack delta", out.gpr[proof_support::kStackDelta] == delta);
      add("host memory at " + o->name +
              " (context, frames, region table, native stack) equals the interpreter's",
          same_memory(out.memory, o->memory, m0, probe));
      if (o->address && e.address)
        add("the return goes to the address on top of the native stack", *e.address == *o->address);
      ++path;
    }

    // One query per x86 path and depth below the limit (the precondition
    // allows no other): with the depth a constant, every frame address is a
    // constant offset from ctx.frames, and the solver never multiplies.
    z3::expr_vector depth_bytes(ctx);
    for (unsigned i = 0; i < 4; ++i)
      depth_bytes.push_back(z3::select(m0, at(cp, static_cast<uint64_t>(off::kDepth) + i)));
    std::optional<z3::model> found;
    for (std::size_t p = 0; p < path && !found; ++p) {
      z3::expr_vector all(ctx);
      for (const Obligation& o : obligations)
        if (o.path == p) all.push_back(o.holds);
      z3::expr query = z3::mk_and(pre) && !z3::mk_and(all);
      for (uint32_t d = 0; d < c.max_call_depth && !found; ++d) {
        z3::expr_vector value(ctx);
        for (unsigned i = 0; i < 4; ++i)
          value.push_back(bv((d >> (8 * i)) & 0xff, 8));
        z3::expr fixed = expand_reads(query.substitute(depth_bytes, value).simplify(), disjoint);
        z3::solver solver(ctx, "QF_BV");
        if (timeout_ms > 0) {
          z3::params params(ctx);
          params.set("timeout", timeout_ms);
          solver.set(params);
        }
        solver.add(fixed.simplify());
        for (unsigned i = 0; i < 4; ++i)  // so that the model says which depth
          solver.add(depth_bytes[static_cast<int>(i)] == value[static_cast<int>(i)]);
        switch (solver.check()) {
          case z3::unsat:
            continue;
          case z3::unknown:
            return finish_proof(proof, start, ControlProof::Verdict::Error,
                                "solver gave up: " + solver.reason_unknown() + " (x86 path " +
                                    std::to_string(p + 1) + " of " + std::to_string(path) + ", depth " +
                                    std::to_string(d) + ")");
          case z3::sat:
            found = solver.get_model();
            if (is_charge(c.unit)) {
              // A charge fault shows in a run only near the budget's end
              // (with plenty left both engines finish alike): the smallest
              // budget left that still refutes, if one is small.
              for (uint64_t k = 0; k <= kSmallBudget; ++k) {
                solver.push();
                solver.add(remaining == bv(k));
                const bool small = solver.check() == z3::sat;
                if (small) found = solver.get_model();
                solver.pop();
                if (small) break;
              }
            }
            break;
        }
      }
    }
    if (!found) return finish_proof(proof, start, ControlProof::Verdict::Proved, "");
    const z3::model& m = *found;
    for (unsigned r = 0; r < x86::kGprCount; ++r)
      proof.inputs[r] = value_in(m, in.gpr[r]);
    proof.depth = static_cast<uint32_t>(value_in(m, depth));
    proof.remaining = value_in(m, remaining);
    for (const Obligation& o : obligations) {
      if (!m.eval(o.holds, true).is_false()) continue;
      std::string values = "depth " + std::to_string(proof.depth) + ", deepest " +
                           std::to_string(value_in(m, deepest)) + ", budget left " + hex(proof.remaining) +
                           ", error address before " + hex(value_in(m, field(off::kErrorAddress, 8)));
      values += proof_support::bpf_register_values(proof.inputs, 6);
      std::string detail = describe(c) + ": " + o.what + " [" + values + "]";
      ControlWitness w;
      w.depth = proof.depth;
      w.remaining = proof.remaining;
      for (uint8_t r = 0; r < 4; ++r)
        w.callee_saved[r] = proof.inputs[x86_of(static_cast<uint8_t>(6 + r))];
      if (auto text = control_counterexample_data(c, w, "smt check: " + detail)) proof.data_test = *text;
      return finish_proof(proof, start, ControlProof::Verdict::Counterexample, std::move(detail));
    }
    return finish_proof(proof, start, ControlProof::Verdict::Error,
                        "the solver's model violates no obligation");
  } catch (const z3::exception& e) {
    return finish_proof(proof, start, ControlProof::Verdict::Error, std::string("z3: ") + e.msg());
  }
}

ControlProof prove_control_case(const ControlCase& c, unsigned timeout_ms) {
  return proof_support::compile_and_prove<ControlProof>(c, compile_control_snippet, prove_control_snippet,
                                                        timeout_ms);
}

std::vector<ControlCase> control_cases_for(isa::Form form, const jit::JitOptions& options) {
  std::vector<ControlCase> out;
  if (form != isa::Form::call_local && form != isa::Form::exit) return out;
  for (uint32_t max_depth : {1u, 2u, 8u}) {
    for (uint32_t length : {2u, 9u}) {
      const auto add = [&](ControlUnit u) {
        ControlCase c;
        c.unit = u;
        c.max_call_depth = max_depth;
        c.callee_length = length;
        c.options = options;
        out.push_back(c);
      };
      if (form == isa::Form::exit) {
        add(ControlUnit::Exit);
      } else {
        add(ControlUnit::CallLocal);
        add(ControlUnit::CalleeCharge);
        if (max_depth == 1 && length == 2) add(ControlUnit::EntryCharge);
      }
    }
  }
  return out;
}

}  // namespace bpfdiff::oracle::smt
