#pragma once
// The x86-64 JIT: compiles a validated program to machine code that keeps
// every guarantee of the interpreter (bounds checks, budget, call depth,
// identical errors) and runs it. Shares the interpreter's address space and
// stack, and hands a run to the interpreter when it deoptimises.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "vm/interp/interpreter.hpp"
#include "vm/jit/context.hpp"
#include "vm/jit/exec_memory.hpp"
#include "vm/jit/options.hpp"
#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/runtime/run.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::jit {

// Deep native recursion is the one resource the JIT uses that the
// interpreter does not (8 bytes of native stack per local call).
inline constexpr uint32_t kMaxJitCallDepth = 65536;

class JitProgram {
 public:
  // `program` and `helpers` must outlive the JitProgram.
  static Result<std::unique_ptr<JitProgram>> compile(const vm::LoadedProgram& program,
                                                     const vm::HelperRegistry& helpers,
                                                     vm::ExecLimits limits = {}, JitOptions options = {});

  vm::RunResult run(const vm::RunInput& input);

  std::span<const uint8_t> stack() const { return interp_.stack(); }
  uint64_t register_region(std::span<uint8_t> bytes, bool writable) {
    return interp_.register_region(bytes, writable);
  }

  vm::HelperEnv& env() { return interp_.env(); }
  const vm::HelperEnv& env() const { return interp_.env(); }
  void reset_maps() { interp_.reset_maps(); }

  std::span<const uint8_t> code() const { return {code_.code(), code_.code_size()}; }
  // Offset in code() of each instruction slot's first byte.
  const std::vector<uint32_t>& insn_offsets() const { return insn_offsets_; }
  // Where the program body ends and the shared out-of-line code begins.
  uint32_t body_size() const { return body_size_; }
  uint64_t compile_ns() const { return compile_ns_; }
  const JitOptions& options() const { return options_; }
  uint64_t deopts() const { return deopts_; }  // runs the interpreter finished (budget ran out)

 private:
  JitProgram(const vm::LoadedProgram& program, const vm::HelperRegistry& helpers, vm::ExecLimits limits,
             JitOptions options);
  static uint64_t helper_trampoline(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                    JitContext* ctx);
  static uint64_t callx_trampoline(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                   JitContext* ctx);
  uint64_t call_helper(const vm::HelperSpec& spec, const uint64_t (&args)[5], JitContext* ctx);
  void init_context();  // the fields of ctx_ that stay the same across runs

  const vm::LoadedProgram& program_;
  const vm::HelperRegistry& helpers_;
  vm::ExecLimits limits_;
  JitOptions options_;
  vm::Interpreter interp_;  // owns the address space and stack; finishes deoptimised runs
  ExecMemory code_;
  JitEntry entry_ = nullptr;
  std::vector<uint32_t> insn_offsets_;
  std::vector<uint64_t> function_code_;  // per slot, for callx
  uint32_t body_size_ = 0;
  uint64_t compile_ns_ = 0;
  uint64_t deopts_ = 0;
  JitContext ctx_{};  // reused by every run
};

}  // namespace bpfdiff::jit
