#include "oracle/smt/jit_proof.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include "oracle/smt/bpf_model.hpp"
#include "oracle/smt/finish_proof.hpp"
#include "oracle/smt/jit_proof_support.hpp"
#include "oracle/smt/jit_rewrite.hpp"
#include "oracle/smt/x86/shared_context.hpp"
#include "oracle/smt/x86/symexec.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::oracle::smt {
namespace {

using proof_support::hex;
using proof_support::kContext;
using proof_support::value_in;
using proof_support::x86_of;

struct Obligation {
  enum class Kind : uint8_t { Result, Frame, Branch, Exit, DivideError };
  Kind kind;
  std::string what;
  z3::expr holds;
  int bpf_reg = -1;  // Result / Frame: the BPF register concerned (-1: not a BPF register)
};

std::string bpf_name(int r) {
  return "r" + std::to_string(r);
}

// The counterexample as a .data test: registers preloaded with lddw, the
// instruction, and an epilogue that exposes the failing register (or the
// branch decision) in r0; the expected result is the model's.
std::string data_test(const JitCase& c, const JitSnippet& s, const Obligation& failed, const z3::model& m,
                      const x86::Machine& in, const z3::expr& expected) {
  const isa::FormInfo& fi = isa::info(c.form);
  const bool is_jump = fi.sem.family == isa::Family::Jump;
  std::string out = "# Counterexample from `bpfdiff smt check`: " + describe(c) + "\n";
  out += "# fails: " + failed.what + "\n# the JIT's code for the instruction:\n";
  for (const x86::Instruction& insn : s.insns)
    out += "#   " + x86::describe(insn) + "\n";
  const isa::RawInsn raw = case_instruction(c);
  const bool reads_r10 = (fi.rules.dst != isa::RegRule::Zero && raw.dst == isa::kFramePointer) ||
                         (fi.rules.src != isa::RegRule::Zero && raw.src == isa::kFramePointer) ||
                         failed.bpf_reg == isa::kFramePointer;
  if (reads_r10) {
    const uint64_t r10 = value_in(m, in.gpr[x86_of(isa::kFramePointer)]);
    out +=
        "# r10 is the frame pointer, which a program cannot set; the counterexample has r10 = " + hex(r10) +
        "\n";
  }
  out += "-- asm\n";
  for (uint8_t r = 0; r < isa::kFramePointer; ++r)
    out += "lddw " + bpf_name(r) + ", " + hex(value_in(m, in.gpr[x86_of(r)])) + "\n";
  isa::RawInsn insn = raw;
  if (is_jump) {
    if (c.form == isa::Form::gotol) {
      insn.imm = 2;
    } else {
      insn.off = 2;
    }
  }
  out += text::disassemble_one(insn, nullptr) + "\n";
  uint64_t result = 0;
  if (is_jump) {
    out += "mov r0, 0\nexit\nmov r0, 1\nexit\n";
    result = m.eval(expected, true).is_true() ? 1 : 0;
  } else {
    const int shown = failed.kind == Obligation::Kind::Frame && failed.bpf_reg >= 0 ? failed.bpf_reg : c.dst;
    if (shown != 0) out += "mov r0, " + bpf_name(shown) + "\n";
    out += "exit\n";
    result =
        shown == c.dst ? value_in(m, expected) : value_in(m, in.gpr[x86_of(static_cast<uint8_t>(shown))]);
  }
  out += "-- result\n" + hex(result) + "\n";
  return out;
}

}  // namespace

const char* to_string(JitProof::Verdict v) {
  switch (v) {
    case JitProof::Verdict::Proved:
      return "proved";
    case JitProof::Verdict::Counterexample:
      return "counterexample";
    case JitProof::Verdict::Error:
      return "error";
  }
  return "?";
}

