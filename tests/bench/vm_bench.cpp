// Interpreter throughput on four instruction mixes, built with isa::encode.
// items_processed is the number of BPF instructions executed, so Google
// Benchmark reports instructions per second; ns_per_insn is its inverse.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "vm/interp/interpreter.hpp"
#include "vm/isa/encode.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::bench {
namespace {

using isa::Form;

constexpr int32_t kIterations = 100'000;

class Builder {
 public:
  Builder& op(Form f, int dst = 0, int src = 0, int off = 0, int32_t imm = 0) {
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
  vm::Program program() const {
    vm::Program p;
    p.slots = slots_;
    return p;
  }

 private:
  std::vector<isa::RawInsn> slots_;
};

// r6 counts down from kIterations; `body` is emitted between the loop head
// and the back edge.
template <class Body>
vm::Program counted_loop(Body body) {
  Builder b;
  b.op(Form::mov_imm, 6, 0, 0, kIterations).op(Form::mov_imm, 0, 0, 0, 0);
  const uint32_t head = b.pc();
  body(b);
  b.op(Form::sub_imm, 6, 0, 0, 1);
  b.op(Form::jne_imm, 6, 0, b.rel(head), 0);
  b.op(Form::exit);
  return b.program();
}

vm::Program alu_program() {
  return counted_loop([](Builder& b) {
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

// Loads from the 64-byte input and loads/stores on the stack.
vm::Program memory_program() {
  return counted_loop([](Builder& b) {
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

// Data-dependent branches on a pseudo-random value.
vm::Program branchy_program() {
  return counted_loop([](Builder& b) {
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
vm::Program call_program() {
  Builder b;
  b.op(Form::mov_imm, 6, 0, 0, kIterations).op(Form::mov_imm, 7, 0, 0, 0);
  const uint32_t head = b.pc();
  b.op(Form::mov_reg, 1, 6).op(Form::mov_reg, 2, 7);
  const uint32_t call_pc = b.pc();
  b.op(Form::call_local, 0, 0, 0, 0);  // patched below
  b.op(Form::mov_reg, 7, 0).op(Form::sub_imm, 6, 0, 0, 1).op(Form::jne_imm, 6, 0, b.rel(head), 0);
  b.op(Form::mov_reg, 0, 7).op(Form::exit);
  const uint32_t fn = b.pc();
  b.op(Form::mov_reg, 0, 1).op(Form::mul_imm, 0, 0, 0, 3).op(Form::add_reg, 0, 2).op(Form::stxdw, 10, 0, -8);
  b.op(Form::exit);
  vm::Program p = b.program();
  p.slots[call_pc].imm = static_cast<int32_t>(fn) - static_cast<int32_t>(call_pc) - 1;
  return p;
}

void run_program(benchmark::State& state, const vm::Program& program, std::size_t memory_bytes) {
  vm::HelperRegistry helpers;
  auto loaded = vm::validate(program, helpers);
  if (!loaded.ok()) {
    state.SkipWithError(loaded.error().message.c_str());
    return;
  }
  vm::ExecLimits limits;
  limits.instruction_budget = 100'000'000;
  vm::Interpreter interp(*loaded, helpers, limits);
  std::vector<uint8_t> memory(memory_bytes, 0x5a);
  uint64_t instructions = 0;
  for (auto _ : state) {
    const vm::RunResult r = interp.run(vm::RunInput{vm::RunMode::Memory, memory});
    if (!r.ok()) {
      state.SkipWithError(vm::describe(r.error).c_str());
      return;
    }
    benchmark::DoNotOptimize(r.regs[0]);
    instructions += r.instructions;
  }
  state.SetItemsProcessed(static_cast<int64_t>(instructions));
  // A rate of (instructions / 1e9) per second, inverted: nanoseconds per instruction.
  state.counters["ns_per_insn"] = benchmark::Counter(
      static_cast<double>(instructions) / 1e9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_AluLoop(benchmark::State& state) {
  run_program(state, alu_program(), 0);
}
void BM_MemoryLoop(benchmark::State& state) {
  run_program(state, memory_program(), 64);
}
void BM_Branchy(benchmark::State& state) {
  run_program(state, branchy_program(), 0);
}
void BM_LocalCalls(benchmark::State& state) {
  run_program(state, call_program(), 0);
}

BENCHMARK(BM_AluLoop)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MemoryLoop)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Branchy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LocalCalls)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bpfdiff::bench

BENCHMARK_MAIN();
