#pragma once
// A counterexample of the memory proof (mem_proof.hpp) as a ready-to-run
// bpf_conformance .data test. The proof's counterexample holds for *some*
// region table; the test needs one that a real run has. So the failing
// query is solved once more with the run of a .data test pinned down
// (data_test_run): the stack region as a fresh run leaves it (4,096 bytes,
// frame [3584, 4096), r10 at its top), and either memory mode (the input
// region of 8 to 64 bytes, a multiple of 8, at offset 0 and writable) or,
// for a read-only region, packet mode (the input region is the read-only
// struct xdp_md of an 8-byte packet, which region 0 maps at kPacketBase),
// every other region unmapped, and the host objects apart. BPF addresses are region
// numbers and offsets, not host addresses, so the model's register values
// are addresses that mean the same in the test's run.
//
// The test loads r0..r9 with the model's values (lddw), runs the
// instruction, then folds r0..r9 and the memory around the access (the
// whole input region, or the stack's doublewords around it) into r0 and
// exits; `-- mem` is the model's input region and `-- result` (or `--
// error`) what the interpreter gives on that program. It passes on the
// interpreter by construction and fails on a JIT that differs in the
// fault, a register or a byte the fold reads.
#include <z3++.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/smt/mem_proof.hpp"
#include "vm/isa/raw.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

// The input region's largest size a counterexample may choose.
inline constexpr uint32_t kWitnessInputMax = 64;

// What a run of a .data test in memory mode looks like to the proof.
struct DataTestRun {
  z3::expr constraint;    // Bool: the region table, r10 and host objects are a real run's
  z3::expr input_host;    // host address of the input region's first byte
  z3::expr input_length;  // its length (64-bit)
  z3::expr packet_mode;   // Bool: packet mode (else memory mode)
  z3::expr packet_host;   // packet mode: host address of the packet's first byte
};

// The packet of a packet-mode counterexample.
inline constexpr uint32_t kWitnessPacketBytes = 8;

// What a run of a .data test in memory mode looks like to a legacy packet
// load (ldabs*, ldind*): the packet is the input region (ctx.packet, up to
// kWitnessInputMax bytes, none at all included), the load runs in the entry
// function (depth 0) with r10 at the fresh stack's top, and the packet is
// apart from the context, the region table and the frames. Depth 0 because
// a packet end is the program's end: the unwinding of deeper calls changes
// only r6..r10 and context fields, which no outcome of a run (r0, or an
// error) shows, so a counterexample that needs depth > 0 has no test.
struct PacketTestRun {
  z3::expr constraint;     // Bool
  z3::expr packet_host;    // host address of the packet's first byte
  z3::expr packet_length;  // ctx.packet_len
};
PacketTestRun packet_test_run(z3::context& ctx, const z3::expr& m0, const z3::expr& cp,
                              const std::array<z3::expr, isa::kNumRegisters>& regs);

// `m0` is host memory, `cp` the JIT context, `regs` r0..r10 before the
// instruction, `address` the BPF address it accesses.
DataTestRun data_test_run(z3::context& ctx, const z3::expr& m0, const z3::expr& cp,
                          const std::array<z3::expr, isa::kNumRegisters>& regs, const z3::expr& address);

struct MemWitness {
  std::array<uint64_t, isa::kNumRegisters> regs{};  // r0..r9 (r10 is the run's)
  bool packet_mode = false;                         // -- mode packet
  std::vector<uint8_t> input;  // memory mode: the input region (a legacy packet load's packet); packet
                               // mode: the packet
  uint64_t address = 0;        // the BPF address the instruction accesses (legacy packet loads: 0, none)
};

// The .data test of `c` on `w`, its expected outcome from the interpreter
// (a legacy packet load folds no memory: it writes none).
// `comment` becomes '#' lines at the top.
Result<std::string> mem_counterexample_data(const MemCase& c, const MemWitness& w, std::string_view comment);

}  // namespace bpfdiff::oracle::smt
