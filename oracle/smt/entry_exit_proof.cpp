#include "oracle/smt/entry_exit_proof.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "oracle/smt/jit_proof_support.hpp"
#include "oracle/smt/mem_model.hpp"
#include "oracle/smt/read_over_write.hpp"
#include "oracle/smt/x86/shared_context.hpp"
#include "oracle/smt/x86/symexec.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/isa/encode.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/offsets.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::oracle::smt {
namespace {

using proof_support::hex;
using proof_support::kContext;
using proof_support::value_in;
using proof_support::x86_of;

namespace off = jit::offsets;

// The registers SysV makes the JIT's code keep for its C++ caller, in the
// order the prologue pushes them.
constexpr std::array<uint8_t, 6> kCalleeSaved = {x86::kRbx, x86::kRbp, 12, 13, 14, 15};
// The native stack the prologue's frame takes below the return address:
// six saved registers and 8 bytes of realignment.
constexpr uint64_t kFrameBytes = 56;

struct Obligation {
  std::string what;
  z3::expr holds;
  std::size_t path;
};

}  // namespace

std::string describe(const EntryExitCase& c) {
  return "prologue and epilogue (max depth " + std::to_string(c.max_call_depth) + ") on " +
         jit::engine_name(c.options);
}

Result<EntryExitSnippet> compile_entry_exit_snippet(const EntryExitCase& c) {
  vm::Program program;
  program.slots.push_back(isa::encode(isa::Form::mov_reg, 0, 0));
  program.slots.push_back(isa::encode(isa::Form::exit));
  auto compiled = proof_support::compile_snippet(program, c.max_call_depth, c.options);
  if (!compiled) return make_error(describe(c) + ": " + compiled.error().message);
  const jit::JitProgram& jp = *compiled->jit;
  const vm::LoadedProgram& loaded = *compiled->loaded;
  EntryExitSnippet s;
  s.code.assign(jp.code().begin(), jp.code().end());
  s.entry = jp.insn_offsets()[loaded.source.entry];
  auto decoded = proof_support::decode_function(s.code, jp.body_size());
  if (!decoded) return make_error(describe(c) + ": " + decoded.error().message);
  s.insns = std::move(decoded->insns);
  s.exit_label = decoded->exit_label;
  for (const x86::Instruction& i : s.insns)
    if (i.end() == s.exit_label) s.error_exit = i.offset;
  // The interpreter's own start (Interpreter::loop: r10 = stack_top()).
  const vm::Interpreter interp(loaded, vm::standard_helpers(), compiled->limits);
  s.stack_top = interp.stack_top();
  return s;
}

