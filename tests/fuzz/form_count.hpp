#pragma once
// Counting the forms in a program, slot by slot (lddw counts once).
#include <array>
#include <cstddef>

#include "vm/isa/table.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::fuzz::testing {

using FormCounts = std::array<std::size_t, isa::kNumForms>;

inline void count_forms(const vm::Program& p, FormCounts& counts) {
  for (std::size_t pc = 0; pc < p.slots.size();) {
    const auto form = isa::find_form(p.slots[pc]);
    if (!form) return;
    ++counts[static_cast<std::size_t>(*form)];
    pc += isa::info(*form).slots;
  }
}

}  // namespace bpfdiff::fuzz::testing
