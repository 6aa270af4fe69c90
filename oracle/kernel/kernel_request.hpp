#pragma once
// The contract between the host side of the kernel oracle and whatever loads
// programs into a real kernel: the host itself (`kernel-host`, direct bpf())
// or the agent inside a QEMU guest (`kernel-qemu`, `kernel-qemu-interp`).
// Both executors take a KernelRequest and give back a KernelResponse; the
// guest protocol (oracle/kernel/protocol.*) serializes exactly these fields.
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "oracle/kernel/kernel_coverage.hpp"
#include "vm/isa/raw.hpp"

namespace bpfdiff::oracle::kernel {

// Flags of a request (bit set).
enum KernelRequestFlag : uint32_t {
  kWantLogOnReject = 1u << 0,  // reload with the verifier log when the load fails
  kJitDisable = 1u << 1,       // guest only: bpf_jit_enable = 0 (kernel interpreter)
  kJitHarden = 1u << 2,        // guest only: bpf_jit_harden = 2 (constant blinding)
  kWantPlainLog = 1u << 3,     // reload the unmodified program with the log when it is rejected
  kWantCoverage = 1u << 4,     // guest only: KCOV edges of the request (kernel_coverage.hpp)
  // A rejection's log needs only the reason: reload at BPF_LOG_STATS (the
  // verifier's messages, among them the reason, and its statistics) instead
  // of level 1, which prints every instruction walked. On a program that
  // runs into the complexity limit the level-1 reload took 3 to 5 times as
  // long as the load itself. Campaigns set it (they tally reasons); `run`
  // and `repro` show the whole log.
  kReasonOnlyLog = 1u << 5,
  // Only the unmodified run; the full-state run is not made (verdict
  // Unsupported). For a program our VM ran past its instruction budget:
  // its state is not comparable, so the wrapped load (a second walk of the
  // verifier, to its complexity limit on a runaway loop) would tell nothing
  // the unmodified verdict does not.
  kPlainOnly = 1u << 6,
};

// Linux BPF_MAP_TYPE_* numbers, as vm::MapType (the agent does not link the VM).
inline constexpr uint32_t kMapTypeHash = 1;
inline constexpr uint32_t kMapTypeArray = 2;
inline constexpr uint32_t kMapTypeProgArray = 3;
// Maps one request may carry; the full-state epilogue exports the value
// address of each array map in a word of its own (full_state_rewrite.hpp).
inline constexpr uint32_t kMaxRequestMaps = 16;
// Bounds on one map, so a request can neither exhaust the guest's memory
// nor make the per-run reset and read-back slow: a kernel campaign's
// generated maps are far smaller, an ELF object's global data fits.
inline constexpr uint32_t kMaxRequestMapKeySize = 512;
inline constexpr uint32_t kMaxRequestMapValueSize = 1u << 16;
inline constexpr uint32_t kMaxRequestMapEntries = 4096;
inline constexpr uint64_t kMaxRequestMapBytes = 1u << 20;  // max_entries * value_size

struct KernelMapEntry {
  std::vector<uint8_t> key;
  std::vector<uint8_t> value;
  bool operator==(const KernelMapEntry&) const = default;
};

// One of the program's maps (vm::MapDef without what only our VM needs).
// `lddw map_fd/map_idx(i)` and `map_value/map_idx_value(i, off)` in the
// program name map i of the request; the executor creates the kernel maps
// and relocates those instructions to BPF_PSEUDO_MAP_FD/_VALUE with their
// descriptors (map_relocation.hpp).
struct KernelMap {
  uint32_t type = kMapTypeArray;
  uint32_t key_size = 4;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  // Global .rodata: created with BPF_F_RDONLY_PROG and frozen after the
  // initial contents are written, so the verifier knows its bytes.
  bool read_only = false;
  // Arrays: max_entries * value_size bytes, or empty for zeros. Program
  // arrays (value size 4): per index a u32, 1 + the slot of the program our
  // VM tail-calls there, 0 when empty; the executor puts the kernel program
  // of that slot there (program_pieces.hpp). Hash
  // maps: none (their contents are initial_entries).
  std::vector<uint8_t> initial_values;
  // Hash maps: the entries inserted (BPF_MAP_UPDATE_ELEM, in order) into
  // the emptied map before each run, as vm::MapDef::initial_entries.
  std::vector<KernelMapEntry> initial_entries;

  bool operator==(const KernelMap&) const = default;
};

// A map's contents after a run: an array's every index in order (key = the
// u32 index), a hash map's keys in the order the kernel iterated them (the
// comparison sorts them: order and slot placement are not observable).
struct KernelMapContents {
  std::vector<KernelMapEntry> entries;
  bool operator==(const KernelMapContents&) const = default;
};

struct KernelRequest {
  uint32_t flags = kWantLogOnReject;
  // The program exactly as our VM runs it: r1 = address of `memory` (or 0
  // when empty), r2 = its length, r10 = frame pointer. The executor runs it
  // twice: unmodified (r1 = the test run's context, holding `memory`), and
  // wrapped in the full-state recipe (prologue, epilogue, register/memory
  // maps; full_state_rewrite.hpp).
  std::vector<isa::RawInsn> program;
  std::vector<uint8_t> memory;
  // Picks the full-state instrumentation (instrumentation_for_seed()).
  uint32_t instrumentation_seed = 0;
  // Created fresh (or reset) for each of the two runs.
  std::vector<KernelMap> maps;
};

enum class KernelVerdict : uint8_t {
  Accepted,     // loaded and ran; regs/memory are meaningful
  Rejected,     // the verifier said no; see errno_value and log
  Unsupported,  // the recipe cannot express this program (e.g. too long after rewriting)
  Failed,       // load accepted but BPF_PROG_TEST_RUN failed, or the executor broke
};

// The program as written, loaded and run with nothing around it: the verdict
// that counts (a rewrite can move where the verifier prunes, or make a
// program valid that is not), and what a test run shows of any program --
// its 32-bit return value and the memory, which the kernel copies in as the
// context (r1) and back out after the run.
struct PlainRun {
  bool loaded = false;  // the verifier accepted the unmodified program
  // Accepted: loaded and ran; Rejected; Unsupported (not even tried: see
  // check_expressible); Failed: loaded but the test run failed (e.g. EINVAL
  // when the program reads context bytes past the memory), or bpf() broke.
  KernelVerdict verdict = KernelVerdict::Unsupported;
  int32_t errno_value = 0;
  std::string log;  // the rejection's log with kWantPlainLog, or what failed
  uint32_t retval = 0;
  std::vector<uint8_t> memory;          // after the run (Accepted)
  std::vector<KernelMapContents> maps;  // after the run (Accepted), one per request map

