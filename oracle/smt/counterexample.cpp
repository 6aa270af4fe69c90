#include "oracle/smt/counterexample.hpp"

#include <vector>

#include "oracle/smt/bpf_model.hpp"
#include "oracle/smt/model_eval.hpp"
#include "vm/isa/encode.hpp"
#include "vm/text/data_file.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::oracle::smt {
namespace {

void append(std::vector<isa::RawInsn>& slots, const std::array<isa::RawInsn, 2>& pair) {
  slots.push_back(pair[0]);
  slots.push_back(pair[1]);
}

}  // namespace

std::string data_comment_lines(std::string_view comment) {
  std::string out;
  std::size_t start = 0;
  while (start <= comment.size()) {
    const std::size_t end = comment.find('\n', start);
    const std::string_view line =
        comment.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!line.empty()) out += "# " + std::string(line) + "\n";
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

Result<std::string> counterexample_data(const CounterexampleInput& in, std::string_view comment) {
  const isa::FormInfo& fi = isa::info(in.form);
  if (!covers(in.form)) return make_error("counterexample: " + std::string(fi.name) + " is not modelled");
  if (in.dst_reg > 9 || in.src_reg > 9) return make_error("counterexample: registers must be r0..r9");
  const bool reg_source = fi.sem.source == isa::Source::Reg && fi.sem.family != isa::Family::Endian;
  const bool is_jump = fi.sem.family == isa::Family::Jump;
  const bool unconditional = is_jump && fi.sem.cond == isa::JmpCond::Always;
  const uint64_t src_value = !reg_source                ? imm_operand_value(in.imm)
                             : in.src_reg == in.dst_reg ? in.dst_value
                                                        : in.src_value;

  // Forms whose imm is unused (neg, ja, the byte-order widths) keep the table's value.
  const int32_t imm_field = fi.rules.imm == isa::ValueRule::Any ? in.imm : 0;

  std::vector<isa::RawInsn> slots;
  if (!unconditional) append(slots, isa::encode_lddw_imm64(in.dst_reg, in.dst_value));
  if (reg_source && !unconditional && in.src_reg != in.dst_reg) {
    append(slots, isa::encode_lddw_imm64(in.src_reg, in.src_value));
  }

  ConcreteModel model;
  uint64_t expected = 0;
  if (is_jump) {
    // Taken skips to `mov r0, 1`; not taken falls into `mov r0, 0`. r0 is
    // written only after the jump, so the operands may live in r0.
    auto taken = model.branch_taken(in.form, in.dst_value, src_value);
    if (!taken) return taken.error();
    expected = *taken ? 1 : 0;
    const bool long_jump = fi.syntax == isa::Syntax::LongOffset;
    slots.push_back(isa::encode(in.form, in.dst_reg, reg_source ? in.src_reg : 0, long_jump ? 0 : 2,
                                long_jump ? 2 : imm_field));
    slots.push_back(isa::encode(isa::Form::mov32_imm, 0, 0, 0, 0));
    slots.push_back(isa::encode(isa::Form::exit));
    slots.push_back(isa::encode(isa::Form::mov32_imm, 0, 0, 0, 1));
    slots.push_back(isa::encode(isa::Form::exit));
  } else {
    auto value = model.dst_result(in.form, in.dst_value, src_value);
    if (!value) return value.error();
    expected = *value;
    slots.push_back(isa::encode(in.form, in.dst_reg, reg_source ? in.src_reg : 0, 0, imm_field));
    if (in.dst_reg != 0) slots.push_back(isa::encode(isa::Form::mov_reg, 0, in.dst_reg));
    slots.push_back(isa::encode(isa::Form::exit));
  }

  text::DataTest test;
  test.asm_source = text::disassemble(slots);
  test.result = expected;
  return data_comment_lines(comment) + text::format_data_test(test);
}

}  // namespace bpfdiff::oracle::smt
