#pragma once
// What a run takes in and gives back, shared by every engine.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "vm/isa/raw.hpp"
#include "vm/runtime/error.hpp"

namespace bpfdiff::vm {

inline constexpr uint32_t kStackFrameBytes = 512;

struct ExecLimits {
  uint64_t instruction_budget = 1'000'000;  // instructions executed before BudgetExhausted
  uint32_t max_call_depth = 8;              // frames, counting the entry function's
};

enum class RunMode : uint8_t {
  NoData,  // r1 = r2 = 0
  Memory,  // r1 = address of a writable copy of the memory (0 if empty), r2 = its length
  // r1 = an XDP context (struct xdp_md, read-only) whose u32 data/data_end
  // fields bound the packet; r2 = 0. Programs compiled from C for XDP run
  // unchanged, with direct packet access checked like every access.
  Packet,
  // rbpf's "mbuff": r1 = the caller's metadata buffer, into which the VM
  // writes the packet's data and data_end addresses (8 bytes each) at the
  // caller's offsets; r2 = the packet length.
  MetaBuffer,
};

// Where packets live in the packet modes: inside region 0, at a fixed offset
// high enough that null and small-integer pointers still fault, and low
// enough that data and data_end fit the u32 fields of struct xdp_md.
inline constexpr uint64_t kPacketBase = uint64_t{16} << 20;
inline constexpr uint64_t kMaxPacketBytes = (uint64_t{1} << 32) - kPacketBase;

// struct xdp_md as the kernel defines it; r1 in Packet mode points to one.
struct XdpMd {
  uint32_t data;
  uint32_t data_end;
  uint32_t data_meta;
  uint32_t ingress_ifindex;
  uint32_t rx_queue_index;
  uint32_t egress_ifindex;
};
static_assert(sizeof(XdpMd) == 24);

struct RunInput {
  RunInput() = default;
  // The common case, `RunInput{mode, memory}`; the other fields keep their defaults.
  RunInput(RunMode m, std::span<uint8_t> mem = {}) : mode(m), memory(mem) {}

  RunMode mode = RunMode::Memory;
  std::span<uint8_t> memory;     // Memory: modified in place; Packet and MetaBuffer: the packet
  std::span<uint8_t> metadata;   // MetaBuffer: the buffer r1 points to, modified in place
  uint32_t data_offset = 0;      // MetaBuffer: where the packet's start address is written
  uint32_t data_end_offset = 8;  // MetaBuffer: where its end address is written
  // Seeds bpf_ktime_get_ns and bpf_get_prandom_u32, so engines agree and
  // runs repeat exactly.
  uint64_t seed = 0;
};

// Why a RunInput cannot be run (packet too large, metadata offsets that do
// not leave 8 bytes), or "" when it is fine. Engines given such an input
// skip what does not fit; callers check first to report it.
std::string check_run_input(const RunInput& input);

struct RunResult {
  RunResult() : regs{} {}
  // For an engine that writes every register itself: zeroing them first (a
  // compiler zeroes the whole result with `rep stos`) cost a third of a
  // short run.
  enum class RegistersFilledByEngine { Tag };
  explicit RunResult(RegistersFilledByEngine) {}

  std::array<uint64_t, isa::kNumRegisters> regs;  // r0..r10 when the run ended
  uint64_t instructions = 0;                      // instructions executed, including the faulting one
  ExecError error;                                // kind None on success

  bool ok() const { return error.kind == ErrorKind::None; }
  uint64_t r0() const { return regs[0]; }
};

// Called before each instruction when tracing.
using TraceFn = std::function<void(uint32_t pc, const std::array<uint64_t, isa::kNumRegisters>& regs)>;

}  // namespace bpfdiff::vm
