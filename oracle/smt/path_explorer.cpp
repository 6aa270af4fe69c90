#include "oracle/smt/path_explorer.hpp"

#include <cstdio>
#include <cstdlib>

namespace bpfdiff::oracle::smt {
namespace {

thread_local PathExplorer* g_current = nullptr;

// Restores the previous current explorer however explore() is left.
class CurrentScope {
 public:
  explicit CurrentScope(PathExplorer* e) : saved_(g_current) { g_current = e; }
  ~CurrentScope() { g_current = saved_; }
  CurrentScope(const CurrentScope&) = delete;
  CurrentScope& operator=(const CurrentScope&) = delete;

 private:
  PathExplorer* saved_;
};

}  // namespace

PathExplorer& PathExplorer::current() {
  if (g_current == nullptr) {
    std::fputs("bpfdiff: symbolic value used outside PathExplorer::explore\n", stderr);
    std::abort();
  }
  return *g_current;
}

Result<std::vector<Path>> PathExplorer::explore(const std::function<z3::expr()>& body) {
  CurrentScope scope(this);
  std::vector<Path> paths;
  decisions_.clear();
  try {
    for (;;) {
      next_decision_ = 0;
      conditions_.clear();
      obligations_.clear();
      z3::expr result = body();
      z3::expr_vector conj(ctx_);
      for (const z3::expr& c : conditions_)
        conj.push_back(c);
      paths.push_back(Path{z3::mk_and(conj), result, obligations_});
      // Depth first: drop the trailing decisions whose both sides have run,
      // then take the other side of the last one that has not.
      while (!decisions_.empty() && decisions_.back())
        decisions_.pop_back();
      if (decisions_.empty()) break;
      decisions_.back() = true;
      if (paths.size() >= kMaxPaths) {
        return make_error("symbolic execution: more than " + std::to_string(kMaxPaths) + " paths");
      }
    }
  } catch (const z3::exception& e) {
    return make_error(std::string("symbolic execution: z3: ") + e.msg());
  }
  return paths;
}

bool PathExplorer::decide(const z3::expr& condition) {
  const z3::expr folded = condition.simplify();
  if (folded.is_true()) return true;
  if (folded.is_false()) return false;
  if (next_decision_ == decisions_.size()) decisions_.push_back(false);
  const bool taken = decisions_[next_decision_++];
  conditions_.push_back(taken ? condition : !condition);
  return taken;
}

void PathExplorer::require(const z3::expr& holds, std::string what) {
  obligations_.push_back(Obligation{holds, std::move(what)});
}

}  // namespace bpfdiff::oracle::smt
