#include "fuzz/signature.hpp"

#include <limits>

#include "fuzz/program_edit.hpp"
#include "oracle/first_divergence.hpp"
#include "vm/isa/encode.hpp"
#include "vm/isa/families.hpp"
#include "vm/isa/table.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/jit/options.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::fuzz {
namespace {

constexpr std::string_view kTitlePrefix = "divergence ";

oracle::BudgetRunner runner(oracle::Engine& engine, const vm::Program& program,
                            const oracle::EngineInput& input) {
  return [&engine, &program, &input](uint64_t budget) {
    oracle::EngineInput in = input;
    in.limits.instruction_budget = budget;
    return engine.run(program, in);
  };
}

std::string form_name_at(const vm::Program& program, uint32_t pc) {
  if (pc >= program.slots.size()) return std::string(kUnknownForm);
  const auto form = isa::find_form(program.slots[pc]);
  return form ? std::string(isa::info(*form).name) : std::string(kUnknownForm);
}

bool is_jit(std::string_view engine) {
  return jit::options_named(engine).has_value();
}

// Whether the JIT runs `pc` as the last of a basic block of several instructions.
bool ends_a_longer_block(const vm::Program& program, uint32_t pc) {
  auto loaded = vm::validate(program, oracle::default_helpers());
  if (!loaded || pc >= loaded->insns.size()) return false;
  const jit::BlockInfo blocks = jit::analyse_blocks(*loaded);
  return !blocks.leader[pc];
}

bool straight_line(const isa::RawInsn& insn) {
  const auto form = isa::find_form(insn);
  if (!form) return false;
  return !isa::transfers_control(isa::info(*form).sem.family);
}

// Refines `s` (found at the end of a multi-instruction JIT block) to the
// instruction of that block that goes wrong.
void refine_within_block(Signature& s, const vm::Program& program, const oracle::EngineInput& input,
                         oracle::Engine& reference, oracle::Engine& other) {
  auto split = split_into_single_instruction_blocks(program);
  if (!split) return;
  oracle::EngineInput in = input;
  // Every executed instruction is now followed by at most one inserted jump.
  const uint64_t budget = input.limits.instruction_budget;
  in.limits.instruction_budget = budget > std::numeric_limits<uint64_t>::max() / 2 ? budget : 2 * budget;
  const oracle::FirstDivergence d = oracle::find_first_divergence(
      runner(reference, split->program, in), runner(other, split->program, in), in.limits.instruction_budget);
  if (d.kind != oracle::FirstDivergence::Kind::AtInstruction || !d.pc || d.differences.empty()) return;
  if (normalize_field(d.differences.front().field) != s.field) return;
  // The culprit: the original instruction at or right before the pc named.
  std::size_t culprit = kInsertedSlot;
  for (const std::size_t start : instruction_starts(split->program.slots)) {
    if (start > *d.pc) break;
    if (split->origin[start] != kInsertedSlot) culprit = split->origin[start];
  }
  if (culprit == kInsertedSlot) return;
  s.pc = static_cast<uint32_t>(culprit);
  s.form = form_name_at(program, *s.pc);
}

}  // namespace

std::string file_safe(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-' || c == '+';
    out += safe ? c : '_';
  }
  return out;
}

std::string Signature::title() const {
  return std::string(kTitlePrefix) + reference + " vs " + engine + ": " + field + " at " + form;
}

std::string Signature::key() const {
  return file_safe(reference + "-vs-" + engine + "." + field + "." + form);
}

std::string normalize_field(std::string_view field) {
  const std::size_t bracket = field.find('[');
  return std::string(bracket == std::string_view::npos ? field : field.substr(0, bracket));
}

