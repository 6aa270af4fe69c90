#pragma once
// Runs one x86-64 instruction on the real CPU, from and to a full register
// and flag state: the ground truth the Z3 semantics is checked against
// (Serval's quickcheck, with the CPU instead of an emulator). The
// instruction sits in a generated harness in an executable page (our W^X
// exec memory) that loads every register except rsp and the status flags,
// runs it, and stores them back. A branch has its displacement patched so
// that "taken" lands on code recording it.
#include <array>
#include <cstdint>
#include <span>

#include "oracle/smt/x86/decode.hpp"
#include "vm/jit/exec_memory.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt::x86 {

struct NativeState {
  std::array<uint64_t, 16> gpr{};  // rsp is neither loaded nor stored
  uint64_t rflags = 0x202;         // the harness loads CF, PF, AF, ZF, SF and OF from here
  uint64_t taken = 0;              // branches: 1 when the branch was taken
};

// The status flags the harness controls (CF, PF, AF, ZF, SF, OF).
inline constexpr uint64_t kArithmeticFlagMask = 0x8D5;
inline constexpr unsigned kRflagsBit[] = {0, 2, 6, 7, 11};  // CF, PF, ZF, SF, OF (Flag order)

class NativeRunner {
 public:
  // Fails when `insn` uses rsp or memory, or its harness cannot be mapped.
  static Result<NativeRunner> create(const Instruction& insn);
  // A contiguous run of instructions (as decoded, in order) that falls off
  // its end; branches inside it keep their targets, and a branch as the
  // last instruction is patched like a single one.
  static Result<NativeRunner> create(std::span<const Instruction> code);

  // Never call with a state the Z3 semantics says raises #DE.
  NativeState run(const NativeState& in) const;
  // Runs in a forked child; true when the child dies of SIGFPE (#DE). The
  // parent never executes the code, so a fault cannot hurt the caller.
  bool faults_in_child(const NativeState& in) const;

 private:
  jit::ExecMemory code_;
};

}  // namespace bpfdiff::oracle::smt::x86
