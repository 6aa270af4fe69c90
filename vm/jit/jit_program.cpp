#include "vm/jit/jit_program.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "vm/jit/lowering.hpp"
#include "vm/jit/stack_bounds.hpp"

namespace bpfdiff::jit {
namespace {

// The buffers of a compilation (emission and relaxation, final code, block
// analysis), kept per thread between compilations: a program of 100,000
// slots needs megabytes, and fresh allocations of that size cost a page
// fault per 4 KiB each time; in the sanitizer builds that the fuzz targets
// use, even small fresh allocations are filled and quarantined when freed,
// so reusing them is what keeps a compilation from touching new pages.
// Buffers past kKeptBufferBytes are freed instead.
struct CodeBuffers {
  Emitter::Storage emission;
  std::vector<uint8_t> code;
  BlockInfo blocks;  // the block analysis, its vectors' capacity kept likewise
};
constexpr std::size_t kKeptBufferBytes = std::size_t{16} << 20;
thread_local CodeBuffers buffers;

template <typename T>
void trim(std::vector<T>& v) {
  if (v.capacity() * sizeof(T) > kKeptBufferBytes) std::vector<T>().swap(v);
}

void trim(Emitter::Storage& s) {
  trim(s.code);
  trim(s.offsets);
  trim(s.branches);
  trim(s.labels);
  trim(s.sites);
  trim(s.rank);
  trim(s.is_short);
  trim(s.saved);
  trim(s.encoded);
}

// One emission; the emitter then relaxes the jumps (emitter.hpp). The
// labels' final offsets are left in buffers.emission.labels.
Result<std::vector<uint8_t>> lay_out(const vm::LoadedProgram& program, const BlockInfo& blocks,
                                     const vm::ExecLimits& limits, const JitOptions& options, uint64_t key) {
  Emitter e(buffers.emission);
  // Every jump is near until relaxed, and stubs follow the body: about 40
  // bytes per slot at most in practice, so the buffer is not regrown.
  e.a.reserve(48 * program.insns.size() + 256);
  Lowering(program, blocks, limits, options, key, e).emit();
  auto laid = std::move(e).finish(std::move(buffers.code));
  if (!laid) return make_error("jit: " + laid.error().message);
  return laid;
}

}  // namespace

JitProgram::JitProgram(const vm::LoadedProgram& program, const vm::HelperRegistry& helpers,
                       vm::ExecLimits limits, JitOptions options)
    : program_(program),
      helpers_(helpers),
      limits_(limits),
      options_(options),
      interp_(program, helpers, limits) {}

Result<std::unique_ptr<JitProgram>> JitProgram::compile(const vm::LoadedProgram& program,
                                                        const vm::HelperRegistry& helpers,
                                                        vm::ExecLimits limits, JitOptions options) {
  const auto start = std::chrono::steady_clock::now();
  limits.max_call_depth = std::max<uint32_t>(limits.max_call_depth, 1);
  if (limits.max_call_depth > kMaxJitCallDepth) {
    return make_error("jit: call depth limit " + std::to_string(limits.max_call_depth) +
                      " is above the JIT's " + std::to_string(kMaxJitCallDepth));
  }
  options.bmi2 = options.bmi2 && __builtin_cpu_supports("bmi2");
  const uint64_t key = options.constant_blinding ? blinding_key(options.blinding_seed) : 0;
  std::unique_ptr<JitProgram> jit(new JitProgram(program, helpers, limits, options));
  BlockInfo& blocks = buffers.blocks;
  analyse_blocks(program, blocks);
  blocks.in_frame = prove_stack_accesses(program, blocks.leader);
  auto compiled = lay_out(program, blocks, jit->limits_, options, key);
  if (!compiled) return compiled.error();
  auto memory = ExecMemory::create(*compiled);
  buffers.code = std::move(compiled).value();
  trim(buffers.code);
  if (!memory) return memory.error();
  const std::vector<int64_t>& labels = buffers.emission.labels;
  jit->code_ = std::move(memory).value();
  jit->entry_ = reinterpret_cast<JitEntry>(const_cast<uint8_t*>(jit->code_.code()));
  jit->insn_offsets_.resize(program.insns.size());
  for (std::size_t pc = 0; pc < program.insns.size(); ++pc) {
    jit->insn_offsets_[pc] = static_cast<uint32_t>(labels[pc]);
  }
  jit->function_code_.assign(program.insns.size(), 0);
  for (uint32_t f : program.function_starts) {
    jit->function_code_[f] = reinterpret_cast<uint64_t>(jit->code_.code()) + jit->insn_offsets_[f];
  }
  jit->body_size_ = static_cast<uint32_t>(labels[body_end_label(program.insns.size())]);
  trim(buffers.emission);  // labels are read; an error above leaves it to the next compilation
  if (stack_top(jit->limits_) != jit->interp_.stack_top()) return make_error("jit: stack top disagrees");
  jit->init_context();
  jit->compile_ns_ = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  return jit;
}

uint64_t JitProgram::call_helper(const vm::HelperSpec& spec, const uint64_t (&args)[5], JitContext* ctx) {
  vm::HelperCall call;
  std::copy(std::begin(args), std::end(args), call.args);
  call.memory = &interp_.memory();
  call.user = spec.user;
  call.env = &interp_.env();
  call.pc = ctx->pc;
  const uint64_t result = spec.fn(call);
  if (call.error) {
    ctx->error_kind = static_cast<uint32_t>(call.error->kind);
    ctx->error_pc = call.error->pc;
    ctx->error_address = call.error->address;
    ctx->error_size = call.error->size;
  } else if (call.tail_call) {
    // Tail-call targets are function starts (the validator made them so),
    // so the function table has their code.
    ctx->tail_target = function_code_[*call.tail_call];
  }
  return result;
}

uint64_t JitProgram::helper_trampoline(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       JitContext* ctx) {
  auto* self = static_cast<JitProgram*>(ctx->program);
  return self->call_helper(*self->interp_.helper_at(ctx->pc), {r1, r2, r3, r4, r5}, ctx);
}

uint64_t JitProgram::callx_trampoline(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                      JitContext* ctx) {
  auto* self = static_cast<JitProgram*>(ctx->program);
  const vm::HelperSpec* spec = self->helpers_.find(static_cast<uint32_t>(ctx->callx_value));
  if (spec == nullptr) {
    ctx->error_kind = static_cast<uint32_t>(vm::ErrorKind::UnknownHelper);
    ctx->error_pc = ctx->pc;
    ctx->error_address = ctx->callx_value;
    ctx->error_size = 0;
    return 0;
  }
  return self->call_helper(*spec, {r1, r2, r3, r4, r5}, ctx);
}

void JitProgram::init_context() {
  vm::Interpreter::Fixed fixed = interp_.fixed();
  JitContext& c = ctx_;
  c = JitContext{};
  c.regions = fixed.regions;
  c.frames = fixed.frames;
  c.stack_delta = reinterpret_cast<uint64_t>(fixed.stack_host) - vm::region_base(vm::RegionId::Stack);
  c.helper_trampoline = reinterpret_cast<void*>(&JitProgram::helper_trampoline);
  c.callx_trampoline = reinterpret_cast<void*>(&JitProgram::callx_trampoline);
  c.function_code = function_code_.data();
  c.program = this;
}

vm::RunResult JitProgram::run(const vm::RunInput& input) {
  const vm::Interpreter::Start start = interp_.prepare(input);
  // The context persists between runs: its pointers into the interpreter
  // (region table, frames, stack) never move, so a run sets only what the
  // machine code reads before writing and what the previous run changed.
  // The registers are not in it: the code starts them from `start` and
  // stores them into the result.
  JitContext& c = ctx_;
  const std::span<uint8_t> packet = interp_.legacy_packet();
  c.remaining = limits_.instruction_budget;
  c.packet = packet.data();
  c.packet_len = packet.size();
  c.tail_target = 0;
  c.depth = 0;
  c.deepest = 0;
  c.status = static_cast<uint32_t>(JitStatus::Exit);
  c.error_kind = static_cast<uint32_t>(vm::ErrorKind::None);
  // One object returned on every path, so it is built in the caller's
  // return slot (a copy cost a store-forwarding stall, about a third of a
  // short run's time).
  vm::RunResult result(vm::RunResult::RegistersFilledByEngine::Tag);  // the code stores all of them
  c.out_regs = result.regs.data();

  entry_(&c, start.r1, start.r2);

  const auto status = static_cast<JitStatus>(c.status);
  if (status == JitStatus::Deopt) {
    vm::ExecState& st = interp_.state();
    vm::copy_registers(st.regs.data(), result.regs.data());
    st.pc = c.pc;
    st.depth = c.depth;
    st.deepest = c.deepest;
    st.executed = limits_.instruction_budget - c.remaining;
    ++deopts_;
    result = interp_.resume();
    return result;
  }
  interp_.ended(c.deepest);
  result.instructions = limits_.instruction_budget - c.remaining;
  if (status == JitStatus::Error) {
    result.error =
        vm::ExecError{static_cast<vm::ErrorKind>(c.error_kind), c.error_pc, c.error_address, c.error_size};
  } else if (status != JitStatus::Exit) {
    result.error = vm::ExecError{vm::ErrorKind::BadCallTarget, c.pc, 0, 0};
  }
  return result;
}

}  // namespace bpfdiff::jit