JitProof prove_snippet(const JitCase& c, const JitSnippet& s, unsigned timeout_ms) {
  const auto start = std::chrono::steady_clock::now();
  JitProof proof;
  auto finish = [&](JitProof::Verdict v, std::string detail) {
    return finish_proof(proof, start, v, std::move(detail));
  };
  const isa::FormInfo& fi = isa::info(c.form);
  const bool is_jump = fi.sem.family == isa::Family::Jump;
  if (!covers(c.form)) return finish(JitProof::Verdict::Error, describe(c) + ": not an ALU, END or JMP form");
  try {
    z3::context& ctx = x86::shared_context();
    const x86::Machine in = x86::Machine::symbolic(ctx);
    const isa::RawInsn raw = case_instruction(c);
    const bool reg_src = fi.rules.src != isa::RegRule::Zero;
    const z3::expr dst_in = in.gpr[x86_of(raw.dst)];
    const z3::expr src_in = reg_src ? in.gpr[x86_of(raw.src)] : imm_operand(ctx, raw.imm);
    auto model =
        is_jump ? branch_taken(ctx, c.form, dst_in, src_in) : dst_result(ctx, c.form, dst_in, src_in);
    if (!model) return finish(JitProof::Verdict::Error, model.error().message);
    const z3::expr expected = *model;

    auto exits = x86::execute_range(s.insns, s.begin, s.end, in);
    if (!exits) return finish(JitProof::Verdict::Error, exits.error().message);
    proof.paths = static_cast<unsigned>(exits->size());

    std::vector<Obligation> obligations;
    const auto add = [&](Obligation::Kind k, std::string what, const z3::expr& holds, int reg = -1) {
      obligations.push_back({k, std::move(what), holds, reg});
    };
    for (const x86::PathExit& e : *exits) {
      const x86::Machine& out = e.state;
      add(Obligation::Kind::DivideError, "no path raises #DE", z3::implies(e.condition, !out.divide_error));
      if (is_jump) {
        if (e.target == s.target) {
          add(Obligation::Kind::Branch,
              "the code jumps to the BPF target only when the model takes the branch",
              z3::implies(e.condition, expected));
        } else if (e.target == s.end) {
          add(Obligation::Kind::Branch, "the code falls through only when the model does not take the branch",
              z3::implies(e.condition, !expected));
        } else {
          add(Obligation::Kind::Exit,
              "a path leaves to code offset " + std::to_string(e.target) + ", neither the target (" +
                  std::to_string(s.target) + ") nor the next instruction (" + std::to_string(s.end) + ")",
              !e.condition);
        }
      } else if (e.target != s.end) {
        add(Obligation::Kind::Exit,
            "a path leaves to code offset " + std::to_string(e.target) + " instead of falling through to " +
                std::to_string(s.end),
            !e.condition);
      } else {
        add(Obligation::Kind::Result, bpf_name(raw.dst) + " equals the model's result",
            z3::implies(e.condition, out.gpr[x86_of(raw.dst)] == expected), raw.dst);
      }
      for (uint8_t r = 0; r < isa::kNumRegisters; ++r) {
        if (!is_jump && r == raw.dst) continue;
        const uint8_t x = x86_of(r);
        add(Obligation::Kind::Frame, bpf_name(r) + " (" + x86::gpr_name(x) + ") keeps its value",
            z3::implies(e.condition, out.gpr[x] == in.gpr[x]), r);
      }
      add(Obligation::Kind::Frame, "r12 (the JIT context) keeps its value",
          z3::implies(e.condition, out.gpr[kContext] == in.gpr[kContext]));
      add(Obligation::Kind::Frame, "r10 (the instruction budget) keeps its value",
          z3::implies(e.condition, out.gpr[proof_support::kBudget] == in.gpr[proof_support::kBudget]));
      add(Obligation::Kind::Frame, "r9 (the stack delta) keeps its value",
          z3::implies(e.condition,
                      out.gpr[proof_support::kStackDelta] == in.gpr[proof_support::kStackDelta]));
      add(Obligation::Kind::Frame, "rsp keeps its value",
          z3::implies(e.condition, out.gpr[x86::kRsp] == in.gpr[x86::kRsp]));
    }

    // Contextual simplification first: on the path where the divisor is not
    // zero, the model's ite(src == 0, ...) collapses to the very division
    // term the x86 code computes, so most obligations become trivially true
    // instead of being bit-blasted through a 64-bit divider.
    const z3::tactic pipeline = z3::tactic(ctx, "simplify") & z3::tactic(ctx, "propagate-values") &
                                z3::tactic(ctx, "ctx-simplify") & z3::tactic(ctx, "simplify") &
                                z3::tactic(ctx, "smt");
    z3::solver solver = pipeline.mk_solver();
    if (timeout_ms > 0) {
      z3::params params(ctx);
      params.set("timeout", timeout_ms);
      solver.set(params);
    }
    z3::expr_vector all(ctx);
    for (const Obligation& o : obligations)
      all.push_back(o.holds);
    solver.add(expand_signed_division(!z3::mk_and(all)));
    switch (solver.check()) {
      case z3::unsat:
        return finish(JitProof::Verdict::Proved, "");
      case z3::unknown:
        return finish(JitProof::Verdict::Error, "solver gave up: " + solver.reason_unknown());
      case z3::sat:
        break;
    }
    const z3::model m = solver.get_model();
    for (const Obligation& o : obligations) {
      if (!m.eval(o.holds, true).is_false()) continue;
      proof.data_test = data_test(c, s, o, m, in, expected);
      for (unsigned r = 0; r < x86::kGprCount; ++r)
        proof.inputs[r] = value_in(m, in.gpr[r]);
      if (is_jump) proof.branch_taken = m.eval(expected, true).is_true();
      return finish(JitProof::Verdict::Counterexample, o.what);
    }
    return finish(JitProof::Verdict::Error, "the solver's model violates no obligation");
  } catch (const z3::exception& e) {
    return finish(JitProof::Verdict::Error, std::string("z3: ") + e.msg());
  }
}

JitProof prove_jit_case(const JitCase& c, unsigned timeout_ms) {
  return proof_support::compile_and_prove<JitProof>(c, compile_snippet, prove_snippet, timeout_ms);
}

}  // namespace bpfdiff::oracle::smt
