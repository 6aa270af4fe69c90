#pragma once
// One validation for several engines that run the same program in turn.
#include <cstdint>
#include <optional>
#include <vector>

#include "oracle/engine.hpp"

namespace bpfdiff::oracle {

// While one is alive on a thread, engines on that thread that validate this
// very Program object (timed_validate) share one validation: its rejection,
// or a copy of its LoadedProgram, and its time. The differential harness
// runs one program in the interpreter and every JIT option set, and
// validation depends only on the program and on which helper ids exist, so
// each engine validating it again found the same thing. A registry with
// other helper ids validates afresh. Not nestable: an inner scope replaces
// the outer one until it ends.
class SharedValidation {
 public:
  explicit SharedValidation(const vm::Program& program);
  ~SharedValidation();
  SharedValidation(const SharedValidation&) = delete;
  SharedValidation& operator=(const SharedValidation&) = delete;

  // How many validations were served from the share (for tests).
  uint64_t reused() const { return reused_; }

 private:
  friend Result<Validated> timed_validate(const vm::Program&, const vm::HelperRegistry&);
  const vm::Program& program_;
  SharedValidation* outer_;
  std::vector<uint32_t> helper_ids_;  // sorted, of the first validation
  std::optional<Result<vm::LoadedProgram>> result_;
  uint64_t ns_ = 0;
  uint64_t reused_ = 0;
};

}  // namespace bpfdiff::oracle
