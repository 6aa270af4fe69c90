#pragma once
// Shared driver for the Zydis cross-check sweeps: emit one instruction into a
// fresh Assembler, decode it, compare with the expectation, and keep the
// first few failures (with a listing) for the report.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/jit/x86_zydis_check.hpp"
#include "vm/jit/x86/assembler.hpp"
#include "vm/jit/x86/disasm.hpp"

namespace bpfdiff::jit::x86::testutil {

inline constexpr std::array<Width, 4> kAllWidths = {Width::W8, Width::W16, Width::W32, Width::W64};
inline constexpr std::array<Width, 2> kWideWidths = {Width::W32, Width::W64};

inline std::array<Reg, kRegCount> all_regs() {
  std::array<Reg, kRegCount> out{};
  for (unsigned i = 0; i < kRegCount; ++i)
    out[i] = static_cast<Reg>(i);
  return out;
}

inline std::array<Cond, kCondCount> all_conds() {
  std::array<Cond, kCondCount> out{};
  for (unsigned i = 0; i < kCondCount; ++i)
    out[i] = static_cast<Cond>(i);
  return out;
}

// Every base register with the displacement sizes that change the encoding,
// plus every legal index register with each scale.
inline std::vector<Mem> mem_shapes() {
  std::vector<Mem> out;
  for (Reg base : all_regs()) {
    for (int32_t disp : {0, -1, 127, 128, -129, INT32_MIN})
      out.push_back(mem(base, disp));
  }
  unsigned k = 0;
  for (Reg index : all_regs()) {
    if (index == Reg::rsp) continue;
    for (Scale s : {Scale::S1, Scale::S2, Scale::S4, Scale::S8}) {
      const auto base = static_cast<Reg>((k * 7 + 3) % kRegCount);
      const int32_t disps[] = {0, 8, -0x1000, INT32_MAX};
      out.push_back(mem(base, index, s, disps[k % 4]));
      ++k;
    }
  }
  return out;
}

class Sweep {
 public:
  template <class Emit>
  void check(Emit&& emit, const Expected& expected) {
    Assembler a;
    emit(a);
    ++count_;
    std::string why = a.ok() ? check_decoded(a.code(), expected) : "rejected: " + a.error();
    if (why.empty()) return;
    ++failed_;
    if (reports_.size() < 25)
      reports_.push_back(describe(expected) + ": " + why + "\n" + format_listing(a.code()));
  }

  // Expects no failures and at least `min_count` checked instructions.
  void expect_clean(size_t min_count) const {
    EXPECT_GE(count_, min_count);
    EXPECT_EQ(failed_, 0u) << "of " << count_ << " instructions";
    for (const std::string& r : reports_)
      ADD_FAILURE() << r;
  }

  size_t count() const { return count_; }

 private:
  size_t count_ = 0;
  size_t failed_ = 0;
  std::vector<std::string> reports_;
};

}  // namespace bpfdiff::jit::x86::testutil
