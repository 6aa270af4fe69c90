// The JIT's local calls, exits and block budget charges proved against the
// interpreter's rules (oracle/smt/call_proof.hpp), and faults planted in
// them (test-only byte patches of the real code) each refuted with the
// obligation they break.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "oracle/smt/call_proof.hpp"
#include "oracle/smt/x86/machine.hpp"
#include "tests/smt/data_test_runner.hpp"
#include "vm/jit/offsets.hpp"

namespace bpfdiff::oracle::smt {
namespace {

ControlCase make_case(ControlUnit unit, uint32_t max_depth = 8, uint32_t callee_length = 2) {
  ControlCase c;
  c.unit = unit;
  c.max_call_depth = max_depth;
  c.callee_length = callee_length;
  return c;
}

ControlSnippet snippet_of(const ControlCase& c) {
  auto s = compile_control_snippet(c);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : ControlSnippet{};
}

// Rewrites the first instruction of the unit's code (or of the stubs, with
// `in_stubs`) that `pick` selects with `edit`, keeping its length, as a
// planted bug in the real code.
void patch(ControlSnippet& s, bool in_stubs, const std::function<bool(const x86::Instruction&)>& pick,
           const std::function<void(std::vector<uint8_t>&)>& edit) {
  for (auto it = s.insns.begin(); it != s.insns.end(); ++it) {
    const bool in_range =
        in_stubs ? it->offset >= s.stubs_begin : it->offset >= s.begin && it->offset < s.end;
    if (!in_range || !pick(*it)) continue;
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

constexpr uint8_t kR10 = 10, kR11 = 11, kR12 = 12, kR15 = 15;

bool is_mem(const x86::Operand& op, uint8_t base, int64_t disp) {
  return op.kind == x86::Operand::Kind::Mem && op.base == base && op.imm == disp;
}

// Adds `delta` to the little-endian immediate of `size` bytes ending the instruction.
std::function<void(std::vector<uint8_t>&)> add_to_immediate(int delta, std::size_t size = 1) {
  return [delta, size](std::vector<uint8_t>& b) {
    uint32_t v = 0;
    for (std::size_t i = 0; i < size; ++i)
      v |= static_cast<uint32_t>(b[b.size() - size + i]) << (8 * i);
    v += static_cast<uint32_t>(delta);
    for (std::size_t i = 0; i < size; ++i)
      b[b.size() - size + i] = static_cast<uint8_t>(v >> (8 * i));
  };
}

// The planted fault is refuted with the obligation it breaks and a .data
// test that passes on the interpreter and on this build's (correct) JIT: a
// regression test that a JIT with the fault fails (scripts/planted-proofs.sh
// runs it on one).
ControlProof refute(const ControlCase& c, const ControlSnippet& s, const std::string& obligation) {
  const ControlProof p = prove_control_snippet(c, s);
  EXPECT_EQ(p.verdict, ControlProof::Verdict::Counterexample) << describe(c) << ": " << p.detail;
  EXPECT_NE(p.detail.find(obligation), std::string::npos) << p.detail;
  EXPECT_NE(p.data_test.find("-- asm"), std::string::npos) << p.detail;
  const DataTestOutcome interp = run_data_test(p.data_test);
  EXPECT_TRUE(interp.ran && interp.matches) << interp.observed << "\n" << p.data_test;
  const DataTestOutcome jitted = run_data_test(p.data_test, c.options);
  EXPECT_TRUE(jitted.ran && jitted.matches) << jitted.observed << "\n" << p.data_test;
  return p;
}

TEST(JitControlProof, CallsExitsAndChargesAreProvedOnASample) {
  // The default option set, depth limits 1 and 8 (the full matrix, every
  // option set and limit, is `smt check --memory`, nightly).
  for (uint32_t max_depth : {1u, 8u}) {
    for (ControlUnit unit : kControlUnits) {
      const ControlCase c = make_case(unit, max_depth, max_depth == 1 ? 2 : 9);
      const ControlProof p = prove_control_case(c);
      EXPECT_EQ(p.verdict, ControlProof::Verdict::Proved) << describe(c) << ": " << p.detail;
      // (a limit of 1 leaves the call one path: the depth test always faults)
      EXPECT_GE(p.paths, 1u) << describe(c);
    }
  }
}

TEST(JitControlProof, ADepthLimitOffByOneIsRefutedAtTheLimit) {
  const ControlCase c = make_case(ControlUnit::CallLocal, 8);
  ControlSnippet s = snippet_of(c);
  // cmp r11d, 7 (max_call_depth - 1) becomes cmp r11d, 8.
  patch(
      s, false,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_CMP && i.operands[0].kind == x86::Operand::Kind::Reg &&
               i.operands[0].reg == kR11 && i.operands[1].kind == x86::Operand::Kind::Imm;
      },
      add_to_immediate(1));
  const ControlProof p =
      refute(c, s, "reaches the call (frame pushed, depth + 1) only when the interpreter does");
  EXPECT_EQ(p.depth, 7u);  // the one depth at which the two differ
}

TEST(JitControlProof, AFrameRecordingTheWrongReturnPcIsRefuted) {
  const ControlCase c = make_case(ControlUnit::CallLocal, 2);
  ControlSnippet s = snippet_of(c);
  patch(
      s, false,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_MOV &&
               is_mem(i.operands[0], kR11,
                      static_cast<int64_t>(offsetof(vm::CallFrame, return_pc)) - jit::offsets::kFrameSize);
      },
      add_to_immediate(1, 4));
  refute(c, s, "host memory at the call");
}

TEST(JitControlProof, AnExitThatForgetsACalleeSavedRegisterIsRefuted) {
  const ControlCase c = make_case(ControlUnit::Exit, 8);
  ControlSnippet s = snippet_of(c);
  // mov r15, [r11 + 24] (BPF r9 from the frame) becomes four nops.
  patch(
      s, false,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_MOV && i.operands[0].kind == x86::Operand::Kind::Reg &&
               i.operands[0].reg == kR15 && is_mem(i.operands[1], kR11, 24);
      },
      [](std::vector<uint8_t>& b) { b.assign(b.size(), 0x90); });
  const ControlProof p =
      refute(c, s, "r9 (r15) at the return to the caller (depth - 1) equals the interpreter's");
  EXPECT_GT(p.depth, 0u);
}

TEST(JitControlProof, AnExitGivingBackTheWrongStackFrameIsRefuted) {
  const ControlCase c = make_case(ControlUnit::Exit, 2);
  ControlSnippet s = snippet_of(c);
  // add qword [r11 + stack lo], 512 gives back 513 bytes.
  patch(
      s, false,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_ADD && i.operands[0].kind == x86::Operand::Kind::Mem &&
               i.operands[0].imm == jit::offsets::kStackLo;
      },
      add_to_immediate(1, 4));
  refute(c, s, "host memory at the return to the caller");
}

