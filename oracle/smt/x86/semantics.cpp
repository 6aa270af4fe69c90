#include "oracle/smt/x86/semantics.hpp"

#include "oracle/smt/x86/semantics_impl.hpp"

namespace bpfdiff::oracle::smt::x86 {

using namespace detail;

namespace detail {

z3::expr read_reg(const Machine& m, const Operand& op) {
  const z3::expr& full = m.gpr[op.reg];
  if (op.high_byte) return full.extract(15, 8);
  if (op.bits == 64) return full;
  return full.extract(op.bits - 1, 0);
}

z3::expr read_imm(const Machine& m, const Operand& op, unsigned bits) {
  return m.ctx().bv_val(static_cast<uint64_t>(op.imm), 64).extract(bits - 1, 0);
}

z3::expr read(const Machine& m, const Operand& op, unsigned bits) {
  if (op.kind == Operand::Kind::Imm) return read_imm(m, op, bits);
  return read_reg(m, op);
}

void write_full(Machine& m, uint8_t reg, unsigned bits, const z3::expr& value) {
  // In 64-bit mode a 32-bit destination clears bits 32..63.
  m.gpr[reg] = bits == 64 ? value : z3::zext(value, 64 - bits);
}

void write_reg(Machine& m, const Operand& op, const z3::expr& value) {
  z3::expr& full = m.gpr[op.reg];
  if (op.high_byte) {
    full = z3::concat(full.extract(63, 16), z3::concat(value, full.extract(7, 0)));
  } else if (op.bits >= 32) {
    write_full(m, op.reg, op.bits, value);
  } else {
    full = z3::concat(full.extract(63, op.bits), value);
  }
}

z3::expr msb(const z3::expr& v) {
  const unsigned top = v.get_sort().bv_size() - 1;
  return v.extract(top, top) == v.ctx().bv_val(1, 1);
}

z3::expr lsb(const z3::expr& v) {
  return v.extract(0, 0) == v.ctx().bv_val(1, 1);
}

void set_result_flags(Machine& m, const z3::expr& r) {
  const unsigned n = r.get_sort().bv_size();
  m.flag(Flag::ZF) = r == m.ctx().bv_val(0, n);
  m.flag(Flag::SF) = msb(r);
  // PF: even number of ones in the low byte.
  z3::expr ones = r.extract(0, 0);
  for (unsigned i = 1; i < 8; ++i)
    ones = ones ^ r.extract(i, i);
  m.flag(Flag::PF) = ones == m.ctx().bv_val(0, 1);
}

z3::expr effective_address(const Machine& m, const Operand& op) {
  z3::expr ea = m.ctx().bv_val(static_cast<uint64_t>(op.imm), 64);
  if (op.base != kNoRegister) ea = ea + m.gpr[op.base];
  if (op.index != kNoRegister) ea = ea + m.gpr[op.index] * m.ctx().bv_val(op.scale, 64);
  return ea;
}

// Addresses are simplified to a normal form before they index memory, so
// that two computations of the same address (the JIT's and the model's)
// usually become the same term and the array solver need not prove them equal.
z3::expr load(const Machine& m, const z3::expr& raw_address, unsigned bits) {
  const z3::expr address = raw_address.simplify();
  z3::expr v = z3::select(m.memory, address);
  for (unsigned byte = 1; byte < bits / 8; ++byte)
    v = z3::concat(z3::select(m.memory, (address + m.ctx().bv_val(byte, 64)).simplify()), v);
  return v;
}

void store(Machine& m, const z3::expr& raw_address, const z3::expr& value) {
  const z3::expr address = raw_address.simplify();
  const unsigned bits = value.get_sort().bv_size();
  for (unsigned byte = 0; byte < bits / 8; ++byte)
    m.memory = z3::store(m.memory, (address + m.ctx().bv_val(byte, 64)).simplify(),
                         value.extract(8 * byte + 7, 8 * byte));
}

z3::expr read_any(const Machine& m, const Operand& op, unsigned bits) {
  if (op.kind == Operand::Kind::Mem) return load(m, effective_address(m, op), op.bits);
  return read(m, op, bits);
}

void write_any(Machine& m, const Operand& op, const z3::expr& value) {
  if (op.kind == Operand::Kind::Mem) {
    store(m, effective_address(m, op), value);
  } else {
    write_reg(m, op, value);
  }
}

Error unsupported(const Instruction& insn, const std::string& why) {
  return make_error("x86 semantics: " + describe(insn) + ": " + why);
}

bool is_reg(const Operand& op) {
  return op.kind == Operand::Kind::Reg;
}

}  // namespace detail

namespace {

Result<Control> mov(Machine& m, const Instruction& insn) {
  const Operand& dst = insn.operands[0];
  write_any(m, dst, read_any(m, insn.operands[1], dst.bits));
  return Control{};
}

Result<Control> load_address(Machine& m, const Instruction& insn) {
  const Operand& dst = insn.operands[0];
  const z3::expr ea = effective_address(m, insn.operands[1]);
  write_reg(m, dst, dst.bits == 64 ? ea : ea.extract(dst.bits - 1, 0));
  return Control{};
}

// xadd: the destination gets the sum, the source the old destination.
Result<Control> exchange_add(Machine& m, const Instruction& insn) {
  const Operand& dst = insn.operands[0];
  const Operand& src = insn.operands[1];
  const z3::expr a = read_any(m, dst, dst.bits);
  const z3::expr b = read_reg(m, src);
  const z3::expr r = a + b;
  m.flag(Flag::CF) = z3::ult(r, a);
  m.flag(Flag::OF) = msb(a) == msb(b) && msb(r) != msb(a);
  set_result_flags(m, r);
  write_reg(m, src, a);  // the source first: with dst == src the sum wins, as on the CPU
  write_any(m, dst, r);
  return Control{};
}

// cmpxchg: compare the accumulator with the destination; equal: the
// destination gets the source (rax untouched, even its top half for 32
// bits); different: the accumulator gets the destination (zero-extended
// for 32 bits) and memory keeps its value.
Result<Control> compare_exchange(Machine& m, const Instruction& insn) {
  const Operand& dst = insn.operands[0];
  const unsigned n = dst.bits;
  if (n != 32 && n != 64) return unsupported(insn, "only 32- and 64-bit cmpxchg is modelled");
  const z3::expr old = read_any(m, dst, n);
  const z3::expr acc = n == 64 ? m.gpr[kRax] : m.gpr[kRax].extract(n - 1, 0);
  const z3::expr r = acc - old;
  m.flag(Flag::CF) = z3::ult(acc, old);
  m.flag(Flag::OF) = msb(acc) != msb(old) && msb(r) != msb(acc);
  set_result_flags(m, r);
  const z3::expr equal = acc == old;
  const z3::expr new_rax = n == 64 ? old : z3::zext(old, 64 - n);
  m.gpr[kRax] = z3::ite(equal, m.gpr[kRax], new_rax);
  write_any(m, dst, z3::ite(equal, read_reg(m, insn.operands[1]), old));
  return Control{};
}

Result<Control> extend(Machine& m, const Instruction& insn, bool sign) {
  const Operand& dst = insn.operands[0];
  const Operand& src_op = insn.operands[1];
  const z3::expr v = read_any(m, src_op, src_op.bits);
  const unsigned grow = dst.bits - v.get_sort().bv_size();
  write_reg(m, dst, grow == 0 ? v : sign ? z3::sext(v, grow) : z3::zext(v, grow));
  return Control{};
}

// add, sub, cmp, and, or, xor, test: result and all status flags.
Result<Control> arithmetic(Machine& m, const Instruction& insn) {
  const Operand& dst = insn.operands[0];
  const unsigned n = dst.bits;
  const z3::expr a = read_any(m, dst, n);
  const z3::expr b = read_any(m, insn.operands[1], n);
  std::optional<z3::expr> r;
  bool write = true;
  switch (
      static_cast<int>(insn.mnemonic)) {  // int: Zydis has ~1700 mnemonics, -Wswitch-enum would want them all
    case ZYDIS_MNEMONIC_ADD:
      r = a + b;
      m.flag(Flag::CF) = z3::ult(*r, a);
      m.flag(Flag::OF) = msb(a) == msb(b) && msb(*r) != msb(a);
      break;
    case ZYDIS_MNEMONIC_SUB:
    case ZYDIS_MNEMONIC_CMP:
      r = a - b;
      m.flag(Flag::CF) = z3::ult(a, b);
      m.flag(Flag::OF) = msb(a) != msb(b) && msb(*r) != msb(a);
      write = insn.mnemonic == ZYDIS_MNEMONIC_SUB;
      break;
    default:
      r = insn.mnemonic == ZYDIS_MNEMONIC_OR    ? (a | b)
          : insn.mnemonic == ZYDIS_MNEMONIC_XOR ? (a ^ b)
                                                : (a & b);
      m.flag(Flag::CF) = m.ctx().bool_val(false);
      m.flag(Flag::OF) = m.ctx().bool_val(false);
      write = insn.mnemonic != ZYDIS_MNEMONIC_TEST;
      break;
  }
  set_result_flags(m, *r);
  if (write) write_any(m, dst, *r);
  return Control{};
}

Result<Control> negate(Machine& m, const Instruction& insn) {
  const Operand& dst = insn.operands[0];
  const z3::expr a = read_reg(m, dst);
  const z3::expr zero = m.ctx().bv_val(0, dst.bits);
  const z3::expr r = zero - a;
  m.flag(Flag::CF) = a != zero;
  m.flag(Flag::OF) = a != zero && a == r;  // only INT_MIN is its own negation besides 0
  set_result_flags(m, r);
  write_reg(m, dst, r);
  return Control{};
}

Result<Control> signed_multiply(Machine& m, const Instruction& insn) {
  if (insn.operands.size() < 2) return unsupported(insn, "one-operand imul is not modelled");
  const Operand& dst = insn.operands[0];
  const unsigned n = dst.bits;
  const z3::expr a = read_reg(m, insn.operands[1]);
  const z3::expr b =
      insn.operands.size() == 3 ? read_imm(m, insn.operands[2], n) : read_reg(m, insn.operands[1]);
  const z3::expr a_value = insn.operands.size() == 3 ? a : read_reg(m, dst);
  const z3::expr r = a_value * b;
  const z3::expr wide = z3::sext(a_value, n) * z3::sext(b, n);
  m.flag(Flag::CF) = wide != z3::sext(r, n);
  m.flag(Flag::OF) = m.flag(Flag::CF);
  m.flag(Flag::SF) = m.undefined_bool();
  m.flag(Flag::ZF) = m.undefined_bool();
  m.flag(Flag::PF) = m.undefined_bool();
  write_reg(m, dst, r);
  return Control{};
}

Result<Control> byte_swap(Machine& m, const Instruction& insn) {
  const Operand& dst = insn.operands[0];
  if (dst.bits != 32 && dst.bits != 64) return unsupported(insn, "bswap of a 16-bit register is undefined");
  const z3::expr v = read_reg(m, dst);
  z3::expr r = v.extract(7, 0);
  for (unsigned byte = 1; byte < dst.bits / 8; ++byte)
    r = z3::concat(r, v.extract(8 * byte + 7, 8 * byte));
  write_reg(m, dst, r);
  return Control{};
}

Result<Control> sign_to_rdx(Machine& m, unsigned bits) {
  const z3::expr a = m.gpr[kRax].extract(bits - 1, 0);
  write_full(m, kRdx, bits, z3::ashr(a, static_cast<int>(bits - 1)));
  return Control{};
}

Result<Control> conditional_move(Machine& m, const Instruction& insn, uint8_t cc) {
  const Operand& dst = insn.operands[0];
  const z3::expr v = z3::ite(condition(m, cc), read_reg(m, insn.operands[1]), read_reg(m, dst));
  write_reg(m, dst, v);  // a 32-bit cmov clears bits 32..63 even when the condition is false
  return Control{};
}

Result<Control> set_byte(Machine& m, const Instruction& insn, uint8_t cc) {
  write_reg(m, insn.operands[0], z3::ite(condition(m, cc), m.ctx().bv_val(1, 8), m.ctx().bv_val(0, 8)));
  return Control{};
}

// The native stack: rsp moves by 8 per push or pop, and the slot is host
// memory like any other (aliasing with other objects is the caller's to
// exclude or allow).
void push(Machine& m, const z3::expr& value) {
  m.gpr[kRsp] = m.gpr[kRsp] - m.ctx().bv_val(8, 64);
  store(m, m.gpr[kRsp], value);
}

z3::expr pop(Machine& m) {
  const z3::expr v = load(m, m.gpr[kRsp], 64);
  m.gpr[kRsp] = m.gpr[kRsp] + m.ctx().bv_val(8, 64);
  return v;
}

Control indirect(const z3::expr& address) {
  Control c;
  c.kind = Control::Kind::Indirect;
  c.address = address;
  return c;
}

// call rel32 / call reg: the return address is where the call ends.
Result<Control> call(Machine& m, const Instruction& insn) {
  const Operand& target = insn.operands[0];
  if (target.kind == Operand::Kind::Rel) {
    push(m, code_address(m.ctx(), insn.end()));
    Control c;
    c.kind = Control::Kind::Jump;
    c.target = static_cast<uint32_t>(target.imm);
    return c;
  }
  if (!is_reg(target) || target.bits != 64) return unsupported(insn, "only call rel32 and call reg64");
  const z3::expr address = m.gpr[target.reg];  // read before the push moves rsp
  push(m, code_address(m.ctx(), insn.end()));
  return indirect(address);
}

// The instructions whose operands may be in memory; every other one reads
// its operands as registers and must never see a memory operand.
bool takes_memory_operands(ZydisMnemonic mnemonic) {
  switch (static_cast<int>(mnemonic)) {  // int: see execute()
    case ZYDIS_MNEMONIC_MOV:
    case ZYDIS_MNEMONIC_MOVZX:
    case ZYDIS_MNEMONIC_MOVSX:
    case ZYDIS_MNEMONIC_MOVSXD:
    case ZYDIS_MNEMONIC_LEA:
    case ZYDIS_MNEMONIC_ADD:
    case ZYDIS_MNEMONIC_SUB:
    case ZYDIS_MNEMONIC_CMP:
    case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_OR:
    case ZYDIS_MNEMONIC_XOR:
    case ZYDIS_MNEMONIC_TEST:
    case ZYDIS_MNEMONIC_XADD:
    case ZYDIS_MNEMONIC_CMPXCHG:
      return true;
    default:
      return false;
  }
}

// The instructions the JIT's call glue and epilogue use to move, realign
// and restore the native stack pointer itself (helper calls realign rsp to
// 16 bytes and pop it back).
bool moves_stack_pointer(ZydisMnemonic mnemonic) {
  switch (static_cast<int>(mnemonic)) {  // int: see execute()
    case ZYDIS_MNEMONIC_MOV:
    case ZYDIS_MNEMONIC_ADD:
    case ZYDIS_MNEMONIC_SUB:
    case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_PUSH:
    case ZYDIS_MNEMONIC_POP:
      return true;
    default:
      return false;
  }
}

bool operands_supported(const Instruction& insn, std::string& why) {
  for (const Operand& op : insn.operands) {
    if (op.kind == Operand::Kind::Mem) {
      if (!takes_memory_operands(insn.mnemonic)) {
        why = "memory operands of this instruction are not modelled";
        return false;
      }
      if (op.base == kRsp || op.index == kRsp) {
        why = "rsp-relative memory (the native stack) is not modelled";
        return false;
      }
      continue;
    }
    if (op.kind == Operand::Kind::Reg && op.reg == kRsp &&
        !(moves_stack_pointer(insn.mnemonic) && op.bits == 64)) {
      why = "rsp is modelled as a data register only for 64-bit mov, add, sub, and, push and pop";
      return false;
    }
  }
  return true;
}

std::size_t expected_operands(ZydisMnemonic mnemonic) {
  switch (static_cast<int>(mnemonic)) {  // int: see execute()
    case ZYDIS_MNEMONIC_CDQ:
    case ZYDIS_MNEMONIC_CQO:
    case ZYDIS_MNEMONIC_NOP:
    case ZYDIS_MNEMONIC_RET:
      return 0;
    case ZYDIS_MNEMONIC_NEG:
    case ZYDIS_MNEMONIC_NOT:
    case ZYDIS_MNEMONIC_BSWAP:
    case ZYDIS_MNEMONIC_MUL:
    case ZYDIS_MNEMONIC_DIV:
    case ZYDIS_MNEMONIC_IDIV:
    case ZYDIS_MNEMONIC_JMP:
    case ZYDIS_MNEMONIC_CALL:
    case ZYDIS_MNEMONIC_PUSH:
    case ZYDIS_MNEMONIC_POP:
      return 1;
    case ZYDIS_MNEMONIC_SHLX:
    case ZYDIS_MNEMONIC_SHRX:
    case ZYDIS_MNEMONIC_SARX:
      return 3;
    default:
      return 2;
  }
}

}  // namespace

std::optional<uint8_t> condition_code(ZydisMnemonic mn) {
  switch (static_cast<int>(mn)) {  // int: see execute()
    case ZYDIS_MNEMONIC_JO:
    case ZYDIS_MNEMONIC_CMOVO:
    case ZYDIS_MNEMONIC_SETO:
      return 0;
    case ZYDIS_MNEMONIC_JNO:
    case ZYDIS_MNEMONIC_CMOVNO:
    case ZYDIS_MNEMONIC_SETNO:
      return 1;
    case ZYDIS_MNEMONIC_JB:
    case ZYDIS_MNEMONIC_CMOVB:
    case ZYDIS_MNEMONIC_SETB:
      return 2;
    case ZYDIS_MNEMONIC_JNB:
    case ZYDIS_MNEMONIC_CMOVNB:
    case ZYDIS_MNEMONIC_SETNB:
      return 3;
    case ZYDIS_MNEMONIC_JZ:
    case ZYDIS_MNEMONIC_CMOVZ:
    case ZYDIS_MNEMONIC_SETZ:
      return 4;
    case ZYDIS_MNEMONIC_JNZ:
    case ZYDIS_MNEMONIC_CMOVNZ:
    case ZYDIS_MNEMONIC_SETNZ:
      return 5;
    case ZYDIS_MNEMONIC_JBE:
    case ZYDIS_MNEMONIC_CMOVBE:
    case ZYDIS_MNEMONIC_SETBE:
      return 6;
    case ZYDIS_MNEMONIC_JNBE:
    case ZYDIS_MNEMONIC_CMOVNBE:
    case ZYDIS_MNEMONIC_SETNBE:
      return 7;
    case ZYDIS_MNEMONIC_JS:
    case ZYDIS_MNEMONIC_CMOVS:
    case ZYDIS_MNEMONIC_SETS:
      return 8;
    case ZYDIS_MNEMONIC_JNS:
    case ZYDIS_MNEMONIC_CMOVNS:
    case ZYDIS_MNEMONIC_SETNS:
      return 9;
    case ZYDIS_MNEMONIC_JP:
    case ZYDIS_MNEMONIC_CMOVP:
    case ZYDIS_MNEMONIC_SETP:
      return 10;
    case ZYDIS_MNEMONIC_JNP:
    case ZYDIS_MNEMONIC_CMOVNP:
    case ZYDIS_MNEMONIC_SETNP:
      return 11;
    case ZYDIS_MNEMONIC_JL:
    case ZYDIS_MNEMONIC_CMOVL:
    case ZYDIS_MNEMONIC_SETL:
      return 12;
    case ZYDIS_MNEMONIC_JNL:
    case ZYDIS_MNEMONIC_CMOVNL:
    case ZYDIS_MNEMONIC_SETNL:
      return 13;
    case ZYDIS_MNEMONIC_JLE:
    case ZYDIS_MNEMONIC_CMOVLE:
    case ZYDIS_MNEMONIC_SETLE:
      return 14;
    case ZYDIS_MNEMONIC_JNLE:
    case ZYDIS_MNEMONIC_CMOVNLE:
    case ZYDIS_MNEMONIC_SETNLE:
      return 15;
    default:
      return std::nullopt;
  }
}

z3::expr condition(const Machine& m, uint8_t cc) {
  const z3::expr& cf = m.flag(Flag::CF);
  const z3::expr& zf = m.flag(Flag::ZF);
  const z3::expr& sf = m.flag(Flag::SF);
  const z3::expr& of = m.flag(Flag::OF);
  const z3::expr& pf = m.flag(Flag::PF);
  z3::expr positive = of;
  switch (cc >> 1) {
    case 0:
      positive = of;
      break;
    case 1:
      positive = cf;
      break;
    case 2:
      positive = zf;
      break;
    case 3:
      positive = cf || zf;
      break;
    case 4:
      positive = sf;
      break;
    case 5:
      positive = pf;
      break;
    case 6:
      positive = sf != of;
      break;
    default:
      positive = zf || sf != of;
      break;
  }
  // Odd condition codes are the negation of the even one below them.
  return (cc & 1) != 0 ? !positive : positive;
}

Result<Control> execute(Machine& m, const Instruction& insn) {
  try {
    std::string why;
    if (!operands_supported(insn, why)) return unsupported(insn, why);
    if (const auto cc = condition_code(insn.mnemonic)) {
      const Operand& first = insn.operands.empty() ? Operand{} : insn.operands[0];
      if (insn.operands.size() == 1 && first.kind == Operand::Kind::Rel) {
        Control c;
        c.kind = Control::Kind::Branch;
        c.target = static_cast<uint32_t>(first.imm);
        c.condition = condition(m, *cc);
        return c;
      }
      if (insn.operands.size() == 2 && is_reg(first) && is_reg(insn.operands[1]))
        return conditional_move(m, insn, *cc);
      if (insn.operands.size() == 1 && is_reg(first) && first.bits == 8) return set_byte(m, insn, *cc);
      return unsupported(insn, "unexpected operands");
    }
    const bool imul3 = insn.mnemonic == ZYDIS_MNEMONIC_IMUL && insn.operands.size() == 3;
    if (insn.operands.size() != expected_operands(insn.mnemonic) && !imul3)
      return unsupported(insn, "unexpected operand count");
    const bool memory_destination = takes_memory_operands(insn.mnemonic) && !insn.operands.empty() &&
                                    insn.operands[0].kind == Operand::Kind::Mem;
    if (!insn.operands.empty() && insn.mnemonic != ZYDIS_MNEMONIC_JMP &&
        insn.mnemonic != ZYDIS_MNEMONIC_CALL && !is_reg(insn.operands[0]) && !memory_destination)
      return unsupported(insn, "the first operand is not a register or memory");
    if (insn.mnemonic == ZYDIS_MNEMONIC_LEA && insn.operands[1].kind != Operand::Kind::Mem)
      return unsupported(insn, "lea without an address operand");
    if ((insn.mnemonic == ZYDIS_MNEMONIC_XADD || insn.mnemonic == ZYDIS_MNEMONIC_CMPXCHG) &&
        !is_reg(insn.operands[1]))
      return unsupported(insn, "the source is not a register");
    switch (static_cast<int>(
        insn.mnemonic)) {  // int: Zydis has ~1700 mnemonics, -Wswitch-enum would want them all
      case ZYDIS_MNEMONIC_NOP:
        return Control{};
      case ZYDIS_MNEMONIC_JMP: {
        if (is_reg(insn.operands[0]) && insn.operands[0].bits == 64)
          return indirect(m.gpr[insn.operands[0].reg]);
        if (insn.operands[0].kind != Operand::Kind::Rel)
          return unsupported(insn, "only jmp rel and jmp reg64 are modelled");
        Control c;
        c.kind = Control::Kind::Jump;
        c.target = static_cast<uint32_t>(insn.operands[0].imm);
        return c;
      }
      case ZYDIS_MNEMONIC_CALL:
        return call(m, insn);
      case ZYDIS_MNEMONIC_RET:
        return indirect(pop(m));
      case ZYDIS_MNEMONIC_PUSH: {
        const Operand& op = insn.operands[0];
        if (!is_reg(op) || op.bits != 64) return unsupported(insn, "only push reg64 is modelled");
        const z3::expr v = m.gpr[op.reg];  // a copy: push rsp pushes the value before the decrement
        push(m, v);
        return Control{};
      }
      case ZYDIS_MNEMONIC_POP: {
        const Operand& op = insn.operands[0];
        if (!is_reg(op) || op.bits != 64) return unsupported(insn, "only pop reg64 is modelled");
        const z3::expr v = pop(m);
        m.gpr[op.reg] = v;  // pop rsp: the value read replaces the incremented rsp
        return Control{};
      }
      case ZYDIS_MNEMONIC_MOV:
        return mov(m, insn);
      case ZYDIS_MNEMONIC_LEA:
        return load_address(m, insn);
      case ZYDIS_MNEMONIC_XADD:
        return exchange_add(m, insn);
      case ZYDIS_MNEMONIC_CMPXCHG:
        return compare_exchange(m, insn);
      case ZYDIS_MNEMONIC_MOVZX:
        return extend(m, insn, false);
      case ZYDIS_MNEMONIC_MOVSX:
      case ZYDIS_MNEMONIC_MOVSXD:
        return extend(m, insn, true);
      case ZYDIS_MNEMONIC_ADD:
      case ZYDIS_MNEMONIC_SUB:
      case ZYDIS_MNEMONIC_CMP:
      case ZYDIS_MNEMONIC_AND:
      case ZYDIS_MNEMONIC_OR:
      case ZYDIS_MNEMONIC_XOR:
      case ZYDIS_MNEMONIC_TEST:
        return arithmetic(m, insn);
      case ZYDIS_MNEMONIC_NEG:
        return negate(m, insn);
      case ZYDIS_MNEMONIC_NOT:
        write_reg(m, insn.operands[0], ~read_reg(m, insn.operands[0]));
        return Control{};
      case ZYDIS_MNEMONIC_IMUL:
        return signed_multiply(m, insn);
      case ZYDIS_MNEMONIC_MUL:
        return multiply(m, insn);
      case ZYDIS_MNEMONIC_DIV:
      case ZYDIS_MNEMONIC_IDIV:
        return divide(m, insn);
      case ZYDIS_MNEMONIC_CDQ:
        return sign_to_rdx(m, 32);
      case ZYDIS_MNEMONIC_CQO:
        return sign_to_rdx(m, 64);
      case ZYDIS_MNEMONIC_SHL:
      case ZYDIS_MNEMONIC_SHR:
      case ZYDIS_MNEMONIC_SAR:
      case ZYDIS_MNEMONIC_ROL:
      case ZYDIS_MNEMONIC_ROR:
        return shift(m, insn);
      case ZYDIS_MNEMONIC_SHLX:
      case ZYDIS_MNEMONIC_SHRX:
      case ZYDIS_MNEMONIC_SARX:
        return shift_bmi2(m, insn);
      case ZYDIS_MNEMONIC_BSWAP:
        return byte_swap(m, insn);
      default:
        return unsupported(insn, "instruction not modelled");
    }
  } catch (const z3::exception& e) {
    return unsupported(insn, std::string("z3: ") + e.msg());
  }
}

}  // namespace bpfdiff::oracle::smt::x86
