// The JIT's memory lowering proved against the interpreter's memory
// semantics (oracle/smt/mem_proof.hpp): a sample of the real lowerings is
// proved, and faults planted in them (test-only byte patches of the real
// code: a bounds compare off by one, a missing writable check, a check of
// the wrong size, a wrong size in the fault report, an unchecked access
// outside the frame) are each refuted with the obligation they break.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "oracle/smt/jit_check.hpp"
#include "oracle/smt/mem_model.hpp"
#include "oracle/smt/mem_proof.hpp"
#include "tests/smt/data_test_runner.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/jit/offsets.hpp"
#include "vm/jit/options.hpp"

namespace bpfdiff::oracle::smt {
namespace {

MemCase make_case(isa::Form form, uint8_t dst, uint8_t src, int16_t off, int32_t imm = 0) {
  MemCase c;
  c.form = form;
  c.dst = dst;
  c.src = src;
  c.off = off;
  c.imm = imm;
  return c;
}

MemSnippet snippet_of(const MemCase& c) {
  auto s = compile_mem_snippet(c);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : MemSnippet{};
}

// Rewrites the one instruction of `s` that `pick` selects with `edit`
// (same length, so no offset moves; it may become several instructions,
// e.g. nops), as a planted bug in the real code.
void patch(MemSnippet& s, const std::function<bool(const x86::Instruction&)>& pick,
           const std::function<void(std::vector<uint8_t>&)>& edit) {
  for (auto it = s.insns.begin(); it != s.insns.end(); ++it) {
    if (!pick(*it)) continue;
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

bool is_mem(const x86::Operand& op, uint8_t base, int64_t disp) {
  return op.kind == x86::Operand::Kind::Mem && op.base == base && op.imm == disp;
}

constexpr uint8_t kRbp = 5, kR9 = 9, kR11 = 11, kR12 = 12;

// `add r11, size`: the end of the access that the bounds compare uses
// (r11 held its region offset).
bool is_access_end(const x86::Instruction& i, int64_t size) {
  return i.mnemonic == ZYDIS_MNEMONIC_ADD && i.operands[0].kind == x86::Operand::Kind::Reg &&
         i.operands[0].reg == kR11 && i.operands[1].kind == x86::Operand::Kind::Imm &&
         i.operands[1].imm == size;
}

// The access itself, `[r11 - size]`: the host address of the end stepped
// back to the start.
bool is_access(const x86::Instruction& i, int64_t size) {
  for (const x86::Operand& op : i.operands)
    if (is_mem(op, kR11, -size)) return true;
  return false;
}

// The bounds compare of a `size`-byte access made with the end of a
// `checked`-byte one (the access still `size` bytes at its start): both the
// end and the access's step back are patched, as a lowering with the wrong
// size would emit them.
void check_as_if(MemSnippet& s, int64_t size, uint8_t checked) {
  patch(
      s, [&](const x86::Instruction& i) { return is_access_end(i, size); },
      [&](auto& b) { b.back() = checked; });
  patch(
      s, [&](const x86::Instruction& i) { return is_access(i, size); },
      [&](std::vector<uint8_t>& b) {
        for (std::size_t k = b.size(); k-- > 0;) {
          if (b[k] == static_cast<uint8_t>(-size)) {  // the disp8
            b[k] = static_cast<uint8_t>(-checked);
            return;
          }
        }
      });
}

// The planted fault is refuted with the obligation it breaks and with a
// .data test that passes on the interpreter and on this build's (correct)
// JIT: a regression test that a JIT with the fault fails
// (scripts/planted-proofs.sh runs it on one).
MemProof refute(const MemCase& c, const MemSnippet& s, const std::string& obligation) {
  const MemProof p = prove_mem_snippet(c, s);
  EXPECT_EQ(p.verdict, MemProof::Verdict::Counterexample) << describe(c) << ": " << p.detail;
  EXPECT_NE(p.detail.find(obligation), std::string::npos) << p.detail;
  EXPECT_NE(p.data_test.find("-- asm"), std::string::npos) << p.detail;
  const DataTestOutcome interp = run_data_test(p.data_test);
  EXPECT_TRUE(interp.ran && interp.matches) << interp.observed << "\n" << p.data_test;
  const DataTestOutcome jitted = run_data_test(p.data_test, c.options);
  EXPECT_TRUE(jitted.ran && jitted.matches) << jitted.observed << "\n" << p.data_test;
  return p;
}

TEST(JitMemoryProof, EveryLoadStoreAndAtomicFormIsProvedOnASample) {
  // One case per form on the default option set, alternating a checked base
  // with a disp32 and an r10 base on the unchecked fast path (the full
  // matrix of registers, offsets and option sets is `smt check --memory`).
  bool fast_path = false;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    if (!mem::is_memory_form(fi.form) || fi.sem.family == isa::Family::PacketLoad) continue;
    const bool base_is_dst = fi.sem.family != isa::Family::Load && fi.sem.family != isa::Family::LoadSigned;
    fast_path = !fast_path;
    MemCase c = make_case(fi.form, 3, 4, 0x7fff, 0x12345678);
    if (fast_path) c = base_is_dst ? make_case(fi.form, 10, 1, -8, -1) : make_case(fi.form, 0, 10, -8);
    const MemProof p = prove_mem_case(c);
    EXPECT_EQ(p.verdict, MemProof::Verdict::Proved) << describe(c) << ": " << p.detail;
    EXPECT_GT(p.paths, 0u) << describe(c);
  }
}

TEST(JitMemoryProof, LegacyPacketLoadsAreProvedOnASample) {
  // In range: the bytes in network order; out of range: every local call
  // unwound, r0 = 0 and the program's end (all forms, immediates and option
  // sets: `smt check --memory`).
  for (const MemCase& c :
       {make_case(isa::Form::ldabsb, 0, 0, 0, 0), make_case(isa::Form::ldindw, 0, 3, 0, -4)}) {
    const MemProof p = prove_mem_case(c);
    EXPECT_EQ(p.verdict, MemProof::Verdict::Proved) << describe(c) << ": " << p.detail;
    EXPECT_GT(p.paths, 1u) << describe(c);
  }
}

TEST(JitMemoryProof, APacketEndThatLeavesR0NonZeroIsRefuted) {
  const MemCase c = make_case(isa::Form::ldabsh, 0, 0, 0, 2);
  MemSnippet s = snippet_of(c);
  // The packet-end stub's `mov eax, 0` becomes `mov eax, 1`.
  patch(
      s,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_MOV && i.operands[0].kind == x86::Operand::Kind::Reg &&
               i.operands[0].reg == 0 && i.operands[1].kind == x86::Operand::Kind::Imm &&
               i.operands[1].imm == 0;
      },
      [](std::vector<uint8_t>& b) { b[b.size() - 4] = 1; });
  // Its .data test (memory mode: the input is the packet) expects r0 = 0.
  const MemProof p = refute(c, s, "r0 (rax) at the stub's exit equals the interpreter's");
  EXPECT_NE(p.data_test.find("ldabsh"), std::string::npos) << p.data_test;
  EXPECT_NE(p.data_test.find("-- result\n0x0\n"), std::string::npos) << p.data_test;
}

TEST(JitMemoryProof, APacketBoundOffByOneIsRefutedWithATestThatReadsPastThePacket) {
  // ldindw r0, [r3 - 4]: `sub len, 4` becomes `sub len, 3`, so a word that
  // ends one byte past the packet is read (BPFDIFF_PLANT_JIT_BUG=
  // packet-bounds-off-by-one plants the same fault in a build).
  const MemCase c = make_case(isa::Form::ldindw, 0, 3, 0, -4);
  MemSnippet s = snippet_of(c);
  patch(
      s,
      [&](const x86::Instruction& i) {
        return i.offset < s.end && i.mnemonic == ZYDIS_MNEMONIC_SUB &&
               i.operands[1].kind == x86::Operand::Kind::Imm && i.operands[1].imm == 4;
      },
      [](std::vector<uint8_t>& b) { b.back() = 3; });
  const MemProof p = refute(c, s, "the code falls through only when the interpreter neither faults nor ends");
  // The interpreter ends the program there: r0 = 0.
  EXPECT_NE(p.data_test.find("-- result\n0x0\n"), std::string::npos) << p.data_test;
}

TEST(JitMemoryProof, TheCheckedPathOfAnR10BaseIsProved) {
  // [r10 + 0] is outside the frame: the full check runs, with the region
  // index known to be the stack's.
  for (isa::Form f : {isa::Form::ldxdw, isa::Form::stxw, isa::Form::atomic_fetch_add}) {
    const bool load = f == isa::Form::ldxdw;
    const MemCase c = load ? make_case(f, 0, 10, 0) : make_case(f, 10, 1, 0);
    const MemProof p = prove_mem_case(c);
    EXPECT_EQ(p.verdict, MemProof::Verdict::Proved) << describe(c) << ": " << p.detail;
  }
}

TEST(JitMemoryProof, ABoundsCompareOffByOneIsRefuted) {
  // ldxw r0, [r1]: the compare uses off + 3, so a read of the region's
  // last three bytes plus one past its end gets through.
  const MemCase c = make_case(isa::Form::ldxw, 0, 1, 0);
  MemSnippet s = snippet_of(c);
  check_as_if(s, 4, 3);
  refute(c, s, "falls through only when the interpreter neither faults");
}

TEST(JitMemoryProof, AMissingWritableCheckIsRefuted) {
  // stxw [r1], r2 without `cmp byte [r9 + writable], 0; je fault`.
  const MemCase c = make_case(isa::Form::stxw, 1, 2, 0);
  MemSnippet s = snippet_of(c);
  const auto nop_out = [](auto& b) { std::fill(b.begin(), b.end(), 0x90); };
  patch(
      s,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_CMP && is_mem(i.operands[0], kR9, offsetof(vm::Region, writable));
      },
      nop_out);
  // The je after it: the first jz of the instruction's code.
  patch(
      s, [&](const x86::Instruction& i) { return i.mnemonic == ZYDIS_MNEMONIC_JZ && i.offset < s.end; },
      nop_out);
  refute(c, s, "falls through only when the interpreter neither faults");
}

TEST(JitMemoryProof, ACheckOfTheWrongSizeIsRefuted) {
  // ldxdw r0, [r1]: bounds checked for 4 bytes, 8 read.
  const MemCase c = make_case(isa::Form::ldxdw, 0, 1, 0);
  MemSnippet s = snippet_of(c);
  check_as_if(s, 8, 4);
  refute(c, s, "falls through only when the interpreter neither faults");
}

TEST(JitMemoryProof, AWrongSizeInTheFaultReportIsRefuted) {
  // stxdw [r1], r2 whose stub reports a 4-byte access.
  const MemCase c = make_case(isa::Form::stxdw, 1, 2, 0);
  MemSnippet s = snippet_of(c);
  patch(
      s,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_MOV && is_mem(i.operands[0], kR12, jit::offsets::kErrorSize);
      },
      [](auto& b) { b[b.size() - 4] = 4; });
  refute(c, s, "host memory at the stub's exit");
}

