#include "oracle/smt/lifted_proof.hpp"

#include <cinttypes>
#include <cstdio>

#include "oracle/smt/bpf_model.hpp"
#include "oracle/smt/counterexample.hpp"

namespace bpfdiff::oracle::smt {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

CheckOutcome error(std::string detail) {
  CheckOutcome out;
  out.verdict = Verdict::Error;
  out.detail = std::move(detail);
  return out;
}

uint64_t value_of(const z3::model& m, const z3::expr& e) {
  return m.eval(e, true).as_uint64();
}

// The operand values of a counterexample, in the terms of a .data test.
struct Witness {
  CounterexampleInput input;
  std::string operands;  // "dst=0x.. src=0x.." for people
};

Witness witness_of(isa::Form form, const z3::model& m, const z3::expr& d, const z3::expr& s,
                   const z3::expr& imm) {
  const isa::FormInfo& fi = isa::info(form);
  Witness w;
  w.input.form = form;
  w.input.dst_value = value_of(m, d);
  w.input.src_value = value_of(m, s);
  w.input.imm = static_cast<int32_t>(static_cast<uint32_t>(value_of(m, imm)));
  w.operands = "dst=" + hex(w.input.dst_value);
  if (fi.sem.family == isa::Family::Endian ||
      (fi.sem.family == isa::Family::Jump && fi.sem.cond == isa::JmpCond::Always)) {
    return w;
  }
  if (fi.sem.source == isa::Source::Reg) {
    w.operands += " src=" + hex(w.input.src_value);
  } else {
    w.operands += " imm=" + std::to_string(w.input.imm);
  }
  return w;
}

std::string render(const z3::model& m, const z3::expr& e) {
  const z3::expr v = m.eval(e, true);
  if (v.is_bool()) return v.is_true() ? "taken" : "not taken";
  return hex(v.as_uint64());
}

CheckOutcome counterexample(isa::Form form, const Witness& w, std::string detail) {
  CheckOutcome out;
  out.verdict = Verdict::Counterexample;
  out.detail = std::move(detail);
  auto data = counterexample_data(
      w.input, std::string(isa::info(form).name) + ": " + out.detail + "\n-- result is the model's value.");
  out.data_test = data ? *data : "# could not build a test: " + data.error().message + "\n";
  out.witness = w.input;
  return out;
}

}  // namespace

CheckOutcome prove_against_model(isa::Form form, const LiftedSemantics& impl, const ProofOptions& options) {
  if (!covers(form)) return error(std::string(isa::info(form).name) + " is not modelled");
  const isa::Semantics& sem = isa::info(form).sem;
  const bool is_jump = sem.family == isa::Family::Jump;
  try {
    z3::context ctx;
    const z3::expr d = ctx.bv_const("dst", 64);
    const z3::expr s = ctx.bv_const("src", 64);
    const z3::expr imm = ctx.bv_const("imm", 32);
    const z3::expr operand = sem.source == isa::Source::Reg ? s : z3::sext(imm, 32);
    auto spec = is_jump ? branch_taken(ctx, form, d, operand) : dst_result(ctx, form, d, operand);
    if (!spec) return error(spec.error().message);

    PathExplorer explorer(ctx);
    auto paths = explorer.explore([&] {
      return impl(SymOperands{SymDomain::U64(d), SymDomain::U64(s), SymDomain::S32(imm)});
    });
    if (!paths) return error(paths.error().message);

    z3::solver solver(ctx);
    z3::params p(ctx);
    p.set("timeout", options.timeout_ms);
    solver.set(p);
    for (const Path& path : *paths) {
      const bool sort_ok =
          is_jump ? path.result.is_bool() : path.result.is_bv() && path.result.get_sort().bv_size() == 64;
      if (!sort_ok)
        return error("the lifted " + options.implementation + " returns a term of the wrong sort");
      // Definedness first: a result computed through undefined behaviour
      // means nothing.
      for (const Obligation& ob : path.obligations) {
        solver.push();
        solver.add(path.condition && !ob.holds);
        const z3::check_result r = solver.check();
        if (r == z3::sat) {
          const z3::model m = solver.get_model();
          const Witness w = witness_of(form, m, d, s, imm);
          return counterexample(form, w,
                                w.operands + ": " + options.implementation + " has undefined behaviour (" +
                                    ob.what + "), model " + render(m, *spec));
        }
        solver.pop();
        if (r == z3::unknown) {
          CheckOutcome out;
          out.verdict = Verdict::Unknown;
          out.detail = "solver: " + solver.reason_unknown();
          return out;
        }
      }
      solver.push();
      solver.add(path.condition && path.result != *spec);
      const z3::check_result r = solver.check();
      if (r == z3::sat) {
        const z3::model m = solver.get_model();
        const Witness w = witness_of(form, m, d, s, imm);
        return counterexample(form, w,
                              w.operands + ": " + options.implementation + " " + render(m, path.result) +
                                  ", model " + render(m, *spec));
      }
      solver.pop();
      if (r == z3::unknown) {
        CheckOutcome out;
        out.verdict = Verdict::Unknown;
        out.detail = "solver: " + solver.reason_unknown();
        return out;
      }
    }
    CheckOutcome out;
    out.verdict = Verdict::Proved;
    out.detail = std::to_string(paths->size()) + (paths->size() == 1 ? " path" : " paths");
    return out;
  } catch (const z3::exception& e) {
    return error(std::string("z3: ") + e.msg());
  }
}

}  // namespace bpfdiff::oracle::smt