  bool operator==(const PlainRun&) const = default;
};

enum class JitState : uint8_t { Unknown, Jited, Interpreted };

// Where the executor's time went, so a campaign can say what a guest's
// time is spent on (duration_ns holds these and the rest: the JIT sysctl,
// copying the response).
struct ExecutorPhases {
  uint64_t plain_load_ns = 0;  // BPF_PROG_LOAD of the unmodified program: the verifier (and JIT)
  uint64_t plain_run_ns = 0;   // its BPF_PROG_TEST_RUN
  uint64_t full_load_ns = 0;   // BPF_PROG_LOAD of the full-state program
  uint64_t full_run_ns = 0;    // its test run
  uint64_t log_ns = 0;         // loads made again only for a rejection's verifier log
  uint64_t close_ns = 0;       // closing the programs (their freeing is deferred by the kernel)
  uint64_t maps_ns = 0;        // kernel maps: taking them from the pool, resetting, reading them back
  uint64_t prepare_ns = 0;     // our own work: checks, map relocation, the full-state rewrite, memory copies

  uint64_t sum() const {
    return plain_load_ns + plain_run_ns + full_load_ns + full_run_ns + log_ns + close_ns + maps_ns +
           prepare_ns;
  }
  bool operator==(const ExecutorPhases&) const = default;
};

// The fields outside `plain` describe the full-state run.
struct KernelResponse {
  PlainRun plain;
  std::string instrumentation;  // the full-state wrapper used, e.g. "epilogue-first/full-prologue"
  // Slots in front of the original pc 0 in the full-state program: its
  // verifier log says p + body_offset for the program's pc p.
  uint32_t body_offset = 0;
  KernelVerdict verdict = KernelVerdict::Failed;
  int32_t errno_value = 0;          // of BPF_PROG_LOAD or BPF_PROG_TEST_RUN
  std::string log;                  // verifier log (on rejection) or a description of the failure
  std::array<uint64_t, 10> regs{};  // r0..r9 at exit (full 64 bits)
  // Bit i: regs[i] was exported. The verifier treats r1..r5 as undefined
  // after a call, so on programs with calls the kernel may not give them
  // (see full_state_rewrite.hpp); they are then not comparable.
  uint16_t regs_valid = 0x3ff;
  std::vector<uint8_t> memory;  // the memory after the run
  // Kernel addresses of memory[0] and of the entry frame pointer (r10) as the
  // program saw them, so pointer-valued registers translate into our VM's
  // region + offset form before comparison (0 when unknown).
  uint64_t memory_base = 0;
  uint64_t frame_base = 0;
  // After the full-state run (Accepted), one per request map.
  std::vector<KernelMapContents> maps;
  // Kernel address of value 0 of each array map as the program saw it (0
  // for hash maps, whose value addresses say nothing comparable), so that
  // pointers into map values translate to our region 32 + i form.
  std::vector<uint64_t> map_value_bases;
  uint32_t retval = 0;         // BPF_PROG_TEST_RUN's 32-bit retval, for cross-checking
  uint64_t duration_ns = 0;    // wall time of load + run in the executor
  ExecutorPhases phases;       // what duration_ns was spent on
  std::string kernel_release;  // uname -r of the executing kernel
  // Verifier/JIT edges of both loads and runs (kWantCoverage; guest only).
  KernelCoverage coverage;
  // Guest only: what the kernel logged while this request ran, read by the
  // agent from /dev/kmsg after it and before the next request starts, so a
  // WARN, oops or sanitizer report is the finding of exactly this program
  // even while the host has further requests in flight (protocol.hpp).
  // `kernel_messages_read` says the agent could read them.
  bool kernel_messages_read = false;
  std::string kernel_messages;
  // How the kernel ran the full-state program (else the unmodified one),
  // as it reports it: the engine's JIT setting is only a request (a kernel
  // built with BPF_JIT_ALWAYS_ON JITs anyway, one with its JIT off on the
  // host interprets). Unknown when neither loaded.
  JitState jit = JitState::Unknown;
};

// Whatever serves requests: the executor in this process, a guest pool, a
// guest pool daemon, the agent's loop.
using ExecuteFn = std::function<KernelResponse(const KernelRequest&)>;
// Whatever serves several requests in order, answering each through the
// callback (index, response) as soon as it is known: a guest pool
// pipelines them.
using ExecuteBatchFn = std::function<void(std::span<const KernelRequest>,
                                          const std::function<void(std::size_t, KernelResponse&&)>&)>;

}  // namespace bpfdiff::oracle::kernel
