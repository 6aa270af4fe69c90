#include "oracle/run/trace.hpp"

#include <algorithm>
#include <cstdio>

#include "oracle/run/hex.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {

TraceRecorder::TraceRecorder(std::span<const isa::RawInsn> slots, TraceSink sink)
    : slots_(slots), sink_(std::move(sink)) {}

vm::TraceFn TraceRecorder::callback() {
  return [this](uint32_t pc, const Registers& regs) { on_step(pc, regs); };
}

void TraceRecorder::on_step(uint32_t pc, const Registers& regs) {
  // The engine reports registers before an instruction, so the effect of the
  // previous one is visible only now.
  if (pending_pc_) emit(regs);
  pending_pc_ = pc;
  pending_regs_ = regs;
}

void TraceRecorder::finish(const Registers& final_regs) {
  if (pending_pc_) emit(final_regs);
  pending_pc_.reset();
}

void TraceRecorder::emit(const Registers& after) {
  TraceStep step;
  step.pc = *pending_pc_;
  if (step.pc < slots_.size()) {
    const isa::RawInsn* next = step.pc + 1 < slots_.size() ? &slots_[step.pc + 1] : nullptr;
    step.text = text::disassemble_one(slots_[step.pc], next);
  }
  for (std::size_t r = 0; r < after.size(); ++r) {
    if (after[r] != pending_regs_[r]) step.changes.push_back(RegChange{static_cast<uint8_t>(r), after[r]});
  }
  sink_(step);
}

std::string format_trace_step(const TraceStep& step) {
  char head[16];
  std::snprintf(head, sizeof head, "%6u: ", step.pc);
  std::string line = head + step.text;
  if (!step.changes.empty()) {
    constexpr std::size_t kChangesColumn = 40;
    line.resize(std::max(line.size() + 1, kChangesColumn), ' ');
    for (std::size_t i = 0; i < step.changes.size(); ++i) {
      if (i != 0) line += ' ';
      line += 'r' + std::to_string(step.changes[i].reg) + '=' + hex_u64(step.changes[i].value);
    }
  }
  return line;
}

}  // namespace bpfdiff::cli
