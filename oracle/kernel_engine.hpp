#pragma once
// One engine for every kernel: `kernel-host` (this machine's kernel through
// bpf()), `kernel-qemu` and `kernel-qemu-interp` (a guest kernel's JIT and
// interpreter). They differ only in who serves the KernelRequest -- the
// executor in this process, a guest pool, or a pool daemon -- and in the
// request flags (kJitDisable for the guest's interpreter); turning the
// response into an Outcome that compares with ours is the same for all.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oracle/engine.hpp"
#include "oracle/kernel/kernel_request.hpp"

namespace bpfdiff::oracle {

// The program's maps as a kernel request carries them: type, sizes, and an
// array's initial contents (a hash map starts empty).
std::vector<kernel::KernelMap> request_maps(const vm::Program& program);

class KernelEngine final : public Engine {
 public:
  // `flags` are or-ed into every request (kWantLogOnReject is always set).
  KernelEngine(const vm::HelperRegistry& helpers, std::string name, uint32_t flags,
               kernel::ExecuteFn execute);

  std::string_view name() const override { return name_; }
  // Ask the executor for KCOV coverage with every run (kWantCoverage): the
  // outcome's kernel->coverage says Collected, or Unavailable and why (a
  // guest kernel without KCOV, or kernel-host, which never traces).
  void set_want_coverage(bool want) { want_coverage_ = want; }
  // More flags for every later request (e.g. kernel::kReasonOnlyLog).
  void add_request_flags(uint32_t flags) { flags_ |= flags; }
  Outcome run(const vm::Program& program, const EngineInput& input) override;
  // The same with `extra` flags for this request only.
  Outcome run_with_flags(const vm::Program& program, const EngineInput& input, uint32_t extra);

 protected:
  // The verifier sees the memory's size, so one load serves one input only.
  Result<std::unique_ptr<Executor>> prepare_with(const vm::Program&, const vm::ExecLimits&,
                                                 const vm::HelperRegistry&) override;

 private:
  std::string name_;
  uint32_t flags_;
  bool want_coverage_ = false;
  kernel::ExecuteFn execute_;
};

// For campaigns, which tally rejections by reason: when `engine` is a kernel
// engine, its rejections' logs carry the reason only (kernel::kReasonOnlyLog).
void use_reason_only_logs(Engine& engine);

// `engine.run`, but a kernel engine runs the program unmodified only
// (kernel::kPlainOnly): for programs whose state does not compare anyway.
Outcome run_unmodified_only(Engine& engine, const vm::Program& program, const EngineInput& input);

}  // namespace bpfdiff::oracle
