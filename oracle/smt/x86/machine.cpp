#include "oracle/smt/x86/machine.hpp"

namespace bpfdiff::oracle::smt::x86 {
namespace {

constexpr std::array<const char*, kGprCount> k64 = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                                    "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
constexpr std::array<const char*, kGprCount> k32 = {"eax",  "ecx",  "edx",  "ebx", "esp",  "ebp",
                                                    "esi",  "edi",  "r8d",  "r9d", "r10d", "r11d",
                                                    "r12d", "r13d", "r14d", "r15d"};
constexpr std::array<const char*, kGprCount> k16 = {"ax",   "cx",   "dx",   "bx",  "sp",   "bp",
                                                    "si",   "di",   "r8w",  "r9w", "r10w", "r11w",
                                                    "r12w", "r13w", "r14w", "r15w"};
constexpr std::array<const char*, kGprCount> k8 = {"al",   "cl",   "dl",   "bl",  "spl",  "bpl",
                                                   "sil",  "dil",  "r8b",  "r9b", "r10b", "r11b",
                                                   "r12b", "r13b", "r14b", "r15b"};
constexpr std::array<const char*, 4> kHigh = {"ah", "ch", "dh", "bh"};

template <std::size_t... I>
std::array<z3::expr, sizeof...(I)> fill(std::index_sequence<I...>, const z3::expr& v) {
  return {((void)I, v)...};
}

}  // namespace

std::string gpr_name(uint8_t reg, unsigned bits, bool high_byte) {
  reg &= 15;
  if (high_byte) return kHigh[reg & 3];
  switch (bits) {
    case 8:
      return k8[reg];
    case 16:
      return k16[reg];
    case 32:
      return k32[reg];
    default:
      return k64[reg];
  }
}

const char* flag_name(Flag f) {
  switch (f) {
    case Flag::CF:
      return "cf";
    case Flag::PF:
      return "pf";
    case Flag::ZF:
      return "zf";
    case Flag::SF:
      return "sf";
    case Flag::OF:
      return "of";
  }
  return "?";
}

Machine::Machine(z3::context& c)
    : gpr(fill(std::make_index_sequence<kGprCount>(), c.bv_val(0, 64))),
      flags(fill(std::make_index_sequence<kFlagCount>(), c.bool_val(false))),
      divide_error(c.bool_val(false)),
      memory(z3::const_array(c.bv_sort(64), c.bv_val(0, 8))),
      ctx_(&c) {}

Machine Machine::symbolic(z3::context& c, const std::string& prefix) {
  Machine m(c);
  for (unsigned r = 0; r < kGprCount; ++r)
    m.gpr[r] = c.bv_const((prefix + k64[r]).c_str(), 64);
  for (unsigned f = 0; f < kFlagCount; ++f)
    m.flags[f] = c.bool_const((prefix + flag_name(static_cast<Flag>(f))).c_str());
  m.memory = c.constant((prefix + "mem").c_str(), c.array_sort(c.bv_sort(64), c.bv_sort(8)));
  return m;
}

z3::expr Machine::undefined_bool() {
  const std::string name = "undefined!" + std::to_string(undefined_count_++);
  return ctx_->bool_const(name.c_str());
}

z3::expr code_address(z3::context& c, uint32_t offset) {
  return c.bv_const("code", 64) + c.bv_val(offset, 64);
}

}  // namespace bpfdiff::oracle::smt::x86
