// The JIT's helper-call glue (bpf_tail_call's jump included) and callx
// proved against the interpreter's rules with the helper left arbitrary
// (oracle/smt/call_out_proof.hpp), and faults planted in them (test-only
// byte patches of the real code) each refuted with the obligation they break.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "oracle/smt/call_out_proof.hpp"
#include "oracle/smt/x86/machine.hpp"
#include "tests/smt/data_test_runner.hpp"
#include "vm/jit/offsets.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::oracle::smt {
namespace {

constexpr uint8_t kR12 = 12;

CallOutSnippet snippet_of(const CallOutCase& c) {
  auto s = compile_call_out_snippet(c);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : CallOutSnippet{};
}

// Rewrites the first instruction of pc 1's code that `pick` selects with
// `edit`, keeping its length: a planted bug in the real code.
void patch(CallOutSnippet& s, const std::function<bool(const x86::Instruction&)>& pick,
           const std::function<void(std::vector<uint8_t>&)>& edit) {
  for (auto it = s.insns.begin(); it != s.insns.end(); ++it) {
    if (it->offset < s.begin || it->offset >= s.end || !pick(*it)) continue;
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

bool is_reg(const x86::Operand& op, uint8_t reg) {
  return op.kind == x86::Operand::Kind::Reg && op.reg == reg;
}

ControlProof refute(const CallOutCase& c, const CallOutSnippet& s, const std::string& obligation) {
  const ControlProof p = prove_call_out_snippet(c, s);
  EXPECT_EQ(p.verdict, ControlProof::Verdict::Counterexample) << describe(c) << ": " << p.detail;
  EXPECT_NE(p.detail.find(obligation), std::string::npos) << p.detail;
  return p;
}

// The counterexample's .data test passes on the interpreter and on this
// build's JIT; `observed` is part of the interpreter's outcome.
void expect_test_holds(const CallOutCase& c, const ControlProof& p, const std::string& observed) {
  ASSERT_NE(p.data_test.find("call "), std::string::npos) << p.detail;
  const DataTestOutcome interp = run_data_test(p.data_test);
  EXPECT_TRUE(interp.ran && interp.matches) << interp.observed << "\n" << p.data_test;
  EXPECT_NE(interp.observed.find(observed), std::string::npos) << interp.observed;
  const DataTestOutcome jitted = run_data_test(p.data_test, c.options);
  EXPECT_TRUE(jitted.ran && jitted.matches) << jitted.observed << "\n" << p.data_test;
}

CallOutCase helper_case() {
  CallOutCase c;
  c.unit = CallOutUnit::Helper;
  c.helper = static_cast<uint32_t>(vm::HelperId::TailCall);
  c.max_call_depth = 1;
  return c;
}

TEST(JitCallOutProof, TheHelperCallGlueIsProvedForEveryHelperBehaviour) {
  // bpf_tail_call on the default option set (every option set and a plain
  // helper too: `smt check --memory --forms '^(call_helper|callx)$'`, nightly).
  const CallOutCase c = helper_case();
  const ControlProof p = prove_call_out_case(c);
  EXPECT_EQ(p.verdict, ControlProof::Verdict::Proved) << describe(c) << ": " << p.detail;
  EXPECT_GE(p.paths, 8u);  // the call, then failed / tail call / returned, for rsp 0 or 8 mod 16
}

TEST(JitCallOutProof, TheWrongCallingPcGivenToTheTrampolineIsRefuted) {
  // The trampoline reports a failing helper's error at ctx.pc.
  const CallOutCase c = helper_case();
  CallOutSnippet s = snippet_of(c);
  patch(
      s,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_MOV && i.operands[0].kind == x86::Operand::Kind::Mem &&
               i.operands[0].base == kR12 && i.operands[0].imm == jit::offsets::kPc;
      },
      [](std::vector<uint8_t>& b) { b[b.size() - 4] = 2; });
  const ControlProof p = refute(c, s, "host memory the helper sees");
  // Its .data test calls bpf_tail_call, which fails without maps: the
  // error names the calling pc (what the trampoline reads from ctx.pc).
  expect_test_holds(c, p, "helper failed");
}

TEST(JitCallOutProof, AHelperResultDroppedIsRefutedWithATest) {
  // bpf_ktime_get_ns, whose glue pops the saved r0 back instead of dropping
  // it (`add rsp, 8` -> `pop rax` and nops): r0 keeps its value
  // (BPFDIFF_PLANT_JIT_BUG=helper-result-dropped plants the same fault).
  CallOutCase c = helper_case();
  c.helper = static_cast<uint32_t>(vm::HelperId::KtimeGetNs);
  CallOutSnippet s = snippet_of(c);
  int seen = 0;
  patch(
      s,
      [&seen](const x86::Instruction& i) {
        // The second `add rsp, 8` (the first drops the call's padding).
        return i.mnemonic == ZYDIS_MNEMONIC_ADD && is_reg(i.operands[0], x86::kRsp) &&
               i.operands[1].kind == x86::Operand::Kind::Imm && i.operands[1].imm == 8 && ++seen == 2;
      },
      [](std::vector<uint8_t>& b) {
        std::fill(b.begin(), b.end(), 0x90);
        b.front() = 0x58;  // pop rax
      });
  const ControlProof p = refute(c, s, "after the helper (r0 its result)");
  // The test folds r1..r9 into the helper's result: a JIT that loses the
  // result (or a register) fails it.
  expect_test_holds(c, p, "");
}

TEST(JitCallOutProof, AHelperEnteredWithAMisalignedStackIsRefuted) {
  // `sub rsp, 0` for the padding after the saved rsp: the trampoline would
  // be entered with rsp + 8 off a 16-byte boundary.
  const CallOutCase c = helper_case();
  CallOutSnippet s = snippet_of(c);
  patch(
      s,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_SUB && is_reg(i.operands[0], x86::kRsp);
      },
      [](std::vector<uint8_t>& b) { b.back() = 0; });
  refute(c, s, "rsp + 8 is a multiple of 16");
}

TEST(JitCallOutProof, AFailedHelperThatClobbersR0IsRefuted) {
  // The error path pops the saved r0 into rcx (BPF r4) instead of rax: the
  // helper's result would leak into r0 and r4 would be lost.
  const CallOutCase c = helper_case();
  CallOutSnippet s = snippet_of(c);
  patch(
      s,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_POP && is_reg(i.operands[0], x86::kRax);
      },
      [](std::vector<uint8_t>& b) { b.back() = 0x59; });
  const ControlProof p = refute(c, s, "after the failed helper (r0 kept)");
  // A failed run shows its error, not its registers: no test can show it.
  EXPECT_TRUE(p.data_test.empty()) << p.data_test;
  EXPECT_NE(p.detail.find("no .data test"), std::string::npos) << p.detail;
}

