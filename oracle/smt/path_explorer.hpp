#pragma once
// Symbolic execution of ordinary C++ by re-execution. Code written against
// the Z3-backed integer types of sym_int.hpp runs once per path: whenever it
// branches on a symbolic condition (`if`, `?:`, `&&`, `||`, `!`), the explorer
// decides the branch, records the condition on the path, and later runs the
// code again with the other decision, depth first, until every combination of
// decisions has run. Each run yields a Path: its condition, its result term
// and the obligations (no division by zero, no signed overflow in division,
// shift counts below the width) that C++ needs there to be defined.
//
// This is what lets the interpreter check prove the interpreter's own
// semantic templates rather than a transcription of them.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <z3++.h>

#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

// A condition C++ needs for the operation to be defined, e.g. "divisor != 0".
struct Obligation {
  z3::expr holds;
  std::string what;  // "signed division overflow", "shift count >= 64", ...
};

struct Path {
  z3::expr condition;  // conjunction of the branch decisions taken
  z3::expr result;     // what the code returned on this path
  std::vector<Obligation> obligations;
};

class PathExplorer {
 public:
  // Bounds the exploration: code under check branches a handful of times, so
  // a blow-up means a bug in the lifting, reported rather than run forever.
  static constexpr std::size_t kMaxPaths = 1024;

  explicit PathExplorer(z3::context& ctx) : ctx_(ctx) {}
  PathExplorer(const PathExplorer&) = delete;
  PathExplorer& operator=(const PathExplorer&) = delete;

  // Runs `body` once per path. While it runs, this explorer is the current one
  // of the thread (sym_int.hpp finds it through current()). z3 exceptions are
  // turned into errors.
  Result<std::vector<Path>> explore(const std::function<z3::expr()>& body);

  // Called by a symbolic Bool converted to bool: the decision for this branch
  // on the current run. Conditions that simplify to a constant do not fork.
  bool decide(const z3::expr& condition);
  // Records an obligation on the current path.
  void require(const z3::expr& holds, std::string what);

  z3::context& ctx() { return ctx_; }

  // The explorer of the running explore() on this thread. Symbolic values
  // must only be created inside explore(); outside, this aborts with a message
  // (a programming error in the checker, never reachable from user input).
  static PathExplorer& current();

 private:
  z3::context& ctx_;
  std::vector<bool> decisions_;  // the prescribed decisions of the current run, in order
  std::size_t next_decision_ = 0;
  std::vector<z3::expr> conditions_;
  std::vector<Obligation> obligations_;
};

}  // namespace bpfdiff::oracle::smt
