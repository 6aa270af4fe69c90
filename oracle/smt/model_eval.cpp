#include "oracle/smt/model_eval.hpp"

#include <string>

#include "oracle/smt/bpf_model.hpp"

namespace bpfdiff::oracle::smt {
namespace {

Error not_constant(isa::Form form) {
  return make_error("smt model: the term of " + std::string(isa::info(form).name) +
                    " did not fold to a constant");
}

}  // namespace

Result<uint64_t> ConcreteModel::dst_result(isa::Form form, uint64_t dst, uint64_t src) {
  try {
    auto term = smt::dst_result(ctx_, form, bv64(ctx_, dst), bv64(ctx_, src));
    if (!term) return term.error();
    const z3::expr value = term->simplify();
    uint64_t out = 0;
    if (!value.is_numeral_u64(out)) return not_constant(form);
    return out;
  } catch (const z3::exception& e) {
    return make_error(std::string("smt model: z3: ") + e.msg());
  }
}

Result<bool> ConcreteModel::branch_taken(isa::Form form, uint64_t dst, uint64_t src) {
  try {
    auto term = smt::branch_taken(ctx_, form, bv64(ctx_, dst), bv64(ctx_, src));
    if (!term) return term.error();
    const z3::expr value = term->simplify();
    if (value.is_true()) return true;
    if (value.is_false()) return false;
    return not_constant(form);
  } catch (const z3::exception& e) {
    return make_error(std::string("smt model: z3: ") + e.msg());
  }
}

}  // namespace bpfdiff::oracle::smt
