// Disassembly is canonical: for every slot sequence, legal or not, the text
// assembles back to identical bytes. Legal instances print as instructions,
// anything else as a .slot directive.
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tests/text/test_util.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::text {
namespace {

using isa::RawInsn;

constexpr int16_t kOffValues[] = {0, 1, -1, std::numeric_limits<int16_t>::min(),
                                  std::numeric_limits<int16_t>::max()};
constexpr int32_t kImmValues[] = {
    0, 1, -1, 0xffff, 0x10000, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};

// Returns an empty string when `slots` survive disassemble -> assemble, else a diagnosis.
std::string roundtrip_problem(const std::vector<RawInsn>& slots) {
  const std::string text = disassemble(slots);
  auto back = assemble(text);
  if (!back.ok()) return "reassembly failed: " + back.error().message + "\ntext:\n" + text;
  if (back->slots != slots) return "bytes differ after round trip\ntext:\n" + text;
  return {};
}

bool is_slot_directive(const std::string& line) {
  return line.rfind(".slot ", 0) == 0;
}

std::vector<uint8_t> regs_for(isa::RegRule rule) {
  if (rule == isa::RegRule::Zero) return {0};
  std::vector<uint8_t> all;
  for (uint8_t r = 0; r < isa::kNumRegisters; ++r)
    all.push_back(r);
  return all;
}

std::vector<int16_t> offs_for(isa::ValueRule rule) {
  if (rule == isa::ValueRule::Any) return {std::begin(kOffValues), std::end(kOffValues)};
  return {0};  // Zero, or Exact (which isa::encode fills in from the row)
}

std::vector<int32_t> imms_for(isa::ValueRule rule) {
  if (rule == isa::ValueRule::Any) return {std::begin(kImmValues), std::end(kImmValues)};
  return {0};
}

// One-argument lddw pseudo forms have no spelling for a nonzero second imm.
std::vector<int32_t> next_imms_for(const isa::FormInfo& fi) {
  switch (fi.sem.lddw) {
    case isa::LddwKind::Imm64:
    case isa::LddwKind::MapValue:
    case isa::LddwKind::MapIdxValue:
      return {std::begin(kImmValues), std::end(kImmValues)};
    case isa::LddwKind::MapFd:
    case isa::LddwKind::BtfVar:
    case isa::LddwKind::CodeAddr:
    case isa::LddwKind::MapIdx:
      return {0};
  }
  return {0};
}

std::vector<RawInsn> instance(const isa::FormInfo& fi, uint8_t dst, uint8_t src, int16_t off, int32_t imm,
                              int32_t next_imm) {
  if (fi.slots == 2) {
    const auto pair = isa::encode_lddw(fi.form, dst, imm, next_imm);
    return {pair[0], pair[1]};
  }
  return {isa::encode(fi.form, dst, src, off, imm)};
}

// Every combination of the interesting values of each field the row allows.
std::vector<std::vector<RawInsn>> legal_instances(const isa::FormInfo& fi) {
  std::vector<std::vector<RawInsn>> out;
  const auto next_imms = fi.slots == 2 ? next_imms_for(fi) : std::vector<int32_t>{0};
  for (uint8_t dst : regs_for(fi.rules.dst)) {
    for (uint8_t src : regs_for(fi.rules.src)) {
      for (int16_t off : offs_for(fi.rules.off)) {
        for (int32_t imm : imms_for(fi.rules.imm)) {
          for (int32_t next : next_imms)
            out.push_back(instance(fi, dst, src, off, imm, next));
        }
      }
    }
  }
  return out;
}

TEST(RoundTrip, EveryLegalInstanceOfEveryFormPrintsAsAnInstructionAndReassembles) {
  std::size_t checked = 0;
  for (const isa::FormInfo& fi : isa::all_forms()) {
    for (const auto& slots : legal_instances(fi)) {
      const std::string line = disassemble_one(slots[0], slots.size() > 1 ? &slots[1] : nullptr);
      EXPECT_FALSE(is_slot_directive(line)) << fi.name << ": " << line;
      EXPECT_EQ(line.rfind(std::string(fi.mnemonic), 0), 0u) << fi.name << ": " << line;
      const std::string problem = roundtrip_problem(slots);
      EXPECT_TRUE(problem.empty()) << fi.name << ": " << problem;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000u);
}

void expect_slot_roundtrip(const std::vector<RawInsn>& slots, const std::string& why) {
  const std::string line = disassemble_one(slots[0], slots.size() > 1 ? &slots[1] : nullptr);
  EXPECT_TRUE(is_slot_directive(line)) << why << ": " << line;
  const std::string problem = roundtrip_problem(slots);
  EXPECT_TRUE(problem.empty()) << why << ": " << problem;
}

TEST(RoundTrip, IllegalInstancesPrintAsSlotAndReassemble) {
  for (const isa::FormInfo& fi : isa::all_forms()) {
    const auto base = instance(fi, 0, 0, 0, 0, 0);
    const std::string name(fi.name);
    // Registers that do not exist.
    for (uint8_t r = isa::kNumRegisters; r < 16; ++r) {
      auto bad = base;
      bad[0].dst = r;
      expect_slot_roundtrip(bad, name + " dst=" + std::to_string(r));
      if (fi.disc != isa::Disc::Src) {
        bad = base;
        bad[0].src = r;
        expect_slot_roundtrip(bad, name + " src=" + std::to_string(r));
      }
    }
    // Nonzero reserved fields.
    if (fi.rules.src == isa::RegRule::Zero && fi.disc != isa::Disc::Src) {
      auto bad = base;
      bad[0].src = 1;
      expect_slot_roundtrip(bad, name + " reserved src");
    }
    if (fi.rules.off == isa::ValueRule::Zero) {
      for (int16_t off : {int16_t{1}, int16_t{-1}}) {
        auto bad = base;
        bad[0].off = off;
        expect_slot_roundtrip(bad, name + " reserved off");
      }
    }
    if (fi.rules.imm == isa::ValueRule::Zero) {
      for (int32_t imm : {1, -1}) {
        auto bad = base;
        bad[0].imm = imm;
        expect_slot_roundtrip(bad, name + " reserved imm");
      }
    }
    if (fi.rules.dst == isa::RegRule::Zero) {
      auto bad = base;
      bad[0].dst = 1;
      expect_slot_roundtrip(bad, name + " reserved dst");
    }
    // A discriminator value no row of this opcode has.
    if (fi.disc != isa::Disc::None) {
      for (int32_t v : {2, 3, 7, 9, 99, 255}) {
        auto bad = base;
        switch (fi.disc) {
          case isa::Disc::Off:
            bad[0].off = static_cast<int16_t>(v);
            break;
          case isa::Disc::Imm:
            bad[0].imm = v;
            break;
          case isa::Disc::Src:
            bad[0].src = static_cast<uint8_t>(v & 0x0f);
            break;
          case isa::Disc::None:
            break;
        }
        if (isa::find_form(bad[0])) continue;
        expect_slot_roundtrip(bad, name + " disc=" + std::to_string(v));
      }
    }
  }
}

TEST(RoundTrip, BrokenLddwPairsPrintAsSlots) {
  const auto pair = isa::encode_lddw_imm64(1, 0x1122334455667788);
  expect_slot_roundtrip({pair[0]}, "missing second slot");
  for (int field = 0; field < 4; ++field) {
    auto second = pair[1];
    if (field == 0) second.opcode = 0x18;
    if (field == 1) second.dst = 1;
    if (field == 2) second.src = 1;
    if (field == 3) second.off = 1;
    expect_slot_roundtrip({pair[0], second}, "bad second slot field " + std::to_string(field));
  }
  const auto code = isa::encode_lddw(isa::Form::lddw_code, 1, 5, 0);
  expect_slot_roundtrip({code[0], RawInsn{0, 0, 0, 0, 1}}, "code with second imm");
}

TEST(RoundTrip, CanonicalSpellings) {
  using isa::encode;
  using isa::Form;
  EXPECT_EQ(disassemble_one(encode(Form::add_imm, 1, 0, 0, -1), nullptr), "add r1, -1");
  EXPECT_EQ(disassemble_one(encode(Form::mov_imm, 1, 0, 0, std::numeric_limits<int32_t>::min()), nullptr),
            "mov r1, 0x80000000");
  EXPECT_EQ(disassemble_one(encode(Form::jeq_imm, 1, 0, -3, 5), nullptr), "jeq r1, 5, -3");
  EXPECT_EQ(disassemble_one(encode(Form::ja, 0, 0, 0), nullptr), "ja +0");
  EXPECT_EQ(disassemble_one(encode(Form::ldxw, 0, 10, -8), nullptr), "ldxw r0, [r10-8]");
  EXPECT_EQ(disassemble_one(encode(Form::stxdw, 1, 2, 4), nullptr), "stxdw [r1+4], r2");
  EXPECT_EQ(disassemble_one(encode(Form::atomic32_fetch_add, 1, 2, 0), nullptr),
            "lock fetch add32 [r1+0], r2");
  EXPECT_EQ(disassemble_one(encode(Form::call_local, 0, 0, 0, 7), nullptr), "call local +7");
  EXPECT_EQ(disassemble_one(encode(Form::ldindw, 0, 1, 0, 12), nullptr), "ldindw r1, 12");
  EXPECT_EQ(disassemble_one(encode(Form::add_imm, 11, 0, 0, 1), nullptr), ".slot 0x07, 11, 0, 0, 1");
  const auto lddw = isa::encode_lddw_imm64(0, 0x1122334455667788);
  EXPECT_EQ(disassemble_one(lddw[0], &lddw[1]), "lddw r0, 0x1122334455667788");
  const auto value = isa::encode_lddw(Form::lddw_map_value, 2, 3, 16);
  EXPECT_EQ(disassemble_one(value[0], &value[1]), "lddw r2, map_value(3, 16)");
  const auto code = isa::encode_lddw(Form::lddw_code, 2, -4, 0);
  EXPECT_EQ(disassemble_one(code[0], &code[1]), "lddw r2, code(-4)");
}

TEST(RoundTrip, OptionsAddPcPrefixAndBytes) {
  const auto lddw = isa::encode_lddw_imm64(1, 5);
  const std::vector<RawInsn> prog = {lddw[0], lddw[1], isa::encode(isa::Form::exit)};
  EXPECT_EQ(disassemble(prog, {true, false}), "   0: lddw r1, 5\n   2: exit\n");
  const std::string with_bytes = disassemble(prog, {false, true});
  EXPECT_EQ(with_bytes,
            "lddw r1, 5  # 18 01 00 00 05 00 00 00 00 00 00 00 00 00 00 00\n"
            "exit  # 95 00 00 00 00 00 00 00\n");
  // The bytes are a comment, so the listing still assembles.
  auto back = assemble(with_bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->slots, prog);
}

TEST(RoundTrip, RandomSlotSequences) {
  std::mt19937 rng(20240611);
  const auto forms = isa::all_forms();
  for (int round = 0; round < 4000; ++round) {
    std::vector<RawInsn> slots(1 + rng() % 8);
    for (RawInsn& s : slots) {
      // Half the opcodes come from the table so that real forms, lddw pairs
      // included, are common; fields are often small so some are legal.
      s.opcode = rng() % 2 ? forms[rng() % forms.size()].opcode : static_cast<uint8_t>(rng());
      const bool small = rng() % 2;
      s.dst = static_cast<uint8_t>(small ? rng() % 11 : rng() % 16);
      s.src = static_cast<uint8_t>(rng() % 3 == 0 ? 0 : small ? rng() % 11 : rng() % 16);
      s.off = static_cast<int16_t>(rng() % 3 == 0 ? 0
                                   : small        ? static_cast<int>(rng() % 33) - 16
                                                  : static_cast<int>(static_cast<uint16_t>(rng())));
      s.imm = static_cast<int32_t>(rng() % 3 == 0 ? 0u : small ? rng() % 300 : static_cast<uint32_t>(rng()));
      if (rng() % 4 == 0) s.opcode = 0;  // a plausible lddw second slot
    }
    const std::string problem = roundtrip_problem(slots);
    ASSERT_TRUE(problem.empty()) << "round " << round << ": " << problem;
  }
}

}  // namespace
}  // namespace bpfdiff::text
