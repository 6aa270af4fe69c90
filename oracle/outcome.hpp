#pragma once
// Outcome: the full observable result of running one program on one input in
// one engine. The differential harness compares outcomes field by field; r0
// alone (what uBPF's fuzzer compares) misses most divergences.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oracle/kernel/kernel_request.hpp"
#include "vm/isa/raw.hpp"
#include "vm/runtime/error.hpp"
#include "vm/runtime/map_store.hpp"

namespace bpfdiff::oracle {

// One helper call as the program made it.
struct HelperCallRecord {
  uint32_t pc = 0;
  uint32_t helper = 0;
  std::array<uint64_t, 5> args{};
  uint64_t result = 0;

  bool operator==(const HelperCallRecord&) const = default;
};

// What a kernel engine (kernel-host, the QEMU guest engines) adds to an
// outcome: the verifier's verdict and log, and what the exported state means.
struct KernelOutcome {
  kernel::KernelVerdict verdict = kernel::KernelVerdict::Failed;
  int32_t errno_value = 0;
  std::string log;               // verifier log on rejection, else the Unsupported/Failed reason
  std::string rejection_reason;  // kernel::rejection_reason() of a rejection
  std::string release;           // uname -r of the kernel that judged it
  uint16_t regs_valid = 0x3ff;   // bit i: ri was exported (r1..r5 may not be after calls)
  // The request asked for the kernel's interpreter (bpf_jit_enable=0:
  // kernel-qemu-interp). kernel-host never asks, and is taken as JITed
  // (x86-64 distribution kernels run with the JIT on).
  bool interpreted = false;
  // r0..r9 as the kernel exported them, before kernel addresses were turned
  // into our region+offset form (Outcome::regs): a scalar that merely lies
  // near a kernel object (0xffffc90000000000 is computed as easily as any
  // other value) must be compared as it is.
  // Bit i: regs[i] was translated; untranslated_regs[i] holds the value then.
  uint16_t translated_regs = 0;
  std::array<uint64_t, 10> untranslated_regs{};
  // Likewise the 8-byte words of the memory that were translated: offset
  // and the value as the kernel left it (a scalar's bytes can lie near a
  // kernel object as well as a register's).
  struct TranslatedWord {
    uint32_t offset = 0;
    uint64_t untranslated = 0;
  };
  std::vector<TranslatedWord> translated_memory;
  uint32_t retval = 0;            // BPF_PROG_TEST_RUN's 32-bit retval
  uint64_t duration_ns = 0;       // load + run in the executor
  kernel::ExecutorPhases phases;  // what duration_ns went on
  // The whole request as the engine waited for it (serialisation, the
  // channel to a guest and back, the agent, the executor, and the waits for
  // a CPU on a loaded host); what it adds to duration_ns is the cost of
  // asking, which pipelining and batching attack.
  uint64_t request_ns = 0;
  // Our interpreter read stack bytes the run never wrote: the kernel's stack
  // is not zeroed, so a disagreement is not comparable (kernel_compare.hpp).
  bool uninitialized_stack_read = false;
  // Our run used a pointer's bits beyond what region+offset translation
  // preserves (oracle/comparability.hpp): likewise not comparable.
  bool pointer_bits_exposed = false;
  // The unmodified run (kernel_request.hpp): the kernel's verdict on the
  // program as written, its 32-bit return value and the memory after it.
  kernel::PlainRun plain;
  // The unmodified run's map contents in our snapshot form (Accepted).
  std::vector<vm::MapSnapshot> plain_maps;
  std::string instrumentation;  // the full-state run's wrapper
  uint32_t body_offset = 0;     // the full-state verifier log says pc p + this for pc p
  // Our run left a pointer in the memory: the unmodified run's memory holds
  // kernel addresses there, with no base to translate them by.
  bool pointer_stored_in_memory = false;
  // Our run left a pointer in a map value (a kernel address in the kernel's
  // map, which its contents are not translated back from).
  bool pointer_stored_in_map = false;
  // A hash value pointer used after an update/delete (comparability.hpp).
  bool stale_map_pointer = false;
  // A tail call's r1 was not the entry's (comparability.hpp).
  bool tail_call_argument_changed = false;
  // Why our validator's rejection says nothing about the verifier's (a
  // helper we do not register, our length limit), or empty.
  std::string rejection_not_comparable;
  // The guest kernel's verifier/JIT edges new to its agent (when asked for:
  // KernelEngine::set_want_coverage).
  kernel::KernelCoverage coverage;
};

struct Outcome {
  std::string engine;

  // Load stage: did the engine accept the program at all?
  bool loaded = false;
  std::string load_error;  // validator or compiler message when !loaded

  // Run stage (meaningful when loaded).
  std::array<uint64_t, isa::kNumRegisters> regs{};  // r0..r10 at the end
  std::vector<uint8_t> memory;                      // the input memory (or packet) after the run
  std::vector<uint8_t> metadata;                    // MetaBuffer mode: r1's buffer after the run
  std::vector<uint8_t> stack;                       // the whole stack area after the run
  std::vector<HelperCallRecord> helper_calls;
  std::vector<vm::MapSnapshot> maps;  // every map's contents after the run
  std::vector<std::string> trace;     // bpf_trace_printk output, one entry per call
  // Whether the engine could observe them at all (the kernel's test run may
  // not): compare() only compares what both sides observed.
  bool maps_observed = false;
  bool trace_observed = false;
  uint64_t instructions = 0;
  vm::ExecError error;  // kind None on success

  // Set by kernel engines only. Its loaded/load_error above mean "the
  // verifier accepted it and the test run worked"; stack and instructions
  // stay empty (the kernel exports neither).
  std::optional<KernelOutcome> kernel;

  bool ok() const { return loaded && error.kind == vm::ErrorKind::None; }
};

}  // namespace bpfdiff::oracle
