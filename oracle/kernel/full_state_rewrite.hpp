#pragma once
// The full-state recipe: how a program as our VM runs it becomes a kernel
// program whose whole final state (r0..r9, the memory) can be read back.
// It is one of two kernel runs of every program; the other runs the program
// unmodified (kernel_executor.hpp), and the verdict that counts is that one's.
//
// BPF_PROG_TEST_RUN reports only a 32-bit return value, so the rewrite makes
// the program export its state itself, into two single-entry mmappable array
// maps addressed with `lddw rX, map_value(fd)`. Two layouts:
//
//   epilogue first                      epilogue after the entry function
//   [prologue]                          [prologue]
//   ja over the epilogue                [entry body]  each `exit` now `ja epilogue`
//   [epilogue]                          [epilogue]
//   [entry body]  exits: ja epilogue    [subprograms]
//   [subprograms]
//
//   prologue:  r1 = &memory value (or 0), r2 = length, r0 and r3..r9 = 0
//              (our interpreter's start), or only those of these registers
//              the program may read before writing them (the minimal one)
//   epilogue:  spills r0 to [r10 - 8], stores r0..r9, r10 and the memory
//              base into the registers value, restores r0 and exits
//
// The instrumentation varies between programs (`Instrumentation`, chosen
// from the run's seed), because the verifier saves states for pruning at
// points that depend on the instructions and jumps seen since the last one:
// a single wrapper could hide a bug every time, several rarely do.
//
// A rewrite must never make a program valid that the kernel would reject:
// "epilogue first" keeps the entry function's last instruction last, so a
// program that falls off its end still does; "after" is used only when the
// entry function ends with an exit or an unconditional jump, so nothing can
// fall into the epilogue. Exits of subprograms are returns and stay. The
// epilogue sits inside the entry function (before the first subprogram)
// because the verifier splits functions at call targets and a jump may not
// leave its function.
//
// The reserved stack slot [r10 - 8] of the entry frame is written only in
// the epilogue, after the program's last instruction, so the program can
// never observe it; the stack is not exported and not compared. Its one
// cost is 8 bytes of stack depth in the entry function, which can push a
// call chain already at the 512-byte limit over it: the kernel then rejects
// ("combined stack size"), which the harness counts as a rejection, never
// as a mismatch.
//
// Registers the verifier considers undefined (r1..r5 after a call, any
// register the minimal prologue left alone and the program never wrote)
// may not be read by the epilogue. A must-be-written analysis of the entry
// function decides which registers every exit sees defined; only those are
// stored, and `regs_valid` says which registers the kernel exported.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oracle/kernel/kernel_request.hpp"
#include "vm/isa/raw.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel {

// Layout of the registers map value (u64 words).
inline constexpr uint32_t kFrameBaseWord = 10;   // r10 of the entry function
inline constexpr uint32_t kMemoryBaseWord = 11;  // the memory value's kernel address
inline constexpr uint32_t kDoneWord = 12;        // kEpilogueDone once the epilogue ran
// Words 13.. hold the value address of each array map of the request
// (map i at kFirstMapBaseWord + i): kernel pointers into map values
// translate back to our region 32 + i form by it.
inline constexpr uint32_t kFirstMapBaseWord = 13;
inline constexpr uint32_t kRegsValueWords = kFirstMapBaseWord + kMaxRequestMaps;
inline constexpr uint32_t kRegsValueSize = kRegsValueWords * 8;
inline constexpr int32_t kEpilogueDone = 0x600dcafe;
inline constexpr int16_t kSpillOffset = -8;  // the reserved slot of the entry frame

enum class EpiloguePlacement : uint8_t { First, AfterEntry };
enum class PrologueKind : uint8_t { Full, Minimal };

struct Instrumentation {
  EpiloguePlacement placement = EpiloguePlacement::First;
  PrologueKind prologue = PrologueKind::Full;
  bool operator==(const Instrumentation&) const = default;
};
inline constexpr uint32_t kInstrumentationVariants = 4;
// Variant `seed % kInstrumentationVariants`.
Instrumentation instrumentation_for_seed(uint32_t seed);
// "epilogue-first/full-prologue", ...
std::string describe(const Instrumentation& instrumentation);

// Refuses what no kernel run of ours can give the same meaning as our VM,
// with the reason: an empty program, BTF variables referenced by lddw, a
// map index past the request's `map_count` maps, tail calls without a
// program array in the request, helper or
// kfunc calls when not allowed (see RewriteInput::allow_helper_calls), and
// the kernel's own instructions outside RFC 9669 (may_goto, load-acquire,
// store-release), which our VM does not have. Applies to the unmodified run
// as much as to the rewrite.
// Tail calls pass with `allow_tail_calls` (the request carries a program
// array: the full-state run alone, see RewriteInput::tail_calls).
Result<void> check_expressible(std::span<const isa::RawInsn> program, bool allow_helper_calls,
                               uint32_t map_count = 0, bool allow_tail_calls = false);

// Where a branch, a local call or an `lddw` of a function address at `pc`
// leads (pc-relative, so it may lie outside the program); nothing for any
// other instruction. Exits and helper calls lead nowhere.
std::optional<int64_t> code_target(const isa::RawInsn& insn, uint32_t pc);
// An exit or an unconditional jump: nothing runs on into the next slot.
bool ends_flow(const isa::RawInsn& insn);

