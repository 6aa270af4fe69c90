#include "oracle/smt/interp_check.hpp"

#include <string>

#include "oracle/smt/bpf_model.hpp"
#include "vm/runtime/semantics_impl.hpp"

namespace bpfdiff::oracle::smt {
namespace {

namespace sem = vm::sem;
using isa::Family;
using isa::Semantics;
using isa::Source;
using isa::Width;
using U64 = SymDomain::U64;

// What the interpreter's step<S> computes for row S, with the same choice of
// semantic function, width and operand (register, or imm through
// sem::sext_imm) that step<S> makes, on symbolic values.
template <Semantics S>
z3::expr interpreter_step(const SymOperands& in) {
  if constexpr (S.family == Family::Alu) {
    const U64 src = S.source == Source::Reg ? in.src : sem::sext_imm<SymDomain>(in.imm);
    if constexpr (S.width == Width::W64) {
      return sem::alu64<S.alu, SymDomain>(in.dst, src).expr();
    } else {
      return sem::alu32<S.alu, SymDomain>(in.dst, src).expr();
    }
  } else if constexpr (S.family == Family::Endian) {
    return sem::endian<S.endian, S.endian_bits, SymDomain>(in.dst).expr();
  } else if constexpr (S.family == Family::Jump) {
    if constexpr (S.cond == isa::JmpCond::Always) {
      return in.dst.expr().ctx().bool_val(true);  // step<S> jumps without a condition
    } else {
      const U64 b = S.source == Source::Reg ? in.src : sem::sext_imm<SymDomain>(in.imm);
      return sem::condition<S.cond, S.width, SymDomain>(in.dst, b).expr();
    }
  } else {
    return in.dst.expr();  // never called: lifted_interpreter rejects uncovered forms
  }
}

}  // namespace

Result<LiftedSemantics> lifted_interpreter(isa::Form form) {
  if (!covers(form)) return make_error(std::string(isa::info(form).name) + " is not modelled");
  using namespace isa;  // the rows of forms.def name enumerators unqualified
  switch (form) {
#define BPF_FORM(name, opcode, disc, disc_value, mnemonic, semantics) \
  case isa::Form::name:                                               \
    return LiftedSemantics(&interpreter_step<semantics>);
#include "vm/isa/forms.def"
#undef BPF_FORM
  }
  return make_error("unknown form");
}

bool InterpCheck::applies_to(isa::Form form) const {
  return covers(form);
}

CheckOutcome InterpCheck::check(isa::Form form) {
  auto lifted = lifted_interpreter(form);
  if (!lifted) {
    CheckOutcome out;
    out.detail = lifted.error().message;
    return out;
  }
  return prove_against_model(form, *lifted, options_);
}

void add_interp_checks(CheckRegistry& registry) {
  registry.add(std::make_unique<InterpCheck>());
}

}  // namespace bpfdiff::oracle::smt
