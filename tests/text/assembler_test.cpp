// The assembler, one syntax at a time, against bytes built with isa::encode.
#include <gtest/gtest.h>

#include <limits>

#include "tests/text/test_util.hpp"
#include "vm/runtime/helpers.hpp"

namespace bpfdiff::text {
namespace {

using isa::encode;
using isa::Form;
using testing::assemble_ok;
using testing::lddw_slots;
using testing::slots;

TEST(Assembler, ChoosesImmOrRegFormByOperandShape) {
  EXPECT_EQ(assemble_ok("add r1, 5"), slots({encode(Form::add_imm, 1, 0, 0, 5)}));
  EXPECT_EQ(assemble_ok("add r1, r2"), slots({encode(Form::add_reg, 1, 2)}));
  EXPECT_EQ(assemble_ok("add32 %r3, -1"), slots({encode(Form::add32_imm, 3, 0, 0, -1)}));
  EXPECT_EQ(assemble_ok("mov32 %r0, %r9"), slots({encode(Form::mov32_reg, 0, 9)}));
}

TEST(Assembler, SignedDivisionAndMovsxSetTheOffDiscriminator) {
  EXPECT_EQ(assemble_ok("sdiv r1, 3"), slots({encode(Form::sdiv_imm, 1, 0, 0, 3)}));
  EXPECT_EQ(assemble_ok("sdiv r1, 3")[0].off, 1);
  EXPECT_EQ(assemble_ok("smod32 r1, r2"), slots({encode(Form::smod32_reg, 1, 2)}));
  EXPECT_EQ(assemble_ok("movsx8 r1, r2"), slots({encode(Form::movsx8, 1, 2)}));
  EXPECT_EQ(assemble_ok("movsx832 r1, r2"), slots({encode(Form::movsx832, 1, 2)}));
  EXPECT_EQ(assemble_ok("movsx1632 r1, r2")[0].off, 16);
}

TEST(Assembler, NegAndByteOrderTakeOneRegister) {
  EXPECT_EQ(assemble_ok("neg r4"), slots({encode(Form::neg, 4)}));
  EXPECT_EQ(assemble_ok("neg32 r4"), slots({encode(Form::neg32, 4)}));
  EXPECT_EQ(assemble_ok("le16 r1"), slots({encode(Form::le16, 1)}));
  EXPECT_EQ(assemble_ok("be64 r1"), slots({encode(Form::be64, 1)}));
  EXPECT_EQ(assemble_ok("bswap32 r2"), slots({encode(Form::bswap32, 2)}));
  EXPECT_EQ(assemble_ok("bswap32 r2")[0].imm, 32);
}

TEST(Assembler, AcceptsAliases) {
  EXPECT_EQ(assemble_ok("add64 r1, 5"), assemble_ok("add r1, 5"));
  EXPECT_EQ(assemble_ok("mov64 r1, r2"), assemble_ok("mov r1, r2"));
  EXPECT_EQ(assemble_ok("neg64 r1"), assemble_ok("neg r1"));
  EXPECT_EQ(assemble_ok("jeq64 r1, 1, +1"), assemble_ok("jeq r1, 1, +1"));
  EXPECT_EQ(assemble_ok("swap16 r1"), assemble_ok("bswap16 r1"));
  EXPECT_EQ(assemble_ok("swap64 r1"), assemble_ok("bswap64 r1"));
  EXPECT_EQ(assemble_ok("call helper 5"), assemble_ok("call 5"));
  EXPECT_EQ(assemble_ok("call r2"), slots({encode(Form::callx, 2)}));
  EXPECT_EQ(assemble_ok("call %r2"), assemble_ok("callx r2"));
}

TEST(Assembler, ImmediatesCoverSignedAndUnsigned32BitRanges) {
  EXPECT_EQ(assemble_ok("mov r1, 0xffffffff")[0].imm, -1);
  EXPECT_EQ(assemble_ok("mov r1, 4294967295")[0].imm, -1);
  EXPECT_EQ(assemble_ok("mov r1, -2147483648")[0].imm, std::numeric_limits<int32_t>::min());
  EXPECT_EQ(assemble_ok("mov r1, 0x80000000")[0].imm, std::numeric_limits<int32_t>::min());
  EXPECT_EQ(assemble_ok("mov r1, 0XCCBBAA99")[0].imm, static_cast<int32_t>(0xccbbaa99u));
  EXPECT_EQ(assemble_ok("mov r1, +7")[0].imm, 7);
  EXPECT_EQ(assemble_ok("mov r1, -0x10")[0].imm, -16);
}

TEST(Assembler, JumpsTakeExplicitOffsets) {
  EXPECT_EQ(assemble_ok("ja +3"), slots({encode(Form::ja, 0, 0, 3)}));
  EXPECT_EQ(assemble_ok("ja -1"), slots({encode(Form::ja, 0, 0, -1)}));
  EXPECT_EQ(assemble_ok("ja -32768"), slots({encode(Form::ja, 0, 0, -32768)}));
  EXPECT_EQ(assemble_ok("gotol +100000"), slots({encode(Form::gotol, 0, 0, 0, 100000)}));
  EXPECT_EQ(assemble_ok("jeq r1, 5, +2"), slots({encode(Form::jeq_imm, 1, 0, 2, 5)}));
  EXPECT_EQ(assemble_ok("jeq32 r1, r2, -3"), slots({encode(Form::jeq32_reg, 1, 2, -3)}));
  EXPECT_EQ(assemble_ok("jsle %r1, -1, +0"), slots({encode(Form::jsle_imm, 1, 0, 0, -1)}));
}

TEST(Assembler, ResolvesLabelsForwardAndBackward) {
  const auto got = assemble_ok(
      "start:\n"
      "  jeq r1, 0, done   # forward\n"
      "  lddw r2, 1        ; two slots\n"
      "loop: add r1, -1\n"
      "  jne r1, 0, loop\n"
      "  ja start\n"
      "done:\n"
      "  exit\n");
  const auto lddw = isa::encode_lddw_imm64(2, 1);
  EXPECT_EQ(got,
            slots({encode(Form::jeq_imm, 1, 0, 5, 0), lddw[0], lddw[1], encode(Form::add_imm, 1, 0, 0, -1),
                   encode(Form::jne_imm, 1, 0, -2, 0), encode(Form::ja, 0, 0, -6), encode(Form::exit)}));
}

TEST(Assembler, LabelsNamedLikeMnemonicsAreTargets) {
  // bpf_conformance uses "exit" as a label name.
  EXPECT_EQ(assemble_ok("jne32 %r1, %r0, exit\nmov r0, 0\nexit:\nexit"),
            slots({encode(Form::jne32_reg, 1, 0, 1), encode(Form::mov_imm), encode(Form::exit)}));
}

TEST(Assembler, LongJumpsAndLocalCallsResolveLabelsIntoImm) {
  EXPECT_EQ(assemble_ok("gotol end\nexit\nend: exit"),
            slots({encode(Form::gotol, 0, 0, 0, 1), encode(Form::exit), encode(Form::exit)}));
  EXPECT_EQ(assemble_ok("call local f\nexit\nf:\nexit"),
            slots({encode(Form::call_local, 0, 0, 0, 1), encode(Form::exit), encode(Form::exit)}));
  EXPECT_EQ(assemble_ok("call local -3"), slots({encode(Form::call_local, 0, 0, 0, -3)}));
  EXPECT_EQ(assemble_ok("call local -3")[0].src, 1);
}

TEST(Assembler, CallsHelpersByIdOrRegisteredName) {
  EXPECT_EQ(assemble_ok("call 1"), slots({encode(Form::call_helper, 0, 0, 0, 1)}));
  vm::HelperRegistry helpers;
  helpers.add(vm::HelperSpec{1, "bpf_map_lookup_elem", nullptr, nullptr});
  helpers.add(vm::HelperSpec{6, "bpf_trace_printk", nullptr, nullptr});
  AssembleOptions options;
  options.helpers = &helpers;
  EXPECT_EQ(assemble_ok("call bpf_trace_printk", options), slots({encode(Form::call_helper, 0, 0, 0, 6)}));
  EXPECT_EQ(assemble_ok("call helper bpf_map_lookup_elem", options),
            slots({encode(Form::call_helper, 0, 0, 0, 1)}));
}

TEST(Assembler, LddwLoadsFull64BitValues) {
  EXPECT_EQ(assemble_ok("lddw r0, 0x1122334455667788"),
            lddw_slots(isa::encode_lddw_imm64(0, 0x1122334455667788)));
  EXPECT_EQ(assemble_ok("lddw r1, -1"), lddw_slots(isa::encode_lddw_imm64(1, ~uint64_t{0})));
  EXPECT_EQ(assemble_ok("lddw r1, 18446744073709551615"),
            lddw_slots(isa::encode_lddw_imm64(1, ~uint64_t{0})));
  EXPECT_EQ(assemble_ok("lddw r1, -9223372036854775808"),
            lddw_slots(isa::encode_lddw_imm64(1, uint64_t{1} << 63)));
}

TEST(Assembler, LddwPseudoForms) {
  EXPECT_EQ(assemble_ok("lddw r1, map_fd(3)"), lddw_slots(isa::encode_lddw(Form::lddw_map_fd, 1, 3, 0)));
  EXPECT_EQ(assemble_ok("lddw r1, map_value(3, 16)"),
            lddw_slots(isa::encode_lddw(Form::lddw_map_value, 1, 3, 16)));
  EXPECT_EQ(assemble_ok("lddw r1, btf_var(7)"), lddw_slots(isa::encode_lddw(Form::lddw_btf_var, 1, 7, 0)));
  EXPECT_EQ(assemble_ok("lddw r1, code(+5)"), lddw_slots(isa::encode_lddw(Form::lddw_code, 1, 5, 0)));
  EXPECT_EQ(assemble_ok("lddw r1, map_idx(0)"), lddw_slots(isa::encode_lddw(Form::lddw_map_idx, 1, 0, 0)));
  EXPECT_EQ(assemble_ok("lddw r1, map_idx_value(0, 16)"),
            lddw_slots(isa::encode_lddw(Form::lddw_map_idx_value, 1, 0, 16)));
  // code(label) is pc-relative from the slot after the lddw's first slot, like call local.
  const auto got = assemble_ok("lddw r1, code(f)\nexit\nf: exit");
  const auto want = isa::encode_lddw(Form::lddw_code, 1, 2, 0);
  EXPECT_EQ(got, slots({want[0], want[1], encode(Form::exit), encode(Form::exit)}));
}

TEST(Assembler, MemoryOperands) {
  EXPECT_EQ(assemble_ok("ldxw r0, [r1+4]"), slots({encode(Form::ldxw, 0, 1, 4)}));
  EXPECT_EQ(assemble_ok("ldxdw r0, [r10-8]"), slots({encode(Form::ldxdw, 0, 10, -8)}));
  EXPECT_EQ(assemble_ok("ldxsb r0, [r1]"), slots({encode(Form::ldxsb, 0, 1, 0)}));
  EXPECT_EQ(assemble_ok("ldxh r0, [ %r1 + 0x10 ]"), slots({encode(Form::ldxh, 0, 1, 16)}));
  EXPECT_EQ(assemble_ok("stw [r1+4], 5"), slots({encode(Form::stw, 1, 0, 4, 5)}));
  EXPECT_EQ(assemble_ok("stdw [%r10-4], 0x44332211"), slots({encode(Form::stdw, 10, 0, -4, 0x44332211)}));
  EXPECT_EQ(assemble_ok("stxdw [r10-8], r1"), slots({encode(Form::stxdw, 10, 1, -8)}));
  EXPECT_EQ(assemble_ok("stxb [r1-32768], r2"), slots({encode(Form::stxb, 1, 2, -32768)}));
}

TEST(Assembler, Atomics) {
  EXPECT_EQ(assemble_ok("lock add [r1+4], r2"), slots({encode(Form::atomic_add, 1, 2, 4)}));
  EXPECT_EQ(assemble_ok("lock fetch add [r1+4], r2"), slots({encode(Form::atomic_fetch_add, 1, 2, 4)}));
  EXPECT_EQ(assemble_ok("lock add32 [r1+4], r2"), slots({encode(Form::atomic32_add, 1, 2, 4)}));
  EXPECT_EQ(assemble_ok("lock fetch add32 [%r10-8], %r1"),
            slots({encode(Form::atomic32_fetch_add, 10, 1, -8)}));
  EXPECT_EQ(assemble_ok("lock xchg [r1], r2"), slots({encode(Form::atomic_xchg, 1, 2)}));
  EXPECT_EQ(assemble_ok("lock cmpxchg32 [r1], r2"), slots({encode(Form::atomic32_cmpxchg, 1, 2)}));
  EXPECT_EQ(assemble_ok("lock fetch xor [r1], r2")[0].imm, 161);
}

TEST(Assembler, LegacyPacketLoads) {
  EXPECT_EQ(assemble_ok("ldabsw 12"), slots({encode(Form::ldabsw, 0, 0, 0, 12)}));
  EXPECT_EQ(assemble_ok("ldindh r1, 12"), slots({encode(Form::ldindh, 0, 1, 0, 12)}));
}

TEST(Assembler, CallxAndExit) {
  EXPECT_EQ(assemble_ok("callx r5"), slots({encode(Form::callx, 5)}));
  EXPECT_EQ(assemble_ok("exit"), slots({encode(Form::exit)}));
}

TEST(Assembler, SlotDirectiveEmitsRawFields) {
  EXPECT_EQ(assemble_ok(".slot 0xff, 15, 15, -1, 0xffffffff"), slots({isa::RawInsn{0xff, 15, 15, -1, -1}}));
  EXPECT_EQ(assemble_ok(".slot 0, 0, 0, 65535, -2147483648"),
            slots({isa::RawInsn{0, 0, 0, -1, std::numeric_limits<int32_t>::min()}}));
}

TEST(Assembler, LeavesSemanticChecksToTheValidator) {
  // r10 is read-only, but that is the validator's call, not the assembler's.
  EXPECT_EQ(assemble_ok("mov r10, 1"), slots({encode(Form::mov_imm, 10, 0, 0, 1)}));
}

TEST(Assembler, IgnoresCommentsAndBlankLines) {
  EXPECT_EQ(assemble_ok("# header\n\n  ; another\nmov r0, 1 # trailing\r\n\n exit ; done\n"),
            slots({encode(Form::mov_imm, 0, 0, 0, 1), encode(Form::exit)}));
  EXPECT_TRUE(assemble_ok("").empty());
}

}  // namespace
}  // namespace bpfdiff::text