TEST(JitCallOutProof, ACallxBoundsCheckOffByOneIsRefuted) {
  // `cmp slot, n + 1`: slot n, one past the function table, would be read
  // and called when whatever follows the table is not 0.
  CallOutCase c;
  c.unit = CallOutUnit::Callx;
  c.reg = 4;
  c.max_call_depth = 2;
  CallOutSnippet s = snippet_of(c);
  const auto slots = static_cast<int64_t>(s.insn_offsets.size());
  patch(
      s,
      [slots](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_CMP && i.operands[1].kind == x86::Operand::Kind::Imm &&
               i.operands[1].imm == slots;
      },
      [](std::vector<uint8_t>& b) { b.back() = static_cast<uint8_t>(b.back() + 1); });
  refute(c, s, "the code calls a function only when the interpreter's callx does");
}

TEST(JitCallOutProof, CallxIsProvedForEveryTargetValue) {
  // Depth limit 2 on the default option set (limits 1, 2 and 8 on every
  // option set: `smt check --memory --forms '^callx$'`).
  CallOutCase c;
  c.unit = CallOutUnit::Callx;
  c.reg = 4;
  c.max_call_depth = 2;
  const ControlProof p = prove_call_out_case(c);
  EXPECT_EQ(p.verdict, ControlProof::Verdict::Proved) << describe(c) << ": " << p.detail;
}

