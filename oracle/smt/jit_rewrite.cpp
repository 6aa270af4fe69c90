#include "oracle/smt/jit_rewrite.hpp"

#include <unordered_map>

namespace bpfdiff::oracle::smt {
namespace {

z3::expr negative(const z3::expr& v) {
  const unsigned top = v.get_sort().bv_size() - 1;
  return v.extract(top, top) == v.ctx().bv_val(1, 1);
}

// SMT-LIB 2 FixedSizeBitVectors: bvsdiv and bvsrem by cases on the signs.
z3::expr signed_divide(const z3::expr& s, const z3::expr& t) {
  const z3::expr ms = negative(s);
  const z3::expr mt = negative(t);
  return z3::ite(
      !ms && !mt, z3::udiv(s, t),
      z3::ite(ms && !mt, -z3::udiv(-s, t), z3::ite(!ms && mt, -z3::udiv(s, -t), z3::udiv(-s, -t))));
}

z3::expr signed_remainder(const z3::expr& s, const z3::expr& t) {
  const z3::expr ms = negative(s);
  const z3::expr mt = negative(t);
  return z3::ite(
      !ms && !mt, z3::urem(s, t),
      z3::ite(ms && !mt, -z3::urem(-s, t), z3::ite(!ms && mt, z3::urem(s, -t), -z3::urem(-s, -t))));
}

class Expander {
 public:
  z3::expr run(const z3::expr& e) {
    const auto it = done_.find(e.id());
    if (it != done_.end()) return it->second;
    z3::expr out = e;
    if (e.is_app() && e.num_args() > 0) {
      z3::expr_vector args(e.ctx());
      for (unsigned i = 0; i < e.num_args(); ++i)
        args.push_back(run(e.arg(i)));
      const Z3_decl_kind kind = e.decl().decl_kind();
      if (kind == Z3_OP_BSDIV || kind == Z3_OP_BSDIV_I) {
        out = signed_divide(args[0], args[1]);
      } else if (kind == Z3_OP_BSREM || kind == Z3_OP_BSREM_I) {
        out = signed_remainder(args[0], args[1]);
      } else {
        out = e.decl()(args);
      }
    }
    done_.emplace(e.id(), out);
    return out;
  }

 private:
  std::unordered_map<unsigned, z3::expr> done_;
};

}  // namespace

z3::expr expand_signed_division(const z3::expr& e) {
  return Expander().run(e);
}

}  // namespace bpfdiff::oracle::smt