TEST(JitControlProof, ABudgetChargeComparedSignedIsRefuted) {
  const ControlCase c = make_case(ControlUnit::CalleeCharge, 8, 9);
  ControlSnippet s = snippet_of(c);
  // jb (unsigned: fewer left than the block needs) becomes jl.
  patch(
      s, false, [](const x86::Instruction& i) { return i.mnemonic == ZYDIS_MNEMONIC_JB; },
      [](std::vector<uint8_t>& b) {
        if (b[0] == 0x0f) {
          b[1] = 0x8c;
        } else {
          b[0] = 0x7c;
        }
      });
  const ControlProof p = refute(c, s, "only when the interpreter does");
  EXPECT_GE(p.remaining, uint64_t{1} << 63);  // a budget left that a signed compare reads as negative
}

TEST(JitControlProof, ABlockChargedOneShortIsRefutedNearTheBudgetsEnd) {
  // `sub r10, 2` (r10: the budget) charges 1 (BPFDIFF_PLANT_JIT_BUG=
  // budget-charge-short plants the same fault in a build). With plenty of
  // budget left both engines finish alike, so the counterexample is the
  // smallest budget left that shows it: 1, where the interpreter stops.
  const ControlCase c = make_case(ControlUnit::CalleeCharge, 1, 2);
  ControlSnippet s = snippet_of(c);
  patch(
      s, false,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_SUB && i.operands[0].kind == x86::Operand::Kind::Reg &&
               i.operands[0].reg == kR10 && i.operands[1].kind == x86::Operand::Kind::Imm;
      },
      add_to_immediate(-1, 1));
  const ControlProof p = refute(c, s, "only when the interpreter does");
  EXPECT_EQ(p.remaining, 1u);
  EXPECT_NE(p.data_test.find("# budget 3"), std::string::npos) << p.data_test;
}

TEST(JitControlProof, ADeoptimisationAtTheWrongPcIsRefuted) {
  const ControlCase c = make_case(ControlUnit::CalleeCharge, 8, 2);
  ControlSnippet s = snippet_of(c);
  // The budget stub's mov dword [r12 + pc], 3 resumes at pc 4 instead.
  patch(
      s, true,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_MOV && is_mem(i.operands[0], kR12, jit::offsets::kPc) &&
               i.operands[1].imm == 3;
      },
      add_to_immediate(1, 4));
  refute(c, s, "host memory at deoptimise at pc 3");
}

TEST(JitControlProof, ADepthFaultKeepingAnEarlierErrorAddressIsRefuted) {
  // The fault this proof found in the JIT (tests/jit/stale_error_test.cpp):
  // the depth stub's mov qword [r12 + error_address], 0 removed again.
  const ControlCase c = make_case(ControlUnit::CallLocal, 8);
  ControlSnippet s = snippet_of(c);
  patch(
      s, true,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_MOV && is_mem(i.operands[0], kR12, jit::offsets::kErrorAddress);
      },
      [](std::vector<uint8_t>& b) {
        for (uint8_t& byte : b)
          byte = 0x90;
      });
  refute(c, s, "host memory at CallDepthExceeded at pc 1");
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
