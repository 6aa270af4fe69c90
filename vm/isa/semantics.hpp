#pragma once
// What an instruction form *does*, as a small structural value. Every
// consumer (interpreter, JIT lowering, Z3 model, generator) switches on these
// enums, so they are compiled with -Wswitch-enum: a new enumerator breaks each
// consumer that forgot it. Semantics is a literal structural type, which lets
// the interpreter take it as a template argument and specialise each form.
#include <cstdint>

namespace bpfdiff::isa {

enum class Family : uint8_t {
  Alu,         // ALU / ALU64 arithmetic, including mov, neg and movsx
  Endian,      // le/be conversions and bswap
  Jump,        // ja, gotol and the conditional jumps
  Call,        // helper call, local call, callx
  Exit,        // return from the current function
  Lddw,        // 64-bit immediate load and its pseudo forms (two slots)
  Load,        // ldx, zero-extending
  LoadSigned,  // ldxs*, sign-extending (v4)
  StoreImm,    // st
  StoreReg,    // stx
  Atomic,      // lock-prefixed read-modify-write
  PacketLoad,  // legacy ld abs / ld ind
};

enum class Width : uint8_t { W32, W64 };
enum class Source : uint8_t { Imm, Reg };

enum class AluOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Sdiv,
  Or,
  And,
  Lsh,
  Rsh,
  Neg,
  Mod,
  Smod,
  Xor,
  Mov,
  Movsx8,
  Movsx16,
  Movsx32,
  Arsh,
};

enum class EndianOp : uint8_t { ToLe, ToBe, Bswap };

enum class JmpCond : uint8_t { Always, Eq, Gt, Ge, Set, Ne, Sgt, Sge, Lt, Le, Slt, Sle };

enum class CallKind : uint8_t {
  Helper,    // call imm: helper by static id
  Local,     // call pc+imm+1: program-local function
  Indirect,  // callx dst: function address (from lddw code) or helper id held in a register
};

enum class LddwKind : uint8_t {
  Imm64,        // src 0: dst = imm64
  MapFd,        // src 1: dst = map handle of map fd imm
  MapValue,     // src 2: dst = address of map value (fd imm) + next_imm
  BtfVar,       // src 3: dst = address of kernel variable by BTF id (not available in a user-space VM)
  CodeAddr,     // src 4: dst = address of the instruction at pc + imm + 1
  MapIdx,       // src 5: dst = map handle of the map with index imm
  MapIdxValue,  // src 6: dst = address of map value (index imm) + next_imm
};

enum class MemSize : uint8_t { B = 1, H = 2, W = 4, DW = 8 };

enum class AtomicOp : uint8_t { Add, Or, And, Xor, Xchg, Cmpxchg };

enum class PacketMode : uint8_t { Abs, Ind };

struct Semantics {
  Family family = Family::Exit;
  Width width = Width::W64;
  Source source = Source::Imm;
  AluOp alu = AluOp::Add;
  EndianOp endian = EndianOp::ToLe;
  uint8_t endian_bits = 0;
  JmpCond cond = JmpCond::Always;
  CallKind call = CallKind::Helper;
  LddwKind lddw = LddwKind::Imm64;
  MemSize size = MemSize::DW;
  AtomicOp atomic = AtomicOp::Add;
  bool fetch = false;
  PacketMode packet = PacketMode::Abs;

  constexpr bool operator==(const Semantics&) const = default;
};

constexpr unsigned bytes_of(MemSize s) {
  return static_cast<unsigned>(s);
}

// Builders used by the rows of forms.def.
constexpr Semantics alu(AluOp op, Width w, Source s) {
  Semantics x;
  x.family = Family::Alu;
  x.alu = op;
  x.width = w;
  x.source = s;
  return x;
}
constexpr Semantics endian(EndianOp op, uint8_t bits) {
  Semantics x;
  x.family = Family::Endian;
  x.endian = op;
  x.endian_bits = bits;
  x.width = op == EndianOp::Bswap ? Width::W64 : Width::W32;
  x.source = op == EndianOp::ToBe ? Source::Reg : Source::Imm;
  return x;
}
constexpr Semantics jump(JmpCond c, Width w, Source s) {
  Semantics x;
  x.family = Family::Jump;
  x.cond = c;
  x.width = w;
  x.source = s;
  return x;
}
constexpr Semantics call(CallKind k) {
  Semantics x;
  x.family = Family::Call;
  x.call = k;
  x.source = k == CallKind::Indirect ? Source::Reg : Source::Imm;
  return x;
}
constexpr Semantics exit_fn() {
  Semantics x;
  x.family = Family::Exit;
  return x;
}
constexpr Semantics lddw(LddwKind k) {
  Semantics x;
  x.family = Family::Lddw;
  x.lddw = k;
  return x;
}
constexpr Semantics load(MemSize s) {
  Semantics x;
  x.family = Family::Load;
  x.size = s;
  return x;
}
constexpr Semantics load_signed(MemSize s) {
  Semantics x;
  x.family = Family::LoadSigned;
  x.size = s;
  return x;
}
constexpr Semantics store_imm(MemSize s) {
  Semantics x;
  x.family = Family::StoreImm;
  x.size = s;
  return x;
}
constexpr Semantics store_reg(MemSize s) {
  Semantics x;
  x.family = Family::StoreReg;
  x.size = s;
  x.source = Source::Reg;
  return x;
}
constexpr Semantics atomic(AtomicOp op, Width w, bool fetch) {
  Semantics x;
  x.family = Family::Atomic;
  x.atomic = op;
  x.width = w;
  x.size = w == Width::W32 ? MemSize::W : MemSize::DW;
  x.fetch = fetch;
  x.source = Source::Reg;
  return x;
}
constexpr Semantics packet(PacketMode m, MemSize s) {
  Semantics x;
  x.family = Family::PacketLoad;
  x.packet = m;
  x.size = s;
  x.source = m == PacketMode::Ind ? Source::Reg : Source::Imm;
  return x;
}

}  // namespace bpfdiff::isa
