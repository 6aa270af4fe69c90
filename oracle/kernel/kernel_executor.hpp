#pragma once
// The kernel executor: takes a KernelRequest and runs the program in the
// running kernel twice, each time one load and one BPF_PROG_TEST_RUN:
//  - unmodified (PlainRun), as BPF_PROG_TYPE_SYSCALL with the memory as the
//    test run's context: the verdict on the program as written, its 32-bit
//    return value and the memory after the run. Nothing of ours is around
//    it, so it cannot hide or cause a verifier bug; it cannot show r1..r9 or
//    r0's upper half, and the verifier allows the context only constant,
//    aligned offsets from r1 (no pointer arithmetic, no atomics), so many
//    programs that touch the memory are rejected in this form;
//  - with the full-state recipe (full_state_rewrite.hpp), an
//    instrumentation chosen by the request's seed: every register r0..r9
//    with its 64 bits, the memory (a map value, so any pointer arithmetic
//    the verifier can follow), the pointer bases. The wrapper changes the
//    program the verifier sees, so where its verdict differs from the plain
//    one, the plain one is the kernel's judgement of the program. Used directly by the `kernel-host` engine
//    and, linked statically,
// by the agent inside a QEMU guest; it depends only on vm/isa and the uapi
// headers.
//
// Speed: the registers map and one memory map per memory size are created
// once and reused; values go in and out through mmap, so a request costs
// the load, the test run and a close. The verifier log is asked for only
// after a rejection (logging every load at level 1 costs about 3x); a
// campaign, which wants only the reason, gets it from the full-state load
// itself, made with a BPF_LOG_STATS log. The program's own
// maps (KernelRequest::maps) come from a pool of reused maps, reset to
// their initial contents before each of the two runs and read back after
// it (kernel_maps.hpp).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/kernel/bpf_syscall.hpp"
#include "oracle/kernel/jit_sysctl.hpp"
#include "oracle/kernel/kernel_maps.hpp"
#include "oracle/kernel/kernel_request.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel {

struct ExecutorOptions {
  // See RewriteInput::allow_helper_calls: off on the host, where a random
  // helper call could act on this process.
  bool allow_helper_calls = false;
  // Where bpf_jit_enable and bpf_jit_harden live.
  std::string sysctl_dir = "/proc/sys/net/core";
};

class KernelExecutor {
 public:
  // Creates the registers map; fails with the reason bpf() is unusable here
  // (no permission, no BPF syscall, no mmappable arrays, ...).
  static Result<std::unique_ptr<KernelExecutor>> create(const ExecutorOptions& options = {});
  ~KernelExecutor();
  KernelExecutor(const KernelExecutor&) = delete;
  KernelExecutor& operator=(const KernelExecutor&) = delete;

  // Never fails as a call: every problem is a verdict (Rejected,
  // Unsupported, Failed) with the reason in `log`.
  KernelResponse execute(const KernelRequest& request);

  const std::string& kernel_release() const { return release_; }

 private:
  // One mmapped single-entry array.
  struct MappedValue {
    Fd fd;
    uint8_t* data = nullptr;
    std::size_t mapped = 0;
    uint32_t value_size = 0;
  };
  KernelExecutor(const ExecutorOptions& options, MappedValue regs, std::string release);
  static Result<MappedValue> map_value(uint32_t value_size, const char* name);
  static void unmap(MappedValue& v);
  Result<MappedValue*> memory_map(uint32_t size);
  // The log of a load that fails again, at level 1, or at BPF_LOG_STATS
  // with kReasonOnlyLog in `flags`.
  std::string verifier_log(std::span<const isa::RawInsn> insns, uint32_t flags, bool tail_calls = false);
  // `jit`: how the kernel runs the unmodified program, once it loaded.
  void run_plain(const KernelRequest& request, std::span<const isa::RawInsn> relocated, PlainRun& plain,
                 ExecutorPhases& phases, JitState& jit);
  // Loads the full-state program; for a request that wants only a
  // rejection's reason, with a BPF_LOG_STATS log, and a rejection's
  // messages then go to `reason` (nothing there: verifier_log() is needed).
  SysResult<Fd> load_full_state(std::span<const isa::RawInsn> insns, uint32_t flags, bool tail_calls,
                                ExecutorPhases& phases, std::optional<std::string>& reason);
  // Runs the loaded program (the first piece) and reads back what the
  // epilogue of the piece that exited exported (`regs_valid_by_piece`).
  void run_loaded(int prog_fd, const KernelRequest& request, MappedValue* mem,
                  std::span<const uint16_t> regs_valid_by_piece, KernelResponse& out);

  ExecutorOptions options_;
  MappedValue regs_;
  std::map<uint32_t, MappedValue> memory_maps_;  // by value size
  KernelMapPool maps_;                           // the program's own maps
  JitSysctl jit_;
  std::string release_;
  std::vector<char> log_buf_;
};

// Whether programs can be loaded and run here: a two-instruction
// BPF_PROG_TYPE_SYSCALL program is loaded and test-run. The error is the
// reason, e.g. "bpf(BPF_PROG_LOAD): EPERM: Operation not permitted".
Result<void> probe_kernel();

// Whether a kernel of this release (uname -r, e.g. "6.12.118-cloud-amd64")
// keeps the tail of a verifier log that does not fit its buffer (6.4 and
// later); older kernels keep the head. An unparsable release counts as old.
bool kernel_log_rotates(std::string_view release);

}  // namespace bpfdiff::oracle::kernel
