#pragma once
// The instruction table as data: the Form enum (one enumerator per row of
// forms.def), per-form information, the field rules derived from each row, and
// lookup from a raw slot to its form.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vm/isa/raw.hpp"
#include "vm/isa/semantics.hpp"

namespace bpfdiff::isa {

enum class Form : uint8_t {
#define BPF_FORM(name, opcode, disc, disc_value, mnemonic, sem) name,
#include "vm/isa/forms.def"
#undef BPF_FORM
};

inline constexpr std::size_t kNumForms = 0
#define BPF_FORM(name, opcode, disc, disc_value, mnemonic, sem) +1
#include "vm/isa/forms.def"
#undef BPF_FORM
    ;

// The field that distinguishes forms sharing an opcode byte.
enum class Disc : uint8_t { None, Off, Imm, Src };

// What a field of a slot may hold.
enum class RegRule : uint8_t {
  Zero,      // field must be 0
  Readable,  // r0..r10
  Writable,  // r0..r9: the instruction writes this register
};
enum class ValueRule : uint8_t {
  Zero,   // must be 0
  Any,    // any value
  Exact,  // must equal the row's discriminator value
};

struct FieldRules {
  RegRule dst = RegRule::Zero;
  RegRule src = RegRule::Zero;
  ValueRule off = ValueRule::Zero;
  ValueRule imm = ValueRule::Zero;
};

// How the operands are written in assembly, derived from the semantics.
enum class Syntax : uint8_t {
  None,          // exit
  Dst,           // neg r1 / be16 r1
  DstImm,        // add r1, 5
  DstSrc,        // add r1, r2
  Offset,        // ja +3 (off)
  LongOffset,    // gotol +3 (imm)
  DstImmOffset,  // jeq r1, 5, +3
  DstSrcOffset,  // jeq r1, r2, +3
  HelperId,      // call 1
  CallOffset,    // call local +3 (imm)
  CallReg,       // callx r1
  Lddw,          // lddw r1, imm64 / pseudo forms
  Load,          // ldxw r1, [r2+4]
  StoreImm,      // stw [r1+4], 5
  StoreReg,      // stxw [r1+4], r2
  Atomic,        // lock add [r1+4], r2
  PacketAbs,     // ldabsw 12
  PacketInd,     // ldindw r1, 12
};

// The ISA version that introduced a form (clang -mcpu=v1..v4), so engines and
// generators can select what a given target accepts.
enum class IsaVersion : uint8_t { V1 = 1, V2 = 2, V3 = 3, V4 = 4 };

struct FormInfo {
  Form form;
  std::string_view name;  // identifier in forms.def, e.g. "add32_imm"
  uint8_t opcode;
  Disc disc;
  int32_t disc_value;
  std::string_view mnemonic;  // assembly mnemonic, e.g. "add32", "lock fetch add"
  Semantics sem;
  FieldRules rules;
  Syntax syntax;
  IsaVersion version;
  uint8_t slots;  // 2 for lddw, 1 otherwise
};

std::span<const FormInfo> all_forms();
const FormInfo& info(Form form);

// Finds the form of a slot by its opcode and discriminating field. The other
// fields are not checked here; that is the validator's job.
std::optional<Form> find_form(const RawInsn& insn);

// Why find_form failed, phrased for an error message ("unknown opcode 0x..",
// "opcode 0x37 (div) with off 5: expected off 0 or 1").
std::string describe_unknown(const RawInsn& insn);

const char* to_string(Family f);
const char* to_string(AluOp op);
const char* to_string(JmpCond c);

}  // namespace bpfdiff::isa
