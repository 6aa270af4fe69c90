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

  // A recorder over `real` with an empty log, lent from a spare kept per
  // thread, which is made again only when `real` is another registry or
  // its helpers changed: the differential harness records every run, and
  // building the wrapped registry was a few dozen allocations a run (which
  // the sanitizer builds make expensive). The spare goes back when the
  // lease ends; a lease taken while another is held gets a recorder of its
  // own.
  class Lease {
   public:
    explicit Lease(const vm::HelperRegistry& real);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    RecordingHelpers& operator*() const { return *recorder_; }
    RecordingHelpers* operator->() const { return recorder_.get(); }

   private:
    std::unique_ptr<RecordingHelpers> recorder_;
  };

  const vm::HelperRegistry& registry() const { return wrapped_; }
  std::vector<HelperCallRecord>& log() { return log_; }

 private:
  struct Slot {
    const vm::HelperSpec* real;
    std::vector<HelperCallRecord>* log;
  };
  static uint64_t trampoline(vm::HelperCall& call);
  // Whether this recorder wraps exactly the helpers `real` has now.
  bool wraps(const vm::HelperRegistry& real) const;

  const vm::HelperRegistry* real_;
  std::vector<vm::HelperSpec> real_specs_;  // copies, by id: what wraps() compares

  std::vector<std::unique_ptr<Slot>> slots_;  // stable addresses for HelperSpec::user
  vm::HelperRegistry wrapped_;
  std::vector<HelperCallRecord> log_;
};

}  // namespace bpfdiff::oracle
