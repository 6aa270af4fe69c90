#pragma once
// The Linux verifier's level-2 log, read back as claims: for each
// instruction it visited, the states it believed the registers and stack
// slots to be in just before that instruction.
//
// What the log holds (checked on 6.18, the forms of 6.1 and 6.12 read too):
//  - full states: "N: R1=ctx() R10=fp0" (a path starts at N), "from X to Y:
//    R..." (a branch popped), "N: frame1: R..." (a callee starts);
//  - one line per instruction processed, "N: (op) text ; R2=... fp-8=...",
//    where the part after ';' lists only what the instruction touched
//    (registers and slots it wrote; the rest is as before);
//  - pruning: "from X to Y: safe" and "N: safe": the path stopped because
//    an earlier state at that pc covered it, for what the verifier tracked
//    precisely -- values of imprecise registers beyond such a point are not
//    claims about the pruned path.
//
// States are rebuilt along each path and recorded at every pc it visits. The
// reconstruction never claims more than the verifier did: anything it cannot
// follow (a path it lost, a register a call may have clobbered, a slot a
// store through another pointer may have changed) is dropped, and a pc with
// such a visit is marked `unknown` (no claim there at all).
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vm/isa/raw.hpp"

namespace bpfdiff::oracle::kernel {

// The bounds the verifier tracks for a scalar, or for the variable part of
// a pointer's offset: 64- and 32-bit signed and unsigned ranges and known
// bits (var_off: value; mask). Default-constructed: knows nothing.
struct ScalarClaim {
  int64_t smin = INT64_MIN;
  int64_t smax = INT64_MAX;
  uint64_t umin = 0;
  uint64_t umax = UINT64_MAX;
  int32_t smin32 = INT32_MIN;
  int32_t smax32 = INT32_MAX;
  uint32_t umin32 = 0;
  uint32_t umax32 = UINT32_MAX;
  uint64_t known_value = 0;
  uint64_t unknown_mask = UINT64_MAX;

  static ScalarClaim constant(uint64_t v);
  bool contains(uint64_t v) const;
  bool knows_nothing() const;
  bool operator==(const ScalarClaim&) const = default;
};

enum class ValueKind : uint8_t {
  Scalar,    // `scalar`
  Stack,     // pointer into a frame: fp + off + variable part
  Ctx,       // the program's context (r1 of an unmodified program)
  MapValue,  // a map value: the input memory under the prologues, or one of the program's maps
  Other,     // any other type: no claim about the concrete value
};

struct ValueClaim {
  ValueKind kind = ValueKind::Other;
  ScalarClaim var;  // Scalar: the value; pointers: the variable part of the offset
  int64_t off = 0;  // pointers: the fixed part
  int frame = -1;   // Stack: the frame pointed into (-1: the state's own frame)
  // MapValue: the map's key and value sizes ("ks=4,vs=16"), 0 when not logged.
  uint32_t map_key_size = 0;
  uint32_t map_value_size = 0;
  std::string text;  // as logged, for reports
};

// One 8-byte stack slot, fp-(8k) .. fp-(8k)+7.
struct SlotClaim {
  // The slot_type characters, byte j of the string is fp + off + 7 - j
  // ('0': known zero, 'm': misc, '?': invalid, 'r': spilled, ...); shorter
  // than 8 when a register is spilled into the remaining low bytes.
  std::string types;
  std::optional<ValueClaim> spilled;  // a register spilled into the slot
};

struct LoggedState {
  int frame = 0;
  std::array<std::optional<ValueClaim>, 11> regs;  // none: not initialised, or not known to us
  std::map<int32_t, SlotClaim> slots;              // by offset from fp (-8, -16, ...)
};

struct VerifierLog {
  std::vector<bool> visited;                     // per pc: an instruction line was logged
  std::vector<bool> unknown;                     // per pc: visited on a path we could not follow
  std::vector<std::vector<LoggedState>> states;  // per pc: states before the instruction
  std::vector<bool> pruned_at;                   // per pc: a path was pruned there ("safe")
  bool complete = false;                         // the closing "processed N insns" line was seen
  uint64_t lines = 0;
  uint64_t state_lines = 0;  // full states and instruction lines understood
};

// Parses the log of loading `insns` (exactly as the kernel got them: which
// registers and slots each instruction may change comes from them, not from
// the log's text). pcs beyond the program are ignored.
VerifierLog parse_verifier_log(std::string_view log, std::span<const isa::RawInsn> insns);

// One value as printed ("scalar(smin=0,umax=10)", "fp-8", "P5", "ctx()",
// "map_value(map=m,ks=4,vs=16,off=4)"); exposed for tests.
ValueClaim parse_value(std::string_view text);

std::string describe(const ScalarClaim& c);

}  // namespace bpfdiff::oracle::kernel
