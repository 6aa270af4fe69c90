#pragma once
// Byte offsets the machine code uses to reach JitContext, Region and
// CallFrame fields (r12-relative for the context), in one place so the
// lowering files cannot disagree about the layout.
#include <cstddef>
#include <cstdint>

#include "vm/jit/context.hpp"

namespace bpfdiff::jit::offsets {

inline constexpr int32_t off(std::size_t o) {
  return static_cast<int32_t>(o);
}

inline constexpr int32_t kOutRegs = off(offsetof(JitContext, out_regs));
inline constexpr int32_t kRemaining = off(offsetof(JitContext, remaining));
inline constexpr int32_t kRegions = off(offsetof(JitContext, regions));
inline constexpr int32_t kFrames = off(offsetof(JitContext, frames));
inline constexpr int32_t kSavedRsp = off(offsetof(JitContext, saved_rsp));
inline constexpr int32_t kTrampoline = off(offsetof(JitContext, helper_trampoline));
inline constexpr int32_t kCallxTrampoline = off(offsetof(JitContext, callx_trampoline));
inline constexpr int32_t kFunctionCode = off(offsetof(JitContext, function_code));
inline constexpr int32_t kCallxValue = off(offsetof(JitContext, callx_value));
inline constexpr int32_t kCallxTarget = off(offsetof(JitContext, callx_target));
inline constexpr int32_t kTailTarget = off(offsetof(JitContext, tail_target));
inline constexpr int32_t kDepth = off(offsetof(JitContext, depth));
inline constexpr int32_t kDeepest = off(offsetof(JitContext, deepest));
inline constexpr int32_t kStatus = off(offsetof(JitContext, status));
inline constexpr int32_t kPc = off(offsetof(JitContext, pc));
inline constexpr int32_t kErrorKind = off(offsetof(JitContext, error_kind));
inline constexpr int32_t kErrorPc = off(offsetof(JitContext, error_pc));
inline constexpr int32_t kErrorAddress = off(offsetof(JitContext, error_address));
inline constexpr int32_t kErrorSize = off(offsetof(JitContext, error_size));
// The stack is region 1; its live lower bound moves with every call and return.
inline constexpr int32_t kStackLo =
    off(sizeof(vm::Region) * static_cast<std::size_t>(vm::RegionId::Stack)) + kRegionLo;
inline constexpr int32_t kStackHi =
    off(sizeof(vm::Region) * static_cast<std::size_t>(vm::RegionId::Stack)) + kRegionHi;
inline constexpr int32_t kFrameSize = off(sizeof(vm::CallFrame));
inline constexpr int32_t kFrameR10 = off(offsetof(vm::CallFrame, r10));
inline constexpr int32_t kFrameReturnPc = off(offsetof(vm::CallFrame, return_pc));

inline constexpr int32_t kStackDelta = off(offsetof(JitContext, stack_delta));
inline constexpr int32_t kPacket = off(offsetof(JitContext, packet));
inline constexpr int32_t kPacketLen = off(offsetof(JitContext, packet_len));

}  // namespace bpfdiff::jit::offsets
