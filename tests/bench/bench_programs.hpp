#pragma once
// The benchmark workloads, built with isa::encode so no opcode number is
// spelled here. Shared by vm_bench (interpreter) and jit_bench (interpreter,
// JIT variants, host kernel).
//
// Two families:
//  - the throughput workloads (alu, memory, branchy, calls, shifts): a loop of
//    `iterations` trips; `memory` reads and writes the 64-byte input via r1;
//  - their kernel-friendly variants: the same loop bodies, but every register
//    is written before it is read, memory lives on the stack only (r10-based,
//    offsets the verifier can prove), and the trip count is small enough for
//    the kernel verifier, which walks every iteration of a loop whose counter
//    is a known constant (it stops at 1,000,000 processed instructions).
#include <cstdint>
#include <string>
#include <vector>

#include "vm/isa/encode.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::bench {

inline constexpr int32_t kIterations = 100'000;       // throughput workloads
inline constexpr int32_t kKernelIterations = 10'000;  // kernel-friendly variants

class Builder {
 public:
  Builder& op(isa::Form f, int dst = 0, int src = 0, int off = 0, int32_t imm = 0) {
    slots_.push_back(
        isa::encode(f, static_cast<uint8_t>(dst), static_cast<uint8_t>(src), static_cast<int16_t>(off), imm));
    return *this;
  }
  Builder& lddw(int dst, uint64_t v) {
    for (const auto& s : isa::encode_lddw_imm64(static_cast<uint8_t>(dst), v))
      slots_.push_back(s);
    return *this;
  }
  // Relative offset from the next instruction to `target`.
  int32_t rel(uint32_t target) const { return static_cast<int32_t>(target) - static_cast<int32_t>(pc()) - 1; }
  uint32_t pc() const { return static_cast<uint32_t>(slots_.size()); }
  // Sets the offset of the call_local at `call_pc` so that it reaches `target`.
  void patch_call(uint32_t call_pc, uint32_t target) {
    slots_[call_pc].imm = static_cast<int32_t>(target) - static_cast<int32_t>(call_pc) - 1;
  }
  vm::Program program(std::string name) const {
    vm::Program p;
    p.slots = slots_;
    p.name = std::move(name);
    return p;
  }

 private:
  std::vector<isa::RawInsn> slots_;
};

// r6 counts down from `iterations`; `init` runs once before the loop and
// `body` is emitted between the loop head and the back edge (`jne r6, 0`).
template <class Init, class Body>
vm::Program counted_loop(std::string name, int32_t iterations, Init init, Body body) {
  using isa::Form;
  Builder b;
  b.op(Form::mov_imm, 6, 0, 0, iterations).op(Form::mov_imm, 0, 0, 0, 0);
  init(b);
  const uint32_t head = b.pc();
  body(b);
  b.op(Form::sub_imm, 6, 0, 0, 1);
  b.op(Form::jne_imm, 6, 0, b.rel(head), 0);
  b.op(Form::exit);
  return b.program(std::move(name));
}

inline void no_init(Builder&) {}

// ALU mix. `kernel_safe` zeroes r2 first (it is read before it is written).
inline vm::Program alu_program(int32_t iterations = kIterations, bool kernel_safe = false) {
  using isa::Form;
  return counted_loop(
      "alu", iterations,
      [&](Builder& b) {
        if (kernel_safe) b.op(Form::mov_imm, 2, 0, 0, 0);
      },
      [](Builder& b) {
        b.op(Form::add_reg, 0, 6)
            .op(Form::mul_imm, 0, 0, 0, static_cast<int32_t>(0x9e3779b1u))
            .op(Form::mov_reg, 1, 0)
            .op(Form::rsh_imm, 1, 0, 0, 29)
            .op(Form::xor_reg, 0, 1)
            .op(Form::add32_imm, 2, 0, 0, 7)
            .op(Form::lsh_imm, 2, 0, 0, 1)
            .op(Form::or_reg, 2, 0)
            .op(Form::and_imm, 2, 0, 0, 0xffff)
            .op(Form::sub_reg, 0, 2)
            .op(Form::arsh_imm, 1, 0, 0, 3)
            .op(Form::add_reg, 0, 1);
      });
}

// Loads from the 64-byte input (r1) and loads/stores on the stack.
inline vm::Program memory_program(int32_t iterations = kIterations) {
  using isa::Form;
  return counted_loop("memory", iterations, no_init, [](Builder& b) {
    b.op(Form::mov_reg, 2, 6)
        .op(Form::and_imm, 2, 0, 0, 7)
        .op(Form::lsh_imm, 2, 0, 0, 3)
        .op(Form::mov_reg, 3, 1)
        .op(Form::add_reg, 3, 2)
        .op(Form::ldxdw, 4, 3, 0)    // input[(i & 7) * 8]
        .op(Form::ldxdw, 5, 10, -8)  // stack accumulator
        .op(Form::add_reg, 5, 4)
        .op(Form::stxdw, 10, 5, -8)
        .op(Form::ldxw, 4, 1, 4)
        .op(Form::stxw, 10, 4, -16)
        .op(Form::ldxb, 4, 10, -16)
        .op(Form::stxb, 3, 4, 1)  // write back into the input
        .op(Form::ldxh, 7, 1, 62)
        .op(Form::add_reg, 0, 7);
  });
}