// The program with every `lddw map_fd/map_idx(i)` turned into
// BPF_PSEUDO_MAP_FD and every `map_value/map_idx_value(i, off)` into
// BPF_PSEUDO_MAP_VALUE, imm = map_fds[i] (the value offset stays in the
// second slot). Our VM numbers maps by index in both forms; the kernel's
// _IDX forms would need an fd_array, which 6.1 lacks. Indexes past
// `map_fds` are left alone (check_expressible refuses them first).
std::vector<isa::RawInsn> relocate_maps(std::span<const isa::RawInsn> program, std::span<const int> map_fds);

struct RewriteInput {
  std::span<const isa::RawInsn> program;  // entry function first, as the kernel requires
  int regs_map_fd = -1;
  int memory_map_fd = -1;  // -1 when the memory is empty (r1 = 0)
  uint32_t memory_size = 0;
  // Helper and kfunc calls mean the kernel's functions, not ours, and on
  // the host a random helper call (bpf_sys_close, bpf_sys_bpf, ...) could
  // harm the executor's own process; they are refused unless allowed --
  // except bpf_ktime_get_ns (5) and bpf_get_prandom_u32 (7), which only read
  // a clock or a random number and always pass (the kernel-friendly
  // generator calls them).
  bool allow_helper_calls = false;
  // The wanted layout; AfterEntry falls back to First when the entry
  // function could fall through into the epilogue.
  Instrumentation instrumentation;
  // The request's maps in order: the program is relocated to them, and
  // the epilogue stores the value address of each map with
  // `exports_value_base` (arrays: hash values have no fixed place) at
  // word kFirstMapBaseWord + i -- of a single-entry array with a direct
  // value address, of a larger one (where the kernel allows none) with a
  // bpf_map_lookup_elem of key 0 after every register is stored.
  struct Map {
    int fd = -1;
    bool exports_value_base = false;
    // More than one entry: the epilogue finds value 0 with a lookup.
    uint32_t max_entries = 1;
  };
  std::span<const Map> maps;
  // The program makes tail calls (its request carries a program array).
  // A sleepable BPF_PROG_TYPE_SYSCALL program may not use a program array
  // and a syscall program must be sleepable, so this run is a
  // BPF_PROG_TYPE_RAW_TRACEPOINT one, test-run without a context, whose
  // program array holds the wrapped program itself (our generators' tail
  // calls restart the program). bpf_tail_call wants the context in r1,
  // which in the wrapper holds the memory: the prologue spills the
  // context to a stack slot below every constant frame offset the entry
  // function uses (RewrittenProgram::context_slot; the frame's lowest,
  // -512, would push a call chain over the combined 512-byte limit) and
  // each tail call
  // of the entry function becomes a jump to a stub after the epilogue,
  // `r1 = context; call 12; ja back`. The verifier rejects a program that
  // overwrites the slot (the fill is no longer the context); one that
  // reads it before writing is not comparable (it reads stack never
  // written). A successful tail call runs the prologue again, so the
  // prologue is the minimal one and may set only r1 (and r2): our VM
  // carries r0..r9 into the target, the prologue would reset them.
  // Refused: tail calls from subprograms.
  bool tail_calls = false;
  // What the epilogue stores at kDoneWord: a program cut into pieces
  // (program_pieces.hpp) gives piece i kEpilogueDone + i, so the executor
  // knows whose epilogue ran and which registers it exported.
  int32_t done_value = kEpilogueDone;
};
inline constexpr int16_t kLowestContextSlot = -512;

struct RewrittenProgram {
  std::vector<isa::RawInsn> insns;
  Instrumentation instrumentation;  // the one used
  uint32_t prologue_slots = 0;
  uint32_t entry_end = 0;  // original slot index where the first subprogram starts (or the length)
  uint32_t epilogue_slots = 0;
  uint16_t prologue_regs = 0;    // bit i: the prologue sets ri
  uint16_t regs_valid = 0;       // bit i: the epilogue stores ri (r0..r9)
  uint32_t tail_call_stubs = 0;  // RewriteInput::tail_calls: stubs after the epilogue (in epilogue_slots)
  int16_t context_slot = 0;      // RewriteInput::tail_calls: where the prologue spills the context

  // Slots in front of the original slot 0: an original pc p of the entry
  // function is p + this in the kernel's verifier log.
  uint32_t body_offset() const {
    return prologue_slots + (instrumentation.placement == EpiloguePlacement::First ? 1 + epilogue_slots : 0);
  }
  uint32_t epilogue_pc() const {
    return instrumentation.placement == EpiloguePlacement::First ? prologue_slots + 1
                                                                 : prologue_slots + entry_end;
  }
  // Where an original slot landed.
  uint32_t new_pc(uint32_t original) const {
    if (instrumentation.placement == EpiloguePlacement::First) return body_offset() + original;
    return prologue_slots + original + (original >= entry_end ? epilogue_slots : 0);
  }
};

// Fails (the program is Unsupported by the recipe) with the reason: what
// check_expressible() refuses, a branch target outside the program, a
// conditional branch whose new offset no longer fits 16 bits, a memory
// larger than an imm32.
Result<RewrittenProgram> rewrite_full_state(const RewriteInput& input);

// Must-be-written analysis alone (exposed for tests): bit i set when ri
// holds a value the verifier considers initialised at every exit of the
// entry function [0, entry_end), given the registers `at_entry` (bit i: ri)
// set by the prologue.
uint16_t registers_defined_at_exits(std::span<const isa::RawInsn> program, uint32_t entry_end,
                                    uint16_t at_entry = 0x3ff);

// The registers (r0..r9) the entry function may read before it writes them,
// counting an exit as a read of r0 and any call as a read of r1..r5: what
// the minimal prologue must set so the rewrite is judged like the program.
uint16_t registers_read_before_written(std::span<const isa::RawInsn> program, uint32_t entry_end);

}  // namespace bpfdiff::oracle::kernel
