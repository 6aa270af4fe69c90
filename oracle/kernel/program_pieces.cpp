#include "oracle/kernel/program_pieces.hpp"

#include <algorithm>
#include <string>

#include "oracle/kernel/full_state_rewrite.hpp"
#include "oracle/kernel/kernel_maps.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

constexpr uint8_t kLddw = 0x18;

std::string target_name(uint32_t slot) {
  return "the tail-call target at slot " + std::to_string(slot);
}

}  // namespace

std::vector<uint32_t> tail_call_target_slots(std::span<const KernelMap> maps) {
  std::vector<uint32_t> slots;
  for (const KernelMap& m : maps) {
    if (m.type != kMapTypeProgArray) continue;
    for (uint32_t k = 0; k < m.max_entries; ++k) {
      const uint32_t target = program_array_target(m, k);
      if (target > 1) slots.push_back(target - 1);  // 0 is empty, 1 the program itself
    }
  }
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  return slots;
}

Result<std::vector<ProgramPiece>> cut_into_pieces(std::span<const isa::RawInsn> program,
                                                  std::span<const uint32_t> targets) {
  const auto n = static_cast<uint32_t>(program.size());
  std::vector<uint32_t> starts{0};
  for (uint32_t t : targets) {
    if (t == 0) continue;
    if (t >= n)
      return make_error(target_name(t) + " is past the program's end (" + std::to_string(n) + " slots)");
    starts.push_back(t);
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());

  // Walk the instructions once: a cut must fall on an instruction's start.
  std::vector<ProgramPiece> pieces;
  std::size_t next_cut = 1;
  uint32_t piece_start = 0;
  uint32_t last = 0;  // the last instruction start seen in the current piece
  const auto close_piece = [&](uint32_t end) -> Result<void> {
    pieces.push_back({piece_start, program.subspan(piece_start, end - piece_start)});
    if (end < n && !ends_flow(program[last])) {
      return make_error(target_name(end) + ": the instruction before it (pc " + std::to_string(last) +
                        ") may run on into it, which a separate kernel program cannot");
    }
    return {};
  };
  for (uint32_t pc = 0; pc < n;) {
    if (next_cut < starts.size() && pc == starts[next_cut]) {
      if (auto ok = close_piece(pc); !ok) return ok.error();
      piece_start = pc;
      ++next_cut;
    }
    last = pc;
    pc += program[pc].opcode == kLddw ? 2 : 1;
    if (next_cut < starts.size() && pc > starts[next_cut]) {
      return make_error(target_name(starts[next_cut]) + " is the second slot of the lddw at pc " +
                        std::to_string(last));
    }
  }
  if (auto ok = close_piece(n); !ok) return ok.error();

  // Every branch, local call and function address stays in its piece.
  for (const ProgramPiece& piece : pieces) {
    const auto end = static_cast<int64_t>(piece.start + piece.insns.size());
    for (uint32_t pc = piece.start; pc < end; pc += program[pc].opcode == kLddw ? 2 : 1) {
      const auto t = code_target(program[pc], pc);
      if (!t || (*t >= piece.start && *t < end)) continue;
      const std::string where = piece.start == 0 ? "the entry's code" : target_name(piece.start) + "'s code";
      return make_error("pc " + std::to_string(pc) + " leads to slot " + std::to_string(*t) + ", outside " +
                        where + " [" + std::to_string(piece.start) + ", " + std::to_string(end) +
                        "): the kernel runs each tail-call target as a program of its own");
    }
  }
  return pieces;
}

}  // namespace bpfdiff::oracle::kernel
