#include "vm/jit/x86/registers.hpp"

#include <array>

namespace bpfdiff::jit::x86 {

namespace {

constexpr std::array<std::string_view, kRegCount> kNames8 = {"al",   "cl",   "dl",   "bl",  "spl",  "bpl",
                                                             "sil",  "dil",  "r8b",  "r9b", "r10b", "r11b",
                                                             "r12b", "r13b", "r14b", "r15b"};
constexpr std::array<std::string_view, kRegCount> kNames16 = {"ax",   "cx",   "dx",   "bx",  "sp",   "bp",
                                                              "si",   "di",   "r8w",  "r9w", "r10w", "r11w",
                                                              "r12w", "r13w", "r14w", "r15w"};
constexpr std::array<std::string_view, kRegCount> kNames32 = {"eax",  "ecx",  "edx",  "ebx", "esp",  "ebp",
                                                              "esi",  "edi",  "r8d",  "r9d", "r10d", "r11d",
                                                              "r12d", "r13d", "r14d", "r15d"};
constexpr std::array<std::string_view, kRegCount> kNames64 = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
                                                              "rsi", "rdi", "r8",  "r9",  "r10", "r11",
                                                              "r12", "r13", "r14", "r15"};
constexpr std::array<std::string_view, kCondCount> kCondNames = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                                                 "s", "ns", "p", "np", "l", "ge", "le", "g"};

}  // namespace

std::string_view name(Reg r, Width w) {
  const auto i = number(r);
  switch (w) {
    case Width::W8:
      return kNames8[i];
    case Width::W16:
      return kNames16[i];
    case Width::W32:
      return kNames32[i];
    case Width::W64:
      return kNames64[i];
  }
  return "?";
}

std::string_view name(Cond c) {
  return kCondNames[static_cast<uint8_t>(c)];
}

std::string_view name(Width w) {
  switch (w) {
    case Width::W8:
      return "W8";
    case Width::W16:
      return "W16";
    case Width::W32:
      return "W32";
    case Width::W64:
      return "W64";
  }
  return "?";
}

}  // namespace bpfdiff::jit::x86