// The memory loop with its 64-byte "input" on the stack at r10-64: the init
// fills it and the two stack slots, the body matches memory_program's with
// r1 replaced by r10-64 (one extra `add r3, -64`).
inline vm::Program kernel_memory_program(int32_t iterations = kKernelIterations) {
  using isa::Form;
  constexpr int kIn = -64;  // the input buffer: r10-64 .. r10-1
  return counted_loop(
      "memory", iterations,
      [](Builder& b) {
        for (int i = 0; i < 8; ++i)
          b.op(Form::stdw, 10, 0, kIn + 8 * i, 0x5a5a5a5a);
        b.op(Form::stdw, 10, 0, -72, 0).op(Form::stdw, 10, 0, -80, 0);
      },
      [](Builder& b) {
        b.op(Form::mov_reg, 2, 6)
            .op(Form::and_imm, 2, 0, 0, 7)
            .op(Form::lsh_imm, 2, 0, 0, 3)
            .op(Form::mov_reg, 3, 10)
            .op(Form::add_imm, 3, 0, 0, kIn)
            .op(Form::add_reg, 3, 2)
            .op(Form::ldxdw, 4, 3, 0)     // in[(i & 7) * 8]
            .op(Form::ldxdw, 5, 10, -72)  // accumulator
            .op(Form::add_reg, 5, 4)
            .op(Form::stxdw, 10, 5, -72)
            .op(Form::ldxw, 4, 10, kIn + 4)
            .op(Form::stxw, 10, 4, -80)
            .op(Form::ldxb, 4, 10, -80)
            .op(Form::stxb, 3, 4, 1)  // write back into in[]
            .op(Form::ldxh, 7, 10, kIn + 62)
            .op(Form::add_reg, 0, 7);
      });
}

// Data-dependent branches on a pseudo-random value (an LCG in r7).
// `kernel_safe` zeroes r7 first.
inline vm::Program branchy_program(int32_t iterations = kIterations, bool kernel_safe = false) {
  using isa::Form;
  return counted_loop(
      "branchy", iterations,
      [&](Builder& b) {
        if (kernel_safe) b.op(Form::mov_imm, 7, 0, 0, 0);
      },
      [](Builder& b) {
        b.op(Form::mul_imm, 7, 0, 0, 1103515245).op(Form::add_imm, 7, 0, 0, 12345);
        b.op(Form::jset_imm, 7, 0, 1, 0x100).op(Form::add_imm, 0, 0, 0, 1);
        b.op(Form::jset_imm, 7, 0, 1, 0x200).op(Form::add_imm, 0, 0, 0, 2);
        b.op(Form::jsgt_imm, 7, 0, 1, 0).op(Form::sub_imm, 0, 0, 0, 1);
        b.op(Form::mov_reg, 8, 7).op(Form::rsh_imm, 8, 0, 0, 16);
        b.op(Form::jlt_imm, 8, 0, 2, 0x8000).op(Form::xor_imm, 0, 0, 0, 0x55).op(Form::ja, 0, 0, 1);
        b.op(Form::add_imm, 0, 0, 0, 3);
        b.op(Form::jeq32_imm, 8, 0, 1, 0).op(Form::add_imm, 0, 0, 0, 1);
      });
}

// A loop calling a small function (four instructions plus exit) each time.
// Already kernel-safe: every register is written before it is read, and the
// caller reads only r0, r6 and r7 after the call.
inline vm::Program call_program(int32_t iterations = kIterations) {
  using isa::Form;
  Builder b;
  b.op(Form::mov_imm, 6, 0, 0, iterations).op(Form::mov_imm, 7, 0, 0, 0);
  const uint32_t head = b.pc();
  b.op(Form::mov_reg, 1, 6).op(Form::mov_reg, 2, 7);
  const uint32_t call_pc = b.pc();
  b.op(Form::call_local);
  b.op(Form::mov_reg, 7, 0).op(Form::sub_imm, 6, 0, 0, 1).op(Form::jne_imm, 6, 0, b.rel(head), 0);
  b.op(Form::mov_reg, 0, 7).op(Form::exit);
  const uint32_t fn = b.pc();
  b.op(Form::mov_reg, 0, 1).op(Form::mul_imm, 0, 0, 0, 3).op(Form::add_reg, 0, 2).op(Form::stxdw, 10, 0, -8);
  b.op(Form::exit);
  b.patch_call(call_pc, fn);
  return b.program("calls");
}

