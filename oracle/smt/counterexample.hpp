#pragma once
// A counterexample as a ready-to-run bpf_conformance .data test: the operand
// registers preloaded with lddw, the instruction, then r0 set to what the
// model says (the dst register for ALU and byte-order forms, 1 or 0 for
// whether a jump is taken), and `-- result` holding the model's value. The
// test passes on a correct engine and fails on the one the check caught, so
// `bpfdiff run FILE.data --engine E` reproduces the finding.
#include <cstdint>
#include <string>
#include <string_view>

#include "vm/isa/table.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt {

struct CounterexampleInput {
  isa::Form form = isa::Form::add_reg;  // an Alu, Endian or Jump form
  uint8_t dst_reg = 1;                  // r0..r9
  uint8_t src_reg = 2;                  // Reg forms; may equal dst_reg (then src_value is ignored)
  uint64_t dst_value = 0;
  uint64_t src_value = 0;  // Reg forms
  int32_t imm = 0;         // Imm forms
};

// `comment` becomes '#' lines at the top (say which check failed and how).
// Fails for forms the model does not cover or registers out of range.
Result<std::string> counterexample_data(const CounterexampleInput& in, std::string_view comment);

// `comment` as the '#' lines that open a .data test, one per non-empty line.
std::string data_comment_lines(std::string_view comment);

}  // namespace bpfdiff::oracle::smt
