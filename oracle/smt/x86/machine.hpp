#pragma once
// The symbolic x86-64 machine state for one path: the sixteen 64-bit
// general-purpose registers, the status flags the JIT's branches read, and
// the conditions under which the path would raise #DE, and the host memory
// as one byte-addressed array (every address the code may touch, context
// structure, region table and program data alike). Flags the SDM leaves
// undefined become fresh, unconstrained constants, so a proof can never rely
// on them and the native quickcheck skips comparing them.
#include <z3++.h>

#include <array>
#include <cstdint>
#include <string>

namespace bpfdiff::oracle::smt::x86 {

inline constexpr unsigned kGprCount = 16;
inline constexpr uint8_t kRax = 0, kRcx = 1, kRdx = 2, kRbx = 3, kRsp = 4, kRbp = 5, kRsi = 6, kRdi = 7;

// Names of the registers at each width, for messages: gpr_name(1, 8) == "cl".
std::string gpr_name(uint8_t reg, unsigned bits = 64, bool high_byte = false);

enum class Flag : uint8_t { CF, PF, ZF, SF, OF };
inline constexpr unsigned kFlagCount = 5;
const char* flag_name(Flag f);

struct Machine {
  explicit Machine(z3::context& c);

  // A state whose registers, flags and memory are the constants
  // `<prefix>rax`, ..., `<prefix>cf`, ..., `<prefix>mem`: the universally
  // quantified inputs of a proof.
  static Machine symbolic(z3::context& c, const std::string& prefix = "");

  z3::context& ctx() const { return *ctx_; }
  z3::expr& flag(Flag f) { return flags[static_cast<unsigned>(f)]; }
  const z3::expr& flag(Flag f) const { return flags[static_cast<unsigned>(f)]; }

  // A fresh constant for a value the SDM calls undefined.
  z3::expr undefined_bool();

  std::array<z3::expr, kGprCount> gpr;     // 64-bit bit-vectors
  std::array<z3::expr, kFlagCount> flags;  // Bool
  z3::expr divide_error;                   // Bool: this path raised #DE
  z3::expr memory;                         // Array (64-bit address -> byte)

 private:
  z3::context* ctx_;
  unsigned undefined_count_ = 0;
};

// The host address of offset `offset` of the decoded code: where the code
// was placed is one unknown constant, `code`, so a proof can only rely on
// return addresses being the code's own offsets, never on their values.
z3::expr code_address(z3::context& c, uint32_t offset);

}  // namespace bpfdiff::oracle::smt::x86
