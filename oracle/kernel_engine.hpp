#pragma once
// One engine for every kernel: `kernel-host` (this machine's kernel through
// bpf()), `kernel-qemu` and `kernel-qemu-interp` (a guest kernel's JIT and
// interpreter). They differ only in who serves the KernelRequest -- the
// executor in this process, a guest pool, or a pool daemon -- and in the
// request flags (kJitDisable for the guest's interpreter); turning the
// response into an Outcome that compares with ours is the same for all.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oracle/engine.hpp"
#include "oracle/kernel/kernel_request.hpp"

namespace bpfdiff::oracle {

// The program's maps as a kernel request carries them: type, sizes, an
// array's initial contents, a hash map's starting entries, a program
// array's targets.
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

  // Serves run_batch() (a guest pool, which pipelines); unset, run_batch()
  // runs the programs one after the other.
  void set_batch_executor(kernel::ExecuteBatchFn execute_batch) { execute_batch_ = std::move(execute_batch); }
  struct BatchRun {
    const vm::Program* program = nullptr;
    const EngineInput* input = nullptr;
    uint32_t extra_flags = 0;
  };
  // run_with_flags() for each, in order, as one batch: the outcomes are the
  // same as one by one, and each outcome's request_ns is the time from the
  // answer before it (or the batch's start) to its own, so what the batch
  // saves shows as less time asking.
  std::vector<Outcome> run_batch(std::span<const BatchRun> runs);

 protected:
  // The verifier sees the memory's size, so one load serves one input only.
  Result<std::unique_ptr<Executor>> prepare_with(const vm::Program&, const vm::ExecLimits&,
                                                 const vm::HelperRegistry&) override;

 private:
  // The request for a program, or nullopt with the answer when the kernel
  // cannot run it at all.
  std::optional<kernel::KernelRequest> make_request(const vm::Program& program, const EngineInput& input,
                                                    uint32_t extra, Outcome& unsupported) const;
  // The outcome of `response`, as compared with ours.
  Outcome finish(const vm::Program& program, const EngineInput& input, const kernel::KernelRequest& request,
                 const kernel::KernelResponse& response, uint64_t request_ns) const;

  std::string name_;
  uint32_t flags_;
  bool want_coverage_ = false;
  kernel::ExecuteFn execute_;
  kernel::ExecuteBatchFn execute_batch_;
};

// For campaigns, which tally rejections by reason: when `engine` is a kernel
// engine, its rejections' logs carry the reason only (kernel::kReasonOnlyLog).
void use_reason_only_logs(Engine& engine);

// `engine.run`, but a kernel engine runs the program unmodified only
// (kernel::kPlainOnly): for programs whose state does not compare anyway.
Outcome run_unmodified_only(Engine& engine, const vm::Program& program, const EngineInput& input);

}  // namespace bpfdiff::oracle
