#pragma once
// Wraps a helper registry so every call through it is appended to a log: the
// helper-call trace of an Outcome. Works for any engine, because the engine
// only ever sees the wrapped registry.
#include <memory>
#include <vector>

#include "oracle/outcome.hpp"
#include "vm/runtime/helpers.hpp"

namespace bpfdiff::oracle {

class RecordingHelpers {
 public:
  explicit RecordingHelpers(const vm::HelperRegistry& real);

  const vm::HelperRegistry& registry() const { return wrapped_; }
  std::vector<HelperCallRecord>& log() { return log_; }

 private:
  struct Slot {
    const vm::HelperSpec* real;
    std::vector<HelperCallRecord>* log;
  };
  static uint64_t trampoline(vm::HelperCall& call);

  std::vector<std::unique_ptr<Slot>> slots_;  // stable addresses for HelperSpec::user
  vm::HelperRegistry wrapped_;
  std::vector<HelperCallRecord> log_;
};

}  // namespace bpfdiff::oracle