ControlProof prove_entry_exit_snippet(const EntryExitCase& c, const EntryExitSnippet& s,
                                      unsigned timeout_ms) {
  const auto start = std::chrono::steady_clock::now();
  ControlProof proof;
  try {
    z3::context& ctx = x86::shared_context();
    // The C++ caller's call: JitEntry(ctx, r1, r2).
    const x86::Machine in = x86::Machine::symbolic(ctx);
    const z3::expr cp = in.gpr[x86::kRdi];
    const z3::expr rsp = in.gpr[x86::kRsp];  // the return address is at rsp
    const z3::expr& m0 = in.memory;
    const auto bv = [&](uint64_t v, unsigned bits = 64) { return ctx.bv_val(v, bits); };
    const auto at = [&](const z3::expr& base, int64_t o) {
      return (base + bv(static_cast<uint64_t>(o))).simplify();
    };
    // ctx.out_regs as the body leaves it (JitProgram::run set it, nothing in
    // the code writes it): a constant, so reads of it resolve to one term.
    const z3::expr out_regs = ctx.bv_const("out_regs", 64);
    const z3::expr frame = at(rsp, -static_cast<int64_t>(kFrameBytes));
    const uint64_t out_bytes = 8 * isa::kNumRegisters;

    z3::expr_vector pre(ctx);
    pre.push_back(((rsp + bv(8)) & bv(15)) == bv(0));
    const std::array<std::pair<z3::expr, uint64_t>, 3> objects = {
        std::pair{cp, uint64_t{sizeof(jit::JitContext)}}, std::pair{out_regs, out_bytes},
        std::pair{frame, kFrameBytes + 16}};
    for (const auto& [base, size] : objects)
      pre.push_back(z3::ule(base, bv(~uint64_t{0} - size)));
    for (std::size_t i = 0; i < objects.size(); ++i)
      for (std::size_t j = i + 1; j < objects.size(); ++j) {
        const auto& [a, la] = objects[i];
        const auto& [b, lb] = objects[j];
        pre.push_back(z3::ule(a + bv(la), b) || z3::ule(b + bv(lb), a));
      }
    // The native frame is named from rsp in the prologue and from the saved
    // rsp in the epilogue (below); each query lists it once.
    const std::vector<DisjointObject> disjoint = {{cp, 0, static_cast<int64_t>(sizeof(jit::JitContext))},
                                                  {out_regs, 0, static_cast<int64_t>(out_bytes)},
                                                  {rsp, -static_cast<int64_t>(kFrameBytes), 16}};
    std::vector<DisjointObject> disjoint_after = disjoint;
    disjoint_after.pop_back();
    const z3::expr probe = ctx.bv_const("probe", 64);

    std::vector<Obligation> obligations;
    std::size_t path = 0;
    const auto obligation = [&](std::string what, const z3::expr& when, const z3::expr& holds) {
      obligations.push_back({std::move(what), z3::implies(when, holds), path});
    };

    // The prologue.
    auto entered = x86::execute_range(s.insns, 0, s.entry, in);
    if (!entered)
      return finish_proof(proof, start, ControlProof::Verdict::Error,
                          describe(c) + ": " + entered.error().message);
    std::array<z3::expr, isa::kNumRegisters> start_regs = {
        bv(0), in.gpr[x86::kRsi], in.gpr[x86::kRdx], bv(0), bv(0), bv(0), bv(0), bv(0), bv(0),
        bv(0), bv(s.stack_top)};
    const z3::expr body_rsp = frame;
    for (const x86::PathExit& e : *entered) {
      const z3::expr& cond = e.condition;
      const x86::Machine& out = e.state;
      if (e.target != s.entry) {
        obligation(
            "the prologue leaves to code offset " + std::to_string(e.target) + ", not the entry instruction",
            cond, ctx.bool_val(false));
        ++path;
        continue;
      }
      for (uint8_t r = 0; r < isa::kNumRegisters; ++r)
        obligation("r" + std::to_string(r) + " (" + x86::gpr_name(x86_of(r)) +
                       ") at the entry instruction is the interpreter's start value",
                   cond, out.gpr[x86_of(r)] == start_regs[r]);
      obligation("r12 holds the JIT context after the prologue", cond, out.gpr[kContext] == cp);
      obligation("r10 holds the budget C++ set in ctx.remaining after the prologue", cond,
                 out.gpr[proof_support::kBudget] == mem::read_le(m0, at(cp, off::kRemaining), 8));
      obligation("r9 holds the stack delta C++ set in ctx.stack_delta after the prologue", cond,
                 out.gpr[proof_support::kStackDelta] == mem::read_le(m0, at(cp, off::kStackDelta), 8));
      obligation("rsp after the prologue is 16-byte aligned, the frame below the return address", cond,
                 out.gpr[x86::kRsp] == body_rsp);
      // Everything the prologue writes: the saved registers and ctx.saved_rsp.
      z3::expr want = m0;
      for (std::size_t i = 0; i < kCalleeSaved.size(); ++i)
        want = mem::write_le(want, at(rsp, -8 * static_cast<int64_t>(i + 1)), in.gpr[kCalleeSaved[i]]);
      want = mem::write_le(want, at(cp, off::kSavedRsp), body_rsp);
      obligation(
          "host memory after the prologue is the caller's but for the saved registers and ctx.saved_rsp "
          "(budget, depth, status as C++ set them)",
          cond, same_memory(out.memory, want, m0, probe));
      ++path;
    }

    // The body: anything that keeps r12, ctx.saved_rsp, ctx.out_regs and the
    // native stack from ctx.saved_rsp up to the return address.
    x86::Machine body = x86::Machine::symbolic(ctx, "body_");
    body.gpr[kContext] = cp;
    z3::expr after_prologue = m0;
    for (std::size_t i = 0; i < kCalleeSaved.size(); ++i)
      after_prologue =
          mem::write_le(after_prologue, at(rsp, -8 * static_cast<int64_t>(i + 1)), in.gpr[kCalleeSaved[i]]);
    after_prologue = mem::write_le(after_prologue, at(cp, off::kSavedRsp), body_rsp);
    // The body's view of the frame is addressed from ctx.saved_rsp as a
    // constant of its own (equal to the prologue's rsp): a value read back
    // from memory byte by byte simplifies to no `base + offset` form that
    // the rewriting of reads over writes recognises.
    const z3::expr saved = ctx.bv_const("saved_rsp", 64);
    for (uint64_t o = 0; o < kFrameBytes + 8; o += 8)
      body.memory = mem::write_le(body.memory, at(saved, static_cast<int64_t>(o)),
                                  mem::read_le(after_prologue, at(frame, static_cast<int64_t>(o)), 8));
    body.memory = mem::write_le(body.memory, at(cp, off::kSavedRsp), saved);
    body.memory = mem::write_le(body.memory, at(cp, off::kOutRegs), out_regs);
    const z3::expr body_memory = body.memory;
    disjoint_after.push_back({saved, 0, static_cast<int64_t>(kFrameBytes + 16)});
    const std::size_t prologue_paths = path;
    const std::array<z3::expr, isa::kNumRegisters> result = proof_support::bpf_registers(body);

    for (const bool error : {false, true}) {
      auto ended = x86::execute_range(s.insns, error ? s.error_exit : s.exit_label,
                                      static_cast<uint32_t>(s.code.size()), body);
      if (!ended)
        return finish_proof(proof, start, ControlProof::Verdict::Error,
                            describe(c) + ": " + ended.error().message);
      const std::string where = error ? " after the error exit" : " after the exit";
      for (const x86::PathExit& e : *ended) {
        const z3::expr cond = e.condition && saved == frame;  // the body kept ctx.saved_rsp
        const x86::Machine& out = e.state;
        if (e.target != x86::kIndirectTarget || !e.address) {
          obligation("the epilogue leaves to code offset " + std::to_string(e.target) + ", not the caller",
                     cond, ctx.bool_val(false));
          ++path;
          continue;
        }
        obligation("the epilogue returns to the caller's return address", cond,
                   *e.address == mem::read_le(m0, rsp, 8));
        obligation("rsp" + where + " is the caller's (the return address popped)", cond,
                   out.gpr[x86::kRsp] == rsp + bv(8));
        for (uint8_t r : kCalleeSaved)
          obligation(x86::gpr_name(r) + where + " is the caller's (SysV callee-saved)", cond,
                     out.gpr[r] == in.gpr[r]);
        z3::expr want = body_memory;
        if (error)
          want =
              mem::write_le(want, at(cp, off::kStatus), bv(static_cast<uint32_t>(jit::JitStatus::Error), 32));
        want = mem::write_le(want, at(cp, off::kRemaining), body.gpr[proof_support::kBudget]);
        for (uint8_t r = 0; r < isa::kNumRegisters; ++r)
          want = mem::write_le(want, at(out_regs, 8 * r), result[r]);
        obligation("host memory" + where + " holds r0..r10 in ctx.out_regs (the run's result)" +
                       (error ? ", status Error," : "") +
                       " the budget left (r10) in ctx.remaining and nothing else written",
                   cond, same_memory(out.memory, want, body_memory, probe));
        ++path;
      }
    }
    proof.paths = static_cast<unsigned>(path);

    // One query per obligation: the epilogue's obligations each take a
    // fraction of a second, their conjunction many times their sum.
    std::optional<z3::model> found;
    for (std::size_t k = 0; k < obligations.size() && !found; ++k) {
      const Obligation& o = obligations[k];
      z3::solver solver(ctx, "QF_ABV");
      if (timeout_ms > 0) {
        z3::params params(ctx);
        params.set("timeout", timeout_ms);
        solver.set(params);
      }
      solver.add(expand_reads((z3::mk_and(pre) && !o.holds).simplify(),
                              o.path < prologue_paths ? disjoint : disjoint_after)
                     .simplify());
      switch (solver.check()) {
        case z3::unsat:
          continue;
        case z3::unknown:
          return finish_proof(proof, start, ControlProof::Verdict::Error,
                              "solver gave up: " + solver.reason_unknown() + " (" + o.what + ", path " +
                                  std::to_string(o.path + 1) + " of " + std::to_string(path) + ")");
        case z3::sat:
          found = solver.get_model();
          break;
      }
    }
    if (!found) return finish_proof(proof, start, ControlProof::Verdict::Proved, "");
    const z3::model& m = *found;
    for (unsigned r = 0; r < x86::kGprCount; ++r)
      proof.inputs[r] = value_in(m, in.gpr[r]);
    for (const Obligation& o : obligations) {
      if (!m.eval(o.holds, true).is_false()) continue;
      std::string values = "context " + hex(proof.inputs[x86::kRdi]) + ", r1 " +
                           hex(proof.inputs[x86::kRsi]) + ", r2 " + hex(proof.inputs[x86::kRdx]) + ", rsp " +
                           hex(proof.inputs[x86::kRsp]);
      return finish_proof(proof, start, ControlProof::Verdict::Counterexample,
                          describe(c) + ": " + o.what + " [" + values + "]");
    }
    return finish_proof(proof, start, ControlProof::Verdict::Error,
                        "the solver's model violates no obligation");
  } catch (const z3::exception& e) {
    return finish_proof(proof, start, ControlProof::Verdict::Error, std::string("z3: ") + e.msg());
  }
}

ControlProof prove_entry_exit_case(const EntryExitCase& c, unsigned timeout_ms) {
  return proof_support::compile_and_prove<ControlProof>(c, compile_entry_exit_snippet,
                                                        prove_entry_exit_snippet, timeout_ms);
}

std::vector<EntryExitCase> entry_exit_cases_for(const jit::JitOptions& options) {
  std::vector<EntryExitCase> out;
  for (uint32_t max_depth : {1u, 8u}) {
    EntryExitCase c;
    c.max_call_depth = max_depth;
    c.options = options;
    out.push_back(c);
  }
  return out;
}

}  // namespace bpfdiff::oracle::smt
