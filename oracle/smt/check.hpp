#pragma once
// The checks `bpfdiff smt check` runs, one column each: a check proves one
// implementation of the pure instructions (the interpreter's semantic
// functions, the JIT's x86-64 for one register assignment and option set,
// ...) equal to the model, one form at a time. Checks are registered in a
// CheckRegistry; the command composes the registry from every library that
// contributes checks (add_interp_checks here, the JIT proofs in
// oracle/smt/x86), so a new column is one class and one registration line.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/smt/counterexample.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::oracle::smt {

enum class Verdict : uint8_t {
  Proved,          // equal to the model for all inputs (within the check's input classes)
  Counterexample,  // an input on which the implementation and the model differ
  Unknown,         // the solver gave up (timeout, resource limit)
  Error,           // the check could not be set up (e.g. the JIT refused the program)
};
const char* to_string(Verdict v);

struct CheckOutcome {
  Verdict verdict = Verdict::Error;
  // One line for people: what was proved ("4 paths"), or the disagreement
  // ("dst=0x.. src=0x..: interpreter 0x.., model 0x.."), or the reason.
  std::string detail;
  // For Counterexample: a ready-to-run bpf_conformance .data test that fails
  // on the implementation (counterexample.hpp builds it).
  std::string data_test;
  // For Counterexample: the operands it was found on, so a caller can run
  // the implementation on them natively.
  std::optional<CounterexampleInput> witness;
  uint64_t ns = 0;  // filled by run_check: wall time of the check
};

class FormCheck {
 public:
  virtual ~FormCheck() = default;
  // The column name, e.g. "interp" or "jit r4,r3 bmi2". Unique in a registry.
  virtual std::string name() const = 0;
  virtual bool applies_to(isa::Form form) const = 0;
  // Never throws; failures to run are Verdict::Error.
  virtual CheckOutcome check(isa::Form form) = 0;
};

class CheckRegistry {
 public:
  void add(std::unique_ptr<FormCheck> check) { checks_.push_back(std::move(check)); }
  std::span<const std::unique_ptr<FormCheck>> checks() const { return checks_; }

 private:
  std::vector<std::unique_ptr<FormCheck>> checks_;
};

// Runs one check on one form and times it.
CheckOutcome run_check(FormCheck& check, isa::Form form);

}  // namespace bpfdiff::oracle::smt
