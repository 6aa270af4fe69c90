#include "oracle/smt/jit_check.hpp"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "oracle/smt/bpf_model.hpp"
#include "oracle/smt/call_out_proof.hpp"
#include "oracle/smt/call_proof.hpp"
#include "oracle/smt/check_matrix.hpp"
#include "oracle/smt/entry_exit_proof.hpp"
#include "oracle/smt/jit_proof.hpp"
#include "oracle/smt/mem_model.hpp"
#include "oracle/smt/mem_proof.hpp"
#include "vm/jit/lowering.hpp"

namespace bpfdiff::oracle::smt {
namespace {

class JitCheck final : public FormCheck {
 public:
  JitCheck(jit::JitOptions options, RegisterAssignment assignment, JitAssignments which)
      : options_(options), assignment_(assignment), which_(which) {}

  std::string name() const override { return jit::engine_name(options_) + " " + assignment_.name(); }

  bool applies_to(isa::Form form) const override {
    if (proved_control_form(form)) return is_control_column();
    if (mem::is_memory_form(form))
      return proved_memory_form(form) && !mem_cases(form).empty() && !repeats_another_column(form);
    return covers(form) && !cases(form).empty();
  }

  CheckOutcome check(isa::Form form) override {
    if (proved_control_form(form)) return check_control(form);
    if (mem::is_memory_form(form)) return check_memory(form);
    CheckOutcome out;
    unsigned proofs = 0, paths = 0;
    for (const JitCase& c : cases(form)) {
      const JitProof p = prove_jit_case(c);
      ++proofs;
      paths += p.paths;
      if (p.verdict == JitProof::Verdict::Proved) continue;
      out.detail = describe(c) + ": " + p.detail;
      if (p.verdict == JitProof::Verdict::Error) {
        out.verdict = p.detail.rfind("solver gave up", 0) == 0 ? Verdict::Unknown : Verdict::Error;
        return out;
      }
      out.verdict = Verdict::Counterexample;
      out.data_test = p.data_test;
      const isa::RawInsn raw = case_instruction(c);
      CounterexampleInput w;
      w.form = c.form;
      w.dst_reg = raw.dst;
      w.src_reg = raw.src;
      w.dst_value = p.inputs[jit::x86::number(jit::kRegMap[raw.dst])];
      w.src_value = p.inputs[jit::x86::number(jit::kRegMap[raw.src])];
      w.imm = raw.imm;
      out.witness = w;
      return out;
    }
    out.verdict = Verdict::Proved;
    out.detail = std::to_string(proofs) + (proofs == 1 ? " proof, " : " proofs, ") + std::to_string(paths) +
                 " x86 paths";
    return out;
  }

 private:
  // A memory form: every offset class (and immediate) of mem_cases_for,
  // proved against the interpreter's memory semantics (mem_proof.hpp).
  CheckOutcome check_memory(isa::Form form) const {
    CheckOutcome out;
    unsigned proofs = 0, paths = 0;
    for (const MemCase& c : mem_cases(form)) {
      const MemProof p = prove_mem_case(c);
      ++proofs;
      paths += p.paths;
      if (p.verdict == MemProof::Verdict::Proved) continue;
      out.detail = p.verdict == MemProof::Verdict::Error ? describe(c) + ": " + p.detail : p.detail;
      if (p.verdict == MemProof::Verdict::Error) {
        out.verdict = p.detail.rfind("solver gave up", 0) == 0 ? Verdict::Unknown : Verdict::Error;
        return out;
      }
      out.verdict = Verdict::Counterexample;
      out.data_test = p.data_test;
      return out;
    }
    out.verdict = Verdict::Proved;
    out.detail = std::to_string(proofs) + (proofs == 1 ? " proof, " : " proofs, ") + std::to_string(paths) +
                 " x86 paths";
    return out;
  }

  // Calls, exits and block charges use no BPF registers of the column's:
  // one column per option set proves them.
  bool is_control_column() const {
    const RegisterAssignment first = representative_assignments().front();
    return assignment_.dst == first.dst && assignment_.src == first.src;
  }

  CheckOutcome check_control(isa::Form form) const {
    CheckOutcome out;
    unsigned proofs = 0, paths = 0;
    // Local calls and exits (call_proof), then helper calls and callx
    // (call_out_proof); the first proof that fails ends the cell.
    std::vector<std::pair<std::string, std::function<ControlProof()>>> proofs_to_run;
    if (form == isa::Form::exit) {
      // The program's end is the epilogue: proved with the prologue.
      for (const EntryExitCase& c : entry_exit_cases_for(options_))
        proofs_to_run.emplace_back(describe(c), [c] { return prove_entry_exit_case(c); });
    }
    for (const ControlCase& c : control_cases_for(form, options_))
      proofs_to_run.emplace_back(describe(c), [c] { return prove_control_case(c); });
    for (const CallOutCase& c : call_out_cases_for(form, assignment_.dst, options_))
      proofs_to_run.emplace_back(describe(c), [c] { return prove_call_out_case(c); });
    for (const auto& [what, prove] : proofs_to_run) {
      const ControlProof p = prove();
      ++proofs;
      paths += p.paths;
      if (p.verdict == ControlProof::Verdict::Proved) continue;
      out.detail = p.verdict == ControlProof::Verdict::Error ? what + ": " + p.detail : p.detail;
      if (p.verdict == ControlProof::Verdict::Error) {
        out.verdict = p.detail.rfind("solver gave up", 0) == 0 ? Verdict::Unknown : Verdict::Error;
        return out;
      }
      out.verdict = Verdict::Counterexample;
      out.data_test = p.data_test;
      return out;
    }
    out.verdict = Verdict::Proved;
    out.detail = std::to_string(proofs) + (proofs == 1 ? " proof, " : " proofs, ") + std::to_string(paths) +
                 " x86 paths";
    return out;
  }

  // With every assignment, a memory form that reads no dst (or no src)
  // gets the same cases in every column that differs only there
  // (mem_cases_for takes that register as r0): only the r0 column proves it.
  bool repeats_another_column(isa::Form form) const {
    if (which_ != JitAssignments::All) return false;
    const isa::FormInfo& fi = isa::info(form);
    return (fi.rules.dst == isa::RegRule::Zero && assignment_.dst != 0) ||
           (fi.rules.src == isa::RegRule::Zero && assignment_.src != 0);
  }

  std::vector<MemCase> mem_cases(isa::Form form) const {
    return mem_cases_for(form, assignment_.dst, assignment_.src, options_);
  }

  std::vector<JitCase> cases(isa::Form form) const {
    return cases_for(form, {assignment_}, imm_classes(), {options_});
  }

  jit::JitOptions options_;
  RegisterAssignment assignment_;
  JitAssignments which_;
};

}  // namespace

void add_jit_checks(CheckRegistry& registry, JitAssignments which) {
  const std::vector<RegisterAssignment> assignments =
      which == JitAssignments::All ? all_assignments() : representative_assignments();
  for (const jit::JitOptions& options : jit::all_option_sets()) {
    for (const RegisterAssignment& a : assignments)
      registry.add(std::make_unique<JitCheck>(options, a, which));
  }
}

}  // namespace bpfdiff::oracle::smt