// Shifts by a register, 64- and 32-bit: the only code the JIT lowers
// differently with BMI2 (shlx/shrx/sarx versus shl/shr/sar through cl). The
// four workloads above shift only by immediates.
inline vm::Program shift_program(int32_t iterations = kIterations) {
  using isa::Form;
  return counted_loop(
      "shifts", iterations,
      [](Builder& b) { b.op(Form::mov_imm, 1, 0, 0, 0x12345).op(Form::mov_imm, 2, 0, 0, 0); },
      [](Builder& b) {
        b.op(Form::mov_reg, 3, 6)
            .op(Form::and_imm, 3, 0, 0, 31)
            .op(Form::mov_reg, 4, 1)
            .op(Form::lsh_reg, 4, 3)
            .op(Form::xor_reg, 0, 4)
            .op(Form::mov_reg, 4, 0)
            .op(Form::rsh_reg, 4, 3)
            .op(Form::add_reg, 2, 4)
            .op(Form::arsh_reg, 0, 3)
            .op(Form::lsh32_reg, 1, 3)
            .op(Form::add_reg, 1, 6)
            .op(Form::rsh32_reg, 2, 3)
            .op(Form::add_reg, 0, 2);
      });
}

// Unsigned and signed division and modulo, 64- and 32-bit, by registers
// that are never zero and by immediates. Kernel-safe: r7 and r8 are written
// before they are read.
inline vm::Program divmod_program(int32_t iterations = kIterations) {
  using isa::Form;
  return counted_loop(
      "divmod", iterations,
      [](Builder& b) { b.op(Form::mov_imm, 7, 0, 0, 1000003).op(Form::mov_imm, 8, 0, 0, 0); },
      [](Builder& b) {
        b.op(Form::mov_reg, 2, 6)
            .op(Form::or_imm, 2, 0, 0, 1)  // never zero
            .op(Form::mov_reg, 3, 7)
            .op(Form::mul_imm, 3, 0, 0, 7919)
            .op(Form::div_reg, 3, 2)
            .op(Form::add_reg, 0, 3)
            .op(Form::mov_reg, 4, 7)
            .op(Form::mod_reg, 4, 2)
            .op(Form::add_reg, 0, 4)
            .op(Form::div32_imm, 7, 0, 0, 3)
            .op(Form::add_imm, 7, 0, 0, 1000003)
            .op(Form::mov_reg, 5, 0)
            .op(Form::mod32_imm, 5, 0, 0, 977)
            .op(Form::add_reg, 8, 5)
            .op(Form::xor_reg, 0, 8);
      });
}

// The smallest program: `mov r0, 1; exit`. Its run time is the per-run
// overhead of an engine (entry, state reset, exit, result).
inline vm::Program overhead_program() {
  using isa::Form;
  Builder b;
  b.op(Form::mov_imm, 0, 0, 0, 1).op(Form::exit);
  return b.program("overhead");
}

struct Workload {
  const char* name;
  vm::Program program;
  std::size_t memory_bytes;  // input size for RunMode::Memory (0: none)
};

inline std::vector<Workload> throughput_workloads() {
  return {{"alu", alu_program(), 0},    {"memory", memory_program(), 64}, {"branchy", branchy_program(), 0},
          {"calls", call_program(), 0}, {"divmod", divmod_program(), 0},  {"shifts", shift_program(), 0}};
}

// The workloads in versions the kernel verifier accepts. None of them
// reads r1 (the kernel's context pointer), so our engines run them with
// RunMode::NoData.
inline std::vector<Workload> kernel_workloads() {
  return {{"alu", alu_program(kKernelIterations, true), 0},
          {"memory", kernel_memory_program(kKernelIterations), 0},
          {"branchy", branchy_program(kKernelIterations, true), 0},
          {"calls", call_program(kKernelIterations), 0},
          {"divmod", divmod_program(kKernelIterations), 0}};
}

// Straight-line code of exactly `size` slots (size >= 16) for the compile-time
// benchmark: a repeating 12-instruction block mixing 64/32-bit ALU, shifts by
// immediate and register, stack loads and stores, and short forward
// conditional jumps; no loops, so it is valid for vm::validate and runs once.
inline vm::Program straight_line_program(uint32_t size) {
  using isa::Form;
  Builder b;
  for (int r = 0; r <= 5; ++r)
    b.op(Form::mov_imm, r, 0, 0, r + 1);
  uint32_t k = 0;
  while (b.pc() + 12 <= size - 1) {
    const int slot = -8 * static_cast<int>(k % 8 + 1);
    const int other = -8 * static_cast<int>((k + 3) % 8 + 1);
    b.op(Form::add_reg, 0, 1)
        .op(Form::mul_imm, 2, 0, 0, 7 + static_cast<int32_t>(k % 13))
        .op(Form::xor_reg, 3, 2)
        .op(Form::stxdw, 10, 3, slot)
        .op(Form::ldxdw, 4, 10, other)
        .op(Form::jeq_imm, 4, 0, 1, static_cast<int32_t>(k))
        .op(Form::add_imm, 0, 0, 0, 1)
        .op(Form::and_imm, 5, 0, 0, 63)
        .op(Form::lsh_reg, 1, 5)
        .op(Form::add32_reg, 2, 0)
        .op(Form::jgt_reg, 0, 4, 1)
        .op(Form::sub_reg, 0, 4);
    ++k;
  }
  while (b.pc() < size - 1)
    b.op(Form::add_imm, 0, 0, 0, 1);
  b.op(Form::exit);
  return b.program("straight" + std::to_string(size));
}

}  // namespace bpfdiff::bench