TEST(JitMemoryProof, AnUncheckedAccessPastTheFrameIsRefuted) {
  // stxdw [r10 - 4], r1 emitted as the unchecked fast path
  // (mov [rbp + r9 - 8], rdi, displacement patched): the last four bytes
  // land above the frame, where the interpreter may fault.
  const MemCase fast = make_case(isa::Form::stxdw, 10, 1, -8);
  MemSnippet s = snippet_of(fast);
  patch(
      s,
      [](const x86::Instruction& i) {
        return i.mnemonic == ZYDIS_MNEMONIC_MOV && is_mem(i.operands[0], kRbp, -8) &&
               i.operands[0].index == kR9;
      },
      [](auto& b) { b.back() = static_cast<uint8_t>(-4); });
  refute(make_case(isa::Form::stxdw, 10, 1, -4), s, "the interpreter");
}

TEST(JitMemoryProof, AFetchThatForgetsTheOldValueIsRefuted) {
  // atomic_fetch_add [r1], r2 lowered as a plain add: r2 keeps its value.
  const MemCase c = make_case(isa::Form::atomic_fetch_add, 1, 2, 0);
  MemSnippet s = snippet_of(c);
  // xadd [r11 - 8], rsi -> add [r11 - 8], rsi (0f c1 /r -> 90 01 /r: a nop and the add, same length).
  patch(
      s, [](const x86::Instruction& i) { return i.mnemonic == ZYDIS_MNEMONIC_XADD; },
      [](std::vector<uint8_t>& b) {
        for (std::size_t i = 0; i + 1 < b.size(); ++i) {
          if (b[i] == 0x0f && b[i + 1] == 0xc1) {
            // Keep the prefix bytes before the opcode; a nop moves before them.
            b.erase(b.begin() + static_cast<std::ptrdiff_t>(i));
            b[i] = 0x01;
            b.insert(b.begin(), 0x90);
            return;
          }
        }
      });
  refute(c, s, "r2 (rsi) after the access equals the interpreter's");
}

}  // namespace
}  // namespace bpfdiff::oracle::smt

