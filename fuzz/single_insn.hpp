#pragma once
// Single-instruction programs over boundary values: registers are loaded
// with values from the edges of both widths (lddw dst, A; lddw src, B), then
// one instruction of the chosen form runs, then exit. Loads, stores and
// atomics get input memory and stack contents to work on, jumps an observable
// difference between taken and not taken, calls a function to reach.
//
// Every form of the table has a shape here, including the ones a valid
// program cannot hold without helpers or maps (call_helper, the lddw map and
// BTF forms): their programs must be rejected by every engine alike.
#include <cstddef>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/generator.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {

GeneratedCase single_insn_case(isa::Form form, ByteSource& src);

// The form from the first byte, the rest as above: the fuzz target's input.
GeneratedCase single_insn_case(ByteSource& src);

struct SingleInsnCase {
  isa::Form form;
  GeneratedCase c;
};

// A fixed list: `per_form` cases for every form of isa::all_forms(), in table
// order, each from its own seed. The same call always returns the same list.
std::vector<SingleInsnCase> enumerate_single_insn_cases(std::size_t per_form = 8);

}  // namespace bpfdiff::fuzz