std::optional<Signature> parse_divergence_title(std::string_view title) {
  if (title.substr(0, kTitlePrefix.size()) != kTitlePrefix) return std::nullopt;
  title.remove_prefix(kTitlePrefix.size());
  const std::size_t vs = title.find(" vs ");
  const std::size_t colon = title.find(": ");
  const std::size_t at = title.rfind(" at ");
  if (vs == std::string_view::npos || colon == std::string_view::npos || at == std::string_view::npos ||
      !(vs < colon && colon < at)) {
    return std::nullopt;
  }
  Signature s;
  s.reference = std::string(title.substr(0, vs));
  s.engine = std::string(title.substr(vs + 4, colon - vs - 4));
  s.field = std::string(title.substr(colon + 2, at - colon - 2));
  s.form = std::string(title.substr(at + 4));
  if (s.reference.empty() || s.engine.empty() || s.field.empty() || s.form.empty()) return std::nullopt;
  return s;
}

std::optional<Signature> divergence_signature(const vm::Program& program, const oracle::EngineInput& input,
                                              oracle::Engine& reference, oracle::Engine& other) {
  const oracle::Outcome left = reference.run(program, input);
  const oracle::Outcome right = other.run(program, input);
  const std::vector<oracle::Difference> diffs =
      oracle::compare(left, right, oracle::CompareRules::everything());
  if (diffs.empty()) return std::nullopt;

  Signature s;
  s.reference = std::string(reference.name());
  s.engine = std::string(other.name());
  s.field = normalize_field(diffs.front().field);
  s.form = std::string(kUnknownForm);
  const oracle::FirstDivergence d = oracle::find_first_divergence(
      runner(reference, program, input), runner(other, program, input), input.limits.instruction_budget);
  switch (d.kind) {
    case oracle::FirstDivergence::Kind::Agree:
      return s;  // does not reproduce under bisection: keep what the full runs say
    case oracle::FirstDivergence::Kind::BeforeExecution:
      if (!d.differences.empty()) s.field = normalize_field(d.differences.front().field);
      s.form = std::string(kBeforeExecution);
      return s;
    case oracle::FirstDivergence::Kind::AtInstruction:
      break;
  }
  if (!d.differences.empty()) s.field = normalize_field(d.differences.front().field);
  if (!d.pc) return s;
  s.pc = *d.pc;
  s.form = form_name_at(program, *d.pc);
  if ((is_jit(s.reference) || is_jit(s.engine)) && ends_a_longer_block(program, *d.pc)) {
    refine_within_block(s, program, input, reference, other);
  }
  return s;
}

std::optional<Signature> first_signature(const vm::Program& program, const oracle::EngineInput& input,
                                         oracle::Engine& reference,
                                         const std::vector<oracle::Engine*>& others) {
  for (oracle::Engine* engine : others) {
    if (auto s = divergence_signature(program, input, reference, *engine)) return s;
  }
  return std::nullopt;
}

std::optional<SplitProgram> split_into_single_instruction_blocks(const vm::Program& program) {
  const std::vector<isa::RawInsn>& slots = program.slots;
  const std::vector<std::size_t> starts = instruction_starts(slots);
  std::vector<isa::RawInsn> edited;
  std::vector<std::size_t> origin;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::size_t pc = starts[i];
    const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : slots.size();
    for (std::size_t p = pc; p < end; ++p) {
      edited.push_back(slots[p]);
      origin.push_back(p);
    }
    // Not after the last instruction: `ja +0` there would jump out of the program.
    if (end < slots.size() && straight_line(slots[pc])) {
      edited.push_back(isa::encode(isa::Form::ja));
      origin.push_back(kInsertedSlot);
    }
  }
  auto repaired = retarget(slots, std::move(edited), origin);
  if (!repaired) return std::nullopt;
  SplitProgram out;
  out.program = program;
  out.program.slots = std::move(repaired).value();
  out.origin = std::move(origin);
  // The entry moves with the instruction it names.
  for (std::size_t i = 0; i < out.origin.size(); ++i) {
    if (out.origin[i] == program.entry) {
      out.program.entry = static_cast<uint32_t>(i);
      break;
    }
  }
  return out;
}

}  // namespace bpfdiff::fuzz