namespace bpfdiff::oracle::smt {
namespace {

// Columns of `smt check --memory --all-registers` (nightly) whose cell proves
// `form`, by name.
std::vector<std::string> columns_proving(isa::Form form) {
  CheckRegistry registry;
  add_jit_checks(registry, JitAssignments::All);
  std::vector<std::string> out;
  for (const auto& check : registry.checks())
    if (check->applies_to(form)) out.push_back(check->name());
  return out;
}

TEST(JitMemoryMatrix, EveryAssignmentProvesARegisterBlindFormOnceNotPerIgnoredRegister) {
  const std::size_t option_sets = jit::all_option_sets().size();
  // stw reads no src: one column per dst (r0..r10) and option set, the r0 one.
  const std::vector<std::string> stw = columns_proving(isa::Form::stw);
  EXPECT_EQ(stw.size(), 11 * option_sets);
  for (const std::string& name : stw)
    EXPECT_TRUE(name.ends_with(",r0")) << name;
  // ldabsw reads neither: one column per option set.
  EXPECT_EQ(columns_proving(isa::Form::ldabsw).size(), option_sets);
  // ldxw reads both: every writable dst (r0..r9) with every base (r0..r10).
  EXPECT_EQ(columns_proving(isa::Form::ldxw).size(), 10 * 11 * option_sets);
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