TEST(JitCallOutProof, CallxAcceptingAnUnalignedTargetIsRefuted) {
  // `test r10d, 7` becomes `test r10d, 0` (the low byte of its imm32): a code address 1..7 bytes past a
  // function start would call that function (BPFDIFF_PLANT_JIT_BUG=
  // callx-target-unaligned plants the same fault in a build).
  CallOutCase c;
  c.unit = CallOutUnit::Callx;
  c.reg = 4;
  c.max_call_depth = 2;
  CallOutSnippet s = snippet_of(c);
  patch(
      s,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_TEST && i.operands[1].kind == x86::Operand::Kind::Imm &&
               i.operands[1].imm == 7;
      },
      [](std::vector<uint8_t>& b) { b[b.size() - 4] = 0; });
  const ControlProof p = refute(c, s, "the code calls a function only when the interpreter's callx does");
  // Its .data test (a code address 1..7 bytes past a function start, at
  // depth 0) passes on the interpreter and this build's JIT; the planted
  // build fails it (scripts/planted-proofs.sh).
  ASSERT_NE(p.data_test.find("callx r4"), std::string::npos) << p.detail;
  const DataTestOutcome interp = run_data_test(p.data_test);
  EXPECT_TRUE(interp.ran && interp.matches) << interp.observed << "\n" << p.data_test;
  EXPECT_NE(interp.observed.find("call"), std::string::npos) << interp.observed;  // a bad call target
  const DataTestOutcome jitted = run_data_test(p.data_test, c.options);
  EXPECT_TRUE(jitted.ran && jitted.matches) << jitted.observed << "\n" << p.data_test;
}

TEST(JitCallOutProof, ACallxDepthLimitOffByOneIsRefutedWithATestAtThatDepth) {
  // Depth limit 2: the frame push's `cmp r11d, 1` (max_call_depth - 1)
  // becomes `cmp r11d, 2` (BPFDIFF_PLANT_JIT_BUG=call-depth-off-by-one plants
  // the same fault in a build). The two differ at depth 1 only, so the
  // .data test reaches the callx through one local call.
  CallOutCase c;
  c.unit = CallOutUnit::Callx;
  c.reg = 4;
  c.max_call_depth = 2;
  CallOutSnippet s = snippet_of(c);
  patch(
      s,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_CMP && is_reg(i.operands[0], 11) &&
               i.operands[1].kind == x86::Operand::Kind::Imm && i.operands[1].imm == 1;
      },
      [](std::vector<uint8_t>& b) { b.back() = 2; });
  const ControlProof p = refute(c, s, "the code calls a function only when the interpreter's callx does");
  EXPECT_EQ(p.depth, 1u);
  ASSERT_NE(p.data_test.find("callx r4"), std::string::npos) << p.detail;
  EXPECT_NE(p.data_test.find("# max-call-depth 2"), std::string::npos) << p.data_test;
  const DataTestOutcome interp = run_data_test(p.data_test);
  EXPECT_TRUE(interp.ran && interp.matches) << interp.observed << "\n" << p.data_test;
  EXPECT_NE(interp.observed.find("call depth"), std::string::npos) << interp.observed;
  const DataTestOutcome jitted = run_data_test(p.data_test, c.options);
  EXPECT_TRUE(jitted.ran && jitted.matches) << jitted.observed << "\n" << p.data_test;
  // This build's JIT allowed one frame more, as the planted one does: the
  // test fails on it.
  const DataTestOutcome deeper = run_data_test(p.data_test, c.options, c.max_call_depth + 1);
  EXPECT_TRUE(deeper.ran && !deeper.matches) << deeper.observed << "\n" << p.data_test;
}

TEST(JitCallOutProof, CallxCasesCoverEveryDepthLimitAndHelperCallsBothHelpers) {
  const jit::JitOptions options;
  const auto callx = call_out_cases_for(isa::Form::callx, 7, options);
  ASSERT_EQ(callx.size(), 3u);
  for (const CallOutCase& c : callx) {
    EXPECT_EQ(c.unit, CallOutUnit::Callx);
    EXPECT_EQ(c.reg, 7);
  }
  EXPECT_EQ(call_out_cases_for(isa::Form::call_helper, 7, options).size(), 2u);
  EXPECT_TRUE(call_out_cases_for(isa::Form::call_local, 7, options).empty());
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
