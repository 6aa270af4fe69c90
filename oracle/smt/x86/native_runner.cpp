#include "oracle/smt/x86/native_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdio>
#include <vector>

#include "vm/jit/x86/assembler.hpp"

namespace bpfdiff::oracle::smt::x86 {
namespace {

using jit::x86::Assembler;
using jit::x86::JumpSize;
using jit::x86::mem;
using jit::x86::Reg;
using jit::x86::Width;

constexpr std::array<Reg, 6> kCalleeSaved = {Reg::rbx, Reg::rbp, Reg::r12, Reg::r13, Reg::r14, Reg::r15};
constexpr uint8_t kPushfq = 0x9C;
constexpr uint8_t kPopfq = 0x9D;
constexpr int32_t kFlagsAt = static_cast<int32_t>(offsetof(NativeState, rflags));
constexpr int32_t kTakenAt = static_cast<int32_t>(offsetof(NativeState, taken));

Reg reg(unsigned n) {
  return static_cast<Reg>(n);
}

void append(std::vector<uint8_t>& out, const Assembler& a) {
  out.insert(out.end(), a.code().begin(), a.code().end());
}

}  // namespace

Result<NativeRunner> NativeRunner::create(const Instruction& insn) {
  return create(std::span<const Instruction>(&insn, 1));
}

Result<NativeRunner> NativeRunner::create(std::span<const Instruction> insns) {
  if (insns.empty()) return make_error("native run: no instructions");
  for (const Instruction& insn : insns) {
    for (const Operand& op : insn.operands) {
      if (op.kind == Operand::Kind::Mem) return make_error("native run: " + insn.text + ": memory operand");
      if (op.kind == Operand::Kind::Reg && op.reg == 4 && !op.high_byte)
        return make_error("native run: " + insn.text + ": uses rsp");
    }
  }
  const Instruction& insn = insns.back();
  std::vector<uint8_t> code;
  // Entry: rdi = NativeState*. Stack after the set-up: [rsp] the state
  // pointer, [rsp + 8] the taken flag.
  Assembler enter;
  for (Reg r : kCalleeSaved)
    enter.push(r);
  enter.mov_imm(Width::W32, Reg::rax, 0);
  enter.push(Reg::rax);
  enter.push(Reg::rdi);
  enter.mov(Width::W64, Reg::rax, mem(Reg::rdi, kFlagsAt));
  enter.push(Reg::rax);
  append(code, enter);
  code.push_back(kPopfq);
  Assembler load;  // mov does not touch the flags
  for (unsigned r = 0; r < 16; ++r) {
    if (r != 4 && r != 7) load.mov(Width::W64, reg(r), mem(Reg::rdi, static_cast<int32_t>(8 * r)));
  }
  load.mov(Width::W64, Reg::rdi, mem(Reg::rdi, 8 * 7));
  append(code, load);

  std::vector<uint8_t> body;
  for (std::size_t i = 0; i + 1 < insns.size(); ++i)
    body.insert(body.end(), insns[i].bytes.begin(), insns[i].bytes.end());
  const std::size_t last_at = body.size();
  body.insert(body.end(), insn.bytes.begin(), insn.bytes.end());
  const bool branch = insn.rel_size != 0;
  Assembler marker;
  if (branch) {
    marker.mov_imm(Width::W64, mem(Reg::rsp, 8), 1);
    Assembler skip;
    skip.jmp(JumpSize::Short, static_cast<int32_t>(marker.size()));
    // taken: skip the short jmp that jumps over the marker.
    const auto disp = static_cast<uint32_t>(skip.size());
    for (unsigned i = 0; i < insn.rel_size; ++i)
      body[last_at + insn.rel_offset + i] = static_cast<uint8_t>(disp >> (8 * i));
    body.insert(body.end(), skip.code().begin(), skip.code().end());
  }
  code.insert(code.end(), body.begin(), body.end());
  append(code, marker);

  Assembler store;
  store.xchg(Width::W64, mem(Reg::rsp, 0), Reg::rdi);  // rdi = state pointer; no flags change
  for (unsigned r = 0; r < 16; ++r) {
    if (r != 4 && r != 7) store.mov(Width::W64, mem(Reg::rdi, static_cast<int32_t>(8 * r)), reg(r));
  }
  append(code, store);
  code.push_back(kPushfq);
  Assembler leave;
  leave.pop(Reg::rax);
  leave.mov(Width::W64, mem(Reg::rdi, kFlagsAt), Reg::rax);
  leave.pop(Reg::rax);
  leave.mov(Width::W64, mem(Reg::rdi, 8 * 7), Reg::rax);
  leave.pop(Reg::rax);
  leave.mov(Width::W64, mem(Reg::rdi, kTakenAt), Reg::rax);
  for (auto it = kCalleeSaved.rbegin(); it != kCalleeSaved.rend(); ++it)
    leave.pop(*it);
  leave.ret();
  append(code, leave);
  for (const Assembler* a : {&enter, &load, &marker, &store, &leave}) {
    if (!a->ok()) return make_error("native run: harness: " + a->error());
  }
  auto memory = jit::ExecMemory::create(code);
  if (!memory) return memory.error();
  NativeRunner runner;
  runner.code_ = std::move(memory).value();
  return runner;
}

NativeState NativeRunner::run(const NativeState& in) const {
  NativeState s = in;
  s.rflags = (in.rflags & kArithmeticFlagMask) | 0x202;  // reserved bit 1 and IF; TF, DF, AC clear
  s.taken = 0;
  using Entry = void (*)(NativeState*);
  reinterpret_cast<Entry>(const_cast<uint8_t*>(code_.code()))(&s);
  return s;
}

}  // namespace bpfdiff::oracle::smt::x86

namespace bpfdiff::oracle::smt::x86 {

bool NativeRunner::faults_in_child(const NativeState& in) const {
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) return false;
  if (child == 0) {
    std::signal(SIGFPE, SIG_DFL);  // a sanitizer runtime's handler must not turn #DE into an exit code
    run(in);
    _exit(0);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) return false;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGFPE;
}

}  // namespace bpfdiff::oracle::smt::x86
