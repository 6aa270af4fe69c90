#include "oracle/smt/read_over_write.hpp"

#include <optional>
#include <unordered_map>
#include <vector>

namespace bpfdiff::oracle::smt {
namespace {

bool is(const z3::expr& e, Z3_decl_kind kind) {
  return e.is_app() && e.decl().decl_kind() == kind;
}

// Which of `objects` an address lies in: base + constant within its bounds.
int object_of(const z3::expr& address, const std::vector<DisjointObject>& objects) {
  z3::expr base = address;
  int64_t offset = 0;
  if (is(address, Z3_OP_BADD) && address.num_args() == 2) {
    for (unsigned i = 0; i < 2; ++i) {
      uint64_t v = 0;
      if (address.arg(i).is_numeral_u64(v)) {
        offset = static_cast<int64_t>(v);
        base = address.arg(1 - i);
      }
    }
  }
  for (std::size_t k = 0; k < objects.size(); ++k) {
    if (z3::eq(objects[k].base, base) && offset >= objects[k].lo && offset < objects[k].hi)
      return static_cast<int>(k);
  }
  return -1;
}

class Expander {
 public:
  explicit Expander(const std::vector<DisjointObject>& objects) : objects_(objects) {}

  z3::expr run(const z3::expr& e) {
    if (!e.is_app() || e.num_args() == 0) return e;
    if (const auto it = done_.find(e.id()); it != done_.end()) return it->second;
    z3::expr_vector args(e.ctx());
    for (unsigned i = 0; i < e.num_args(); ++i)
      args.push_back(run(e.arg(i)));
    z3::expr out = e.decl()(args);
    if (is(out, Z3_OP_SELECT)) out = read(out.arg(0), out.arg(1).simplify());
    done_.emplace(e.id(), out);
    return out;
  }

 private:
  z3::expr read(const z3::expr& array, const z3::expr& address) {
    if (is(array, Z3_OP_STORE)) {
      z3::expr same = (array.arg(1) == address).simplify();
      if (!same.is_true() && !same.is_false()) {
        const int a = object_of(array.arg(1), objects_);
        const int b = object_of(address, objects_);
        if (a >= 0 && b >= 0 && a != b) same = address.ctx().bool_val(false);
      }
      if (same.is_true()) return array.arg(2);
      const z3::expr below = read(array.arg(0), address);
      if (same.is_false()) return below;
      return z3::ite(same, array.arg(2), below);
    }
    if (is(array, Z3_OP_ITE))
      return z3::ite(array.arg(0), read(array.arg(1), address), read(array.arg(2), address));
    return z3::select(array, address);
  }

  const std::vector<DisjointObject>& objects_;
  std::unordered_map<unsigned, z3::expr> done_;
};

// The addresses stores over `base` write in `memory` (through either arm
// of an if-then-else of memories), or nullopt for any other shape.
std::optional<std::vector<z3::expr>> written_addresses(z3::expr memory, const z3::expr& base) {
  std::vector<z3::expr> out;
  while (!z3::eq(memory, base)) {
    if (is(memory, Z3_OP_ITE)) {
      auto a = written_addresses(memory.arg(1), base);
      auto b = written_addresses(memory.arg(2), base);
      if (!a || !b) return std::nullopt;
      out.insert(out.end(), a->begin(), a->end());
      out.insert(out.end(), b->begin(), b->end());
      return out;
    }
    if (!is(memory, Z3_OP_STORE)) return std::nullopt;
    out.push_back(memory.arg(1));
    memory = memory.arg(0);
  }
  return out;
}

}  // namespace

z3::expr expand_reads(const z3::expr& e, const std::vector<DisjointObject>& objects) {
  return Expander(objects).run(e);
}

z3::expr same_memory(const z3::expr& a, const z3::expr& b, const z3::expr& base, const z3::expr& probe) {
  const auto wa = written_addresses(a, base);
  const auto wb = written_addresses(b, base);
  if (!wa || !wb) return z3::select(a, probe) == z3::select(b, probe);
  z3::expr_vector agree(a.ctx());
  for (const auto* written : {&*wa, &*wb}) {
    for (const z3::expr& address : *written)
      agree.push_back(z3::select(a, address) == z3::select(b, address));
  }
  return z3::mk_and(agree);
}

}  // namespace bpfdiff::oracle::smt
