// The JIT's prologue and epilogue proved against the interpreter's start and
// end of a run and the SysV ABI of its C++ caller
// (oracle/smt/entry_exit_proof.hpp), and faults planted in them (test-only
// byte patches of the real code) each refuted with the obligation they break.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "oracle/smt/entry_exit_proof.hpp"
#include "oracle/smt/x86/machine.hpp"

namespace bpfdiff::oracle::smt {
namespace {

EntryExitSnippet snippet_of(const EntryExitCase& c) {
  auto s = compile_entry_exit_snippet(c);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : EntryExitSnippet{};
}

// Rewrites the first instruction at or after `from` that `pick` selects with
// `edit`, keeping its length.
void patch(EntryExitSnippet& s, uint32_t from, const std::function<bool(const x86::Instruction&)>& pick,
           const std::function<void(std::vector<uint8_t>&)>& edit) {
  for (auto it = s.insns.begin(); it != s.insns.end(); ++it) {
    if (it->offset < from || !pick(*it)) continue;
    std::vector<uint8_t> bytes = it->bytes;
    edit(bytes);
    ASSERT_EQ(bytes.size(), it->bytes.size());
    std::copy(bytes.begin(), bytes.end(), s.code.begin() + it->offset);
    auto again = x86::decode(bytes, it->offset);
    ASSERT_TRUE(again.ok());
    it = s.insns.erase(it);
    s.insns.insert(it, again->begin(), again->end());
    return;
  }
  FAIL() << "no instruction to patch";
}

void refute(const EntryExitCase& c, const EntryExitSnippet& s, const std::string& obligation) {
  const ControlProof p = prove_entry_exit_snippet(c, s);
  EXPECT_EQ(p.verdict, ControlProof::Verdict::Counterexample) << describe(c) << ": " << p.detail;
  EXPECT_NE(p.detail.find(obligation), std::string::npos) << p.detail;
}

bool is_reg(const x86::Operand& op, uint8_t reg) {
  return op.kind == x86::Operand::Kind::Reg && op.reg == reg;
}

TEST(JitEntryExitProof, ThePrologueAndEpilogueAreProved) {
  // Depth limit 8 on the default option set (limits 1 and 8 on every
  // option set: the exit row of `smt check --memory`).
  const EntryExitCase c;
  const ControlProof p = prove_entry_exit_case(c);
  EXPECT_EQ(p.verdict, ControlProof::Verdict::Proved) << describe(c) << ": " << p.detail;
  EXPECT_EQ(p.paths, 3u);  // the prologue, the exit, the error exit
}

TEST(JitEntryExitProof, APrologueThatLeavesARegisterUnzeroedIsRefuted) {
  // `xor ebx, ebx` (BPF r6) becomes `xor ebx, ecx`: r6 would start with
  // r4's caller garbage (here the caller's rcx) instead of 0.
  const EntryExitCase c;
  EntryExitSnippet s = snippet_of(c);
  patch(
      s, 0,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_XOR && is_reg(i.operands[0], x86::kRbx) &&
               is_reg(i.operands[1], x86::kRbx);
      },
      [](std::vector<uint8_t>& b) {
        b.back() = static_cast<uint8_t>((b.back() & ~0x38) | (x86::kRcx << 3));
      });
  refute(c, s, "r6 (rbx) at the entry instruction is the interpreter's start value");
}

TEST(JitEntryExitProof, AnEpilogueThatRestoresTheWrongRegisterIsRefuted) {
  // `pop r15` becomes `pop r14` (41 5f -> 41 5e): r15 not restored for the
  // C++ caller.
  const EntryExitCase c;
  EntryExitSnippet s = snippet_of(c);
  patch(
      s, s.exit_label,
      [](const x86::Instruction& i) { return i.mnemonic == ZYDIS_MNEMONIC_POP && is_reg(i.operands[0], 15); },
      [](std::vector<uint8_t>& b) { b.back() = 0x5e; });
  refute(c, s, "r15 after the exit is the caller's");
}

TEST(JitEntryExitProof, AnEpilogueThatStoresR10InTheWrongSlotIsRefuted) {
  // The store of r10 (rbp) into out_regs[10] goes to out_regs[9]: the run's
  // result would lose r9.
  const EntryExitCase c;
  EntryExitSnippet s = snippet_of(c);
  patch(
      s, s.exit_label,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_MOV && i.operands[0].kind == x86::Operand::Kind::Mem &&
               i.operands[0].imm == 80 && is_reg(i.operands[1], x86::kRbp);
      },
      [](std::vector<uint8_t>& b) { b.back() = 72; });
  refute(c, s, "holds r0..r10 in ctx.out_regs");
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
