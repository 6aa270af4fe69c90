#include "oracle/smt/smt_engine.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "oracle/smt/bpf_model.hpp"
#include "oracle/smt/model_eval.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::oracle {
namespace {

using isa::Family;

Error unsupported(uint32_t pc, const std::string& why) {
  return make_error(
      "unsupported by smt: pc " + std::to_string(pc) + ": " + why +
      " (the smt engine runs loop-free ALU, byte-order and jump programs without memory or calls)");
}

// One Z3 context per thread, reused across programs: creating a context costs
// far more than evaluating a short program on it.
smt::ConcreteModel& thread_model() {
  thread_local smt::ConcreteModel model;
  return model;
}

class SmtExecutor final : public Executor {
 public:
  SmtExecutor(std::unique_ptr<vm::LoadedProgram> program, const vm::ExecLimits& limits, uint64_t load_ns)
      : program_(std::move(program)), limits_(limits), load_ns_(load_ns) {
    // The same stack area as the interpreter's (one frame per allowed call
    // level), so full-state comparison sees the same bytes; nothing here
    // writes to it.
    stack_.assign(std::size_t{std::max<uint32_t>(limits_.max_call_depth, 1)} * vm::kStackFrameBytes, 0);
  }

  vm::RunResult run(vm::RunInput input) override {
    vm::RunResult r;
    // The interpreter's initial state: r1/r2 describe the input memory,
    // r10 is the top of the stack.
    r.regs[10] = vm::region_base(vm::RegionId::Stack) + stack_.size();
    if (input.mode == vm::RunMode::Memory && !input.memory.empty()) {
      r.regs[1] = vm::region_base(vm::RegionId::Input);
      r.regs[2] = input.memory.size();
    }
    const std::vector<vm::Insn>& code = program_->insns;
    uint32_t pc = program_->source.entry;
    smt::ConcreteModel& model = thread_model();
    for (;;) {
      if (r.instructions == limits_.instruction_budget) {
        r.error = vm::ExecError{vm::ErrorKind::BudgetExhausted, pc, 0, 0};
        return r;
      }
      ++r.instructions;
      const vm::Insn& insn = code[pc];
      const isa::Semantics& s = isa::info(insn.form).sem;
      const uint64_t src = s.source == isa::Source::Reg ? r.regs[insn.src] : smt::imm_operand_value(insn.imm);
      switch (s.family) {
        case Family::Alu:
        case Family::Endian: {
          auto v = model.dst_result(insn.form, r.regs[insn.dst], src);
          // The model is total on covered forms; a failure here is a Z3
          // failure, reported as the end of the run with r0 untouched.
          if (!v) return r;
          r.regs[insn.dst] = *v;
          ++pc;
          break;
        }
        case Family::Jump: {
          auto taken = model.branch_taken(insn.form, r.regs[insn.dst], src);
          if (!taken) return r;
          pc = *taken ? insn.target : pc + 1;
          break;
        }
        case Family::Lddw:
          r.regs[insn.dst] = insn.imm64;
          pc += 2;
          break;
        case Family::Exit:
          return r;
        case Family::Call:
        case Family::Load:
        case Family::LoadSigned:
        case Family::StoreImm:
        case Family::StoreReg:
        case Family::Atomic:
        case Family::PacketLoad:
          return r;  // rejected by smt_supports before any run
      }
    }
  }

  std::span<const uint8_t> stack() const override { return stack_; }
  uint64_t load_ns() const override { return load_ns_; }
  uint64_t compile_ns() const override { return 0; }

 private:
  std::unique_ptr<vm::LoadedProgram> program_;
  vm::ExecLimits limits_;
  uint64_t load_ns_;
  std::vector<uint8_t> stack_;
};

}  // namespace

Result<void> smt_supports(const vm::LoadedProgram& program) {
  const std::vector<vm::Insn>& code = program.insns;
  for (uint32_t pc = 0; pc < code.size(); ++pc) {
    const isa::FormInfo& fi = isa::info(code[pc].form);
    switch (fi.sem.family) {
      case Family::Alu:
      case Family::Endian:
      case Family::Exit:
        break;
      case Family::Jump:
        // Forward jumps only: every run then ends within the program's length.
        if (code[pc].target <= pc) {
          return unsupported(pc, "backward jump to pc " + std::to_string(code[pc].target));
        }
        break;
      case Family::Lddw:
        if (fi.sem.lddw != isa::LddwKind::Imm64) return unsupported(pc, "lddw of an address or map");
        ++pc;  // the second slot carries the high half, never runs
        break;
      case Family::Call:
      case Family::Load:
      case Family::LoadSigned:
      case Family::StoreImm:
      case Family::StoreReg:
      case Family::Atomic:
      case Family::PacketLoad:
        return unsupported(pc, std::string(fi.mnemonic) + " (" + isa::to_string(fi.sem.family) + ")");
    }
  }
  return {};
}

Result<std::unique_ptr<Executor>> SmtEngine::prepare_with(const vm::Program& program,
                                                          const vm::ExecLimits& limits,
                                                          const vm::HelperRegistry& helpers) {
  auto v = timed_validate(program, helpers);
  if (!v) return v.error();
  if (auto ok = smt_supports(*v->program); !ok) return ok.error();
  return std::unique_ptr<Executor>(std::make_unique<SmtExecutor>(std::move(v->program), limits, v->ns));
}

}  // namespace bpfdiff::oracle
