// The validator: every rejection names the pc and the field, and every legal
// form of the table passes. The sweeps derive the cases from the table, so a
// new row is covered without touching this file.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/vm/engine_under_test.hpp"
#include "tests/vm/program_builder.hpp"

namespace bpfdiff::test {
namespace {

using isa::FormInfo;
using isa::RawInsn;
using isa::RegRule;
using isa::ValueRule;

uint64_t noop_helper(vm::HelperCall&) {
  return 0;
}

const vm::HelperRegistry& helpers_0_and_1() {
  static const vm::HelperRegistry registry = [] {
    vm::HelperRegistry r;
    r.add({0, "zero", noop_helper, nullptr});
    r.add({1, "one", noop_helper, nullptr});
    return r;
  }();
  return registry;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

bool is_map_or_btf(Form f) {
  const isa::Semantics& s = isa::info(f).sem;
  return s.family == isa::Family::Lddw && s.lddw != isa::LddwKind::Imm64 && s.lddw != isa::LddwKind::CodeAddr;
}

// A legal instance of `form` at pc 0, followed by exit (and, for forms that
// name a function, by that function).
std::vector<RawInsn> legal_program(Form form) {
  const FormInfo& fi = isa::info(form);
  const int dst = fi.rules.dst == RegRule::Zero ? 0 : 1;
  const int src = fi.rules.src == RegRule::Zero || fi.disc == isa::Disc::Src ? 0 : 2;
  ProgramBuilder b;
  if (fi.slots == 2) {
    const int32_t imm = form == Form::lddw_code ? 2 : 0;  // code: the function after the exit
    for (const RawInsn& s : isa::encode_lddw(form, static_cast<uint8_t>(dst), imm, 0))
      b.raw(s);
    return b.exit().exit().slots();
  }
  const int32_t imm = form == Form::call_local ? 1 : 0;  // the function after the exit
  b.op(form, dst, src, 0, imm).exit();
  if (form == Form::call_local) b.exit();
  return b.slots();
}

std::string validate_slots(const std::vector<RawInsn>& slots) {
  vm::Program p;
  p.slots = slots;
  return validation_error(p, helpers_0_and_1());
}

TEST(ValidatorSweep, EveryLegalFormPassesFollowedByExit) {
  for (const FormInfo& fi : isa::all_forms()) {
    if (is_map_or_btf(fi.form)) continue;
    EXPECT_EQ(validate_slots(legal_program(fi.form)), "") << fi.name;
  }
}

TEST(ValidatorSweep, EveryFormRoundTripsIntoTheDecodedProgram) {
  for (const FormInfo& fi : isa::all_forms()) {
    if (is_map_or_btf(fi.form)) continue;
    vm::Program p;
    p.slots = legal_program(fi.form);
    auto loaded = vm::validate(p, helpers_0_and_1());
    ASSERT_TRUE(loaded.ok()) << fi.name;
    EXPECT_EQ(loaded->insns[0].form, fi.form) << fi.name;
    EXPECT_EQ(loaded->insns.size(), p.slots.size());
  }
}

enum class Field { Dst, Src, Off, Imm };

const char* field_name(Field f) {
  switch (f) {
    case Field::Dst:
      return "dst";
    case Field::Src:
      return "src";
    case Field::Off:
      return "off";
    case Field::Imm:
      return "imm";
  }
  return "?";
}

void set_field(RawInsn& insn, Field f, int value) {
  switch (f) {
    case Field::Dst:
      insn.dst = static_cast<uint8_t>(value);
      break;
    case Field::Src:
      insn.src = static_cast<uint8_t>(value);
      break;
    case Field::Off:
      insn.off = static_cast<int16_t>(value);
      break;
    case Field::Imm:
      insn.imm = value;
      break;
  }
}

TEST(ValidatorSweep, EveryReservedFieldMustBeZero) {
  int checked = 0;
  for (const FormInfo& fi : isa::all_forms()) {
    const struct {
      Field field;
      bool reserved;
      bool disc;
    } fields[] = {
        {Field::Dst, fi.rules.dst == RegRule::Zero, false},
        {Field::Src, fi.rules.src == RegRule::Zero, fi.disc == isa::Disc::Src},
        {Field::Off, fi.rules.off == ValueRule::Zero, fi.disc == isa::Disc::Off},
        {Field::Imm, fi.rules.imm == ValueRule::Zero, fi.disc == isa::Disc::Imm},
    };
    for (const auto& f : fields) {
      if (!f.reserved || f.disc) continue;
      for (int value : {1, 7}) {
        std::vector<RawInsn> slots = legal_program(fi.form);
        set_field(slots[0], f.field, value);
        const std::string expected = std::string("pc 0: ") + field_name(f.field) +
                                     ": reserved field must be 0, is " + std::to_string(value);
        EXPECT_EQ(validate_slots(slots), expected) << fi.name;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 200);
}

TEST(ValidatorSweep, RegistersAboveR10AreRejectedInEveryRegisterField) {
  for (const FormInfo& fi : isa::all_forms()) {
    for (Field field : {Field::Dst, Field::Src}) {
      const RegRule rule = field == Field::Dst ? fi.rules.dst : fi.rules.src;
      if (rule == RegRule::Zero || (field == Field::Src && fi.disc == isa::Disc::Src)) continue;
      for (int reg : {11, 15}) {
        std::vector<RawInsn> slots = legal_program(fi.form);
        set_field(slots[0], field, reg);
        EXPECT_EQ(validate_slots(slots), std::string("pc 0: ") + field_name(field) + ": register r" +
                                             std::to_string(reg) + " does not exist")
            << fi.name;
      }
    }
  }
}

TEST(ValidatorSweep, WritesToR10AreRejectedReadsAccepted) {
  std::vector<std::string> rejected;
  for (const FormInfo& fi : isa::all_forms()) {
    for (Field field : {Field::Dst, Field::Src}) {
      const RegRule rule = field == Field::Dst ? fi.rules.dst : fi.rules.src;
      if (rule == RegRule::Zero || (field == Field::Src && fi.disc == isa::Disc::Src)) continue;
      std::vector<RawInsn> slots = legal_program(fi.form);
      set_field(slots[0], field, 10);
      const std::string error = validate_slots(slots);
      if (rule == RegRule::Writable) {
        EXPECT_EQ(error, std::string("pc 0: ") + field_name(field) + ": r10 is the read-only frame pointer")
            << fi.name;
        rejected.push_back(std::string(fi.name) + "." + field_name(field));
      } else if (!is_map_or_btf(fi.form)) {
        EXPECT_EQ(error, "") << fi.name << " " << field_name(field);
      }
    }
  }
  // Spot checks that the table marks the right operands as written.
  for (const char* must : {"add_imm.dst", "mov_reg.dst", "neg.dst", "movsx8.dst", "add32_reg.dst", "le16.dst",
                           "bswap64.dst", "lddw.dst", "ldxdw.dst", "ldxsb.dst", "atomic_fetch_add.src",
                           "atomic_xchg.src", "atomic32_fetch_or.src", "atomic32_xchg.src"}) {
    EXPECT_NE(std::find(rejected.begin(), rejected.end(), must), rejected.end()) << must;
  }
  for (const char* mustnt :
       {"atomic_cmpxchg.src", "atomic_add.src", "stxdw.dst", "jeq_reg.dst", "callx.dst"}) {
    EXPECT_EQ(std::find(rejected.begin(), rejected.end(), mustnt), rejected.end()) << mustnt;
  }
}

TEST(ValidatorSweep, MapAndBtfLddwFormsAreRejected) {
  for (Form f : {Form::lddw_map_fd, Form::lddw_map_value, Form::lddw_map_idx, Form::lddw_map_idx_value}) {
    ProgramBuilder b;
    for (const RawInsn& s : isa::encode_lddw(f, 1, 3, 0))
      b.raw(s);
    b.exit();
    EXPECT_EQ(validation_error(b), "pc 0: imm: lddw refers to map 3, but the program has no maps")
        << form_name(f);
  }
  ProgramBuilder b;
  for (const RawInsn& s : isa::encode_lddw(Form::lddw_btf_var, 1, 3, 0))
    b.raw(s);
  b.exit();
  EXPECT_EQ(validation_error(b),
            "pc 0: src: lddw of a kernel variable by BTF id is not available outside the kernel");
}

TEST(Validator, EmptyProgram) {
  EXPECT_EQ(validation_error(ProgramBuilder{}), "program is empty");
}

TEST(Validator, ProgramOverTheSlotLimit) {
  vm::Program p;
  p.slots.assign(vm::kMaxProgramSlots + 1, isa::encode(Form::exit));
  EXPECT_EQ(validation_error(p), "program has 1000001 instructions, more than the limit of 1000000");
  p.slots.pop_back();
  EXPECT_EQ(validation_error(p), "");
}

TEST(Validator, EntryOutsideTheProgram) {
  ProgramBuilder b;
  b.exit();
  vm::Program p = b.program();
  p.entry = 5;
  EXPECT_EQ(validation_error(p), "entry point 5 is outside the program");
}

// An entry point must be an instruction: the second slot of an lddw is only
// data (its pre-decoded Insn is a default-constructed placeholder).
TEST(Validator, EntryInsideAnLddwIsRejected) {
  ProgramBuilder b;
  b.lddw(0, 5).exit();
  vm::Program p = b.program();
  p.entry = 1;
  const std::string error = validation_error(p);
  EXPECT_NE(error, "") << "entry 1 is the second slot of an lddw, yet the program validated";
  EXPECT_NE(error.find("entry"), std::string::npos) << error;
}

TEST(Validator, NonZeroEntryStartsThere) {
  ProgramBuilder b;
  b.mov(0, 1).exit().mov(0, 2).exit();
  vm::Program p = b.program();
  p.entry = 2;
  auto loaded = vm::validate(p, no_helpers());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->function_starts, (std::vector<uint32_t>{2}));
  EngineUnderTest interp(*loaded, no_helpers());
  EXPECT_EQ(interp.run({}).r0(), 2u);
}

TEST(Validator, UnknownOpcode) {
  ProgramBuilder b;
  b.mov(0, 0).raw(RawInsn{0xff, 0, 0, 0, 0}).exit();
  EXPECT_EQ(validation_error(b), "pc 1: opcode: unknown opcode 0xff");
  ProgramBuilder zero;
  zero.raw(RawInsn{}).exit();
  EXPECT_EQ(validation_error(zero), "pc 0: opcode: unknown opcode 0x00");
}

TEST(Validator, UnknownDiscriminatorValue) {
  const struct {
    RawInsn insn;
    const char* message;
  } cases[] = {
      {{0x07, 1, 0, 2, 0}, "pc 0: opcode: opcode 0x07 has off 2; expected off 0 (add)"},
      {{0x37, 1, 0, 5, 0}, "pc 0: opcode: opcode 0x37 has off 5; expected off 0 (div), 1 (sdiv)"},
      {{0xd4, 1, 0, 0, 8},
       "pc 0: opcode: opcode 0xd4 has imm 8; expected imm 16 (le16), 32 (le32), 64 (le64)"},
      {{0x85, 0, 2, 0, 0}, "pc 0: opcode: opcode 0x85 has src 2; expected src 0 (call), 1 (call local)"},
      {{0xbc, 1, 2, 32, 0},
       "pc 0: opcode: opcode 0xbc has off 32; expected off 0 (mov32), 8 (movsx832), 16 (movsx1632)"},
  };
  for (const auto& c : cases) {
    ProgramBuilder b;
    b.raw(c.insn).exit();
    EXPECT_EQ(validation_error(b, helpers_0_and_1()), c.message);
  }
  ProgramBuilder atomic;
  atomic.raw({0xdb, 10, 1, -8, 2}).exit();
  EXPECT_TRUE(
      starts_with(validation_error(atomic), "pc 0: opcode: opcode 0xdb has imm 2; expected imm 0 (lock add)"))
      << validation_error(atomic);
}

TEST(Validator, RegisterOutOfRangeNamesTheField) {
  ProgramBuilder b;
  b.mov(0, 0).op(Form::add_reg, 11, 1).exit();
  EXPECT_EQ(validation_error(b), "pc 1: dst: register r11 does not exist");
  ProgramBuilder s;
  s.mov(0, 0).op(Form::add_reg, 1, 15).exit();
  EXPECT_EQ(validation_error(s), "pc 1: src: register r15 does not exist");
}

TEST(Validator, WriteToR10) {
  ProgramBuilder alu;
  alu.mov(10, 1).exit();
  EXPECT_EQ(validation_error(alu), "pc 0: dst: r10 is the read-only frame pointer");
  ProgramBuilder load;
  load.op(Form::ldxdw, 10, 1, 0).exit();
  EXPECT_EQ(validation_error(load), "pc 0: dst: r10 is the read-only frame pointer");
  ProgramBuilder lddw;
  lddw.lddw(10, 1).exit();
  EXPECT_EQ(validation_error(lddw), "pc 0: dst: r10 is the read-only frame pointer");
  ProgramBuilder fetch;
  fetch.op(Form::atomic_fetch_add, 10, 10, -8).exit();
  EXPECT_EQ(validation_error(fetch), "pc 0: src: r10 is the read-only frame pointer");
}

TEST(Validator, JumpTargetsOutsideTheProgram) {
  ProgramBuilder fwd;
  fwd.op(Form::ja, 0, 0, 5).exit();
  EXPECT_EQ(validation_error(fwd), "pc 0: off: target 6 is outside the program (0..1)");
  ProgramBuilder one_past;
  one_past.op(Form::ja, 0, 0, 1).exit();
  EXPECT_EQ(validation_error(one_past), "pc 0: off: target 2 is outside the program (0..1)");
  ProgramBuilder back;
  back.exit().op(Form::ja, 0, 0, -3);
  EXPECT_EQ(validation_error(back), "pc 1: off: target -1 is outside the program (0..1)");
  ProgramBuilder cond;
  cond.mov(0, 0).op(Form::jeq_imm, 0, 0, -100, 0).exit();
  EXPECT_EQ(validation_error(cond), "pc 1: off: target -98 is outside the program (0..2)");
  ProgramBuilder cond32;
  cond32.mov(0, 0).op(Form::jslt32_reg, 0, 1, 1000).exit();
  EXPECT_EQ(validation_error(cond32), "pc 1: off: target 1002 is outside the program (0..2)");
  ProgramBuilder gotol;
  gotol.op(Form::gotol, 0, 0, 0, 100000).exit();
  EXPECT_EQ(validation_error(gotol), "pc 0: imm: target 100001 is outside the program (0..1)");
  ProgramBuilder gotol_back;
  gotol_back.op(Form::gotol, 0, 0, 0, INT32_MIN).exit();
  EXPECT_EQ(validation_error(gotol_back), "pc 0: imm: target -2147483647 is outside the program (0..1)");
}

TEST(Validator, JumpIntoTheSecondSlotOfLddw) {
  ProgramBuilder fwd;
  fwd.op(Form::ja, 0, 0, 1).lddw(0, 1).exit();
  EXPECT_EQ(validation_error(fwd), "pc 0: off: target 2 is the second slot of an lddw");
  ProgramBuilder back;
  back.lddw(0, 1).op(Form::jeq_imm, 0, 0, -2, 0).exit();
  EXPECT_EQ(validation_error(back), "pc 2: off: target 1 is the second slot of an lddw");
  ProgramBuilder call;
  call.call_local(3).exit().lddw(0, 1).exit();
  EXPECT_EQ(validation_error(call), "pc 0: imm: target 3 is the second slot of an lddw");
  ProgramBuilder code;
  code.lddw_code(1, 4).exit().lddw(0, 1).exit();
  EXPECT_EQ(validation_error(code), "pc 0: imm: target 4 is the second slot of an lddw");
}

TEST(Validator, TruncatedLddw) {
  ProgramBuilder b;
  b.exit().raw(isa::encode(Form::lddw, 0, 0, 0, 1));
  EXPECT_EQ(validation_error(b), "pc 1: opcode: lddw is truncated: its second slot is missing");
}

TEST(Validator, SecondSlotOfLddwMustBeBlank) {
  const struct {
    RawInsn second;
    const char* message;
  } cases[] = {
      {{0x95, 0, 0, 0, 0}, "pc 1: opcode: second slot of lddw must have opcode 0"},
      {{0, 1, 0, 0, 0}, "pc 1: dst: second slot of lddw: reserved field must be 0"},
      {{0, 0, 1, 0, 0}, "pc 1: src: second slot of lddw: reserved field must be 0"},
      {{0, 0, 0, 1, 0}, "pc 1: off: second slot of lddw: reserved field must be 0"},
  };
  for (const auto& c : cases) {
    ProgramBuilder b;
    b.raw(isa::encode(Form::lddw, 0, 0, 0, 1)).raw(c.second).exit();
    EXPECT_EQ(validation_error(b), c.message);
  }
  ProgramBuilder code;
  code.raw(isa::encode(Form::lddw_code, 1, 0, 0, 2)).raw(RawInsn{0, 0, 0, 0, 1}).exit().exit();
  EXPECT_EQ(validation_error(code), "pc 1: imm: lddw code address: second imm must be 0");
}

TEST(Validator, CallToUnregisteredHelper) {
  ProgramBuilder b;
  b.call_helper(7).exit();
  EXPECT_EQ(validation_error(b, helpers_0_and_1()), "pc 0: imm: call to unregistered helper 7");
  ProgramBuilder neg;
  neg.call_helper(-1).exit();
  EXPECT_EQ(validation_error(neg), "pc 0: imm: call to unregistered helper 4294967295");
}

TEST(Validator, LocalCallOutOfRange) {
  ProgramBuilder b;
  b.op(Form::call_local, 0, 0, 0, 9).exit();
  EXPECT_EQ(validation_error(b), "pc 0: imm: target 10 is outside the program (0..1)");
  ProgramBuilder back;
  back.exit().op(Form::call_local, 0, 0, 0, -5).exit();
  EXPECT_EQ(validation_error(back), "pc 1: imm: target -3 is outside the program (0..2)");
}

TEST(Validator, LastInstructionFallsThrough) {
  const char* message = "last instruction can fall through past the end of the program";
  ProgramBuilder mov;
  mov.mov(0, 0);
  EXPECT_EQ(validation_error(mov), std::string("pc 0: opcode: ") + message);
  ProgramBuilder cond;
  cond.mov(0, 0).op(Form::jeq_imm, 0, 0, -2, 0);
  EXPECT_EQ(validation_error(cond), std::string("pc 1: opcode: ") + message);
  ProgramBuilder lddw;
  lddw.exit().lddw(0, 1);
  EXPECT_EQ(validation_error(lddw), std::string("pc 1: opcode: ") + message);
  ProgramBuilder call;
  call.call_local(0);
  EXPECT_EQ(validation_error(call), std::string("pc 0: opcode: ") + message);
}

TEST(Validator, FunctionFallsThroughIntoTheNext) {
  ProgramBuilder b;
  b.call_local(2).mov(0, 1).exit();
  EXPECT_EQ(validation_error(b), "pc 1: opcode: instruction can fall through into the function at pc 2");
  ProgramBuilder code;
  code.lddw_code(1, 3).mov(0, 0).exit();
  EXPECT_EQ(validation_error(code), "pc 2: opcode: instruction can fall through into the function at pc 3");
}

TEST(Validator, JaOrGotolMayEndAFunction) {
  ProgramBuilder ja;
  ja.call_local(2).op(Form::ja, 0, 0, -2).exit();  // main ends with a backward ja, f: exit
  EXPECT_EQ(validation_error(ja), "");
  ProgramBuilder gotol;
  gotol.call_local(2).op(Form::gotol, 0, 0, 0, -2).exit();
  EXPECT_EQ(validation_error(gotol), "");
}

TEST(Validator, LoadedProgramResolvesTargetsAndFunctions) {
  ProgramBuilder b;
  b.lddw_code(1, 8)                     // 0-1
      .lddw(2, 0x1122334455667788)      // 2-3
      .call_local(7)                    // 4
      .jump(Form::jeq_imm, 1, 0, 0, 4)  // 5: backward, to the call
      .exit()                           // 6
      .exit()                           // 7: f
      .exit();                          // 8: g
  auto loaded = vm::validate(b.program(), no_helpers());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->function_starts, (std::vector<uint32_t>{0, 7, 8}));
  EXPECT_EQ(loaded->insns[0].imm64, kCodeBase + 8 * 8);
  EXPECT_EQ(loaded->insns[0].target, 8u);
  EXPECT_EQ(loaded->insns[2].imm64, 0x1122334455667788u);
  EXPECT_EQ(loaded->insns[4].target, 7u);
  EXPECT_EQ(loaded->insns[5].target, 4u);
}

TEST(Validator, ProgramFromBytesRejectsPartialSlots) {
  const std::vector<uint8_t> bytes(12, 0);
  auto p = vm::program_from_bytes(bytes);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message, "bytecode is 12 bytes, not a multiple of the 8-byte instruction size");
}

}  // namespace
}  // namespace bpfdiff::test
