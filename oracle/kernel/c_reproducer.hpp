#pragma once
// A kernel finding as a standalone C program for a kernel developer: it loads
// the program with raw bpf() (no libbpf, no bpfdiff), runs it once with
// BPF_PROG_TEST_RUN, prints what the kernel computed next to what RFC 9669
// (our VM) says, and exits 0 when they agree, 1 when they differ, 2 when
// the kernel refuses the program (its verifier log printed).
//
// Two forms, the smallest that shows the difference:
//  - unmodified: the program exactly as written, as BPF_PROG_TYPE_SYSCALL
//    with the memory as the test run's context (r1); shows r0's low 32 bits
//    and the memory. Nothing of ours is around it.
//  - full state: the program inside the wrapper the harness used
//    (full_state_rewrite.hpp), with its two mmappable array maps created by
//    the reproducer and their fds patched into the lddw instructions; shows
//    r0..r9 with their 64 bits and the memory. Needed when the difference is
//    in a register the unmodified run cannot show.
// In both, the program's own maps (a map program) are created by the
// reproducer as the harness creates them (arrays filled with their initial
// contents, read-only ones frozen) and their fds patched into the program's
// map references, so it reproduces alone; after the run it reads every map
// back and compares it with RFC 9669's contents.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "oracle/kernel/full_state_rewrite.hpp"
#include "oracle/kernel/kernel_request.hpp"
#include "vm/isa/raw.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel {

struct CReproducerInput {
  std::string title;  // one line for the header comment, e.g. "r0: 0x1 (RFC 9669) vs 0x2 (kernel)"
  std::vector<isa::RawInsn> program;  // as our VM runs it
  std::vector<uint8_t> memory;        // before the run
  std::vector<KernelMap> maps;        // the program's maps, by index (at most kMaxRequestMaps)
  bool full_state = false;
  Instrumentation instrumentation;  // full state: the wrapper to reproduce with

  // What RFC 9669 (our VM) gives.
  std::array<uint64_t, 10> expected_regs{};
  // Registers to compare (bit i: ri). Unmodified form: only bit 0 counts,
  // and only r0's low 32 bits. Leave out registers holding pointers (kernel
  // addresses differ from ours).
  uint16_t compare_regs = 1;
  std::vector<uint8_t> expected_memory;
  bool compare_memory = true;
  // What RFC 9669 leaves in each map after the run (one per map, arrays
  // every index with its u32 key, hash maps every key in any order). With
  // compare_maps the reproducer reads every map back after the test run
  // and prints each key that differs, is missing or is extra; program
  // arrays are skipped (their values are program descriptors).
  std::vector<std::vector<KernelMapEntry>> expected_maps;
  bool compare_maps = false;
};

// The C source; fails when the full-state wrapper cannot express the
// program (what rewrite_full_state() refuses).
Result<std::string> c_reproducer(const CReproducerInput& input);

}  // namespace bpfdiff::oracle::kernel
