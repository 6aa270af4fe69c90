#include "fuzz/minimize.hpp"

#include <algorithm>
#include <optional>

#include "fuzz/program_edit.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {
namespace {

class Minimizer {
 public:
  Minimizer(MinimizeCase start, const StillFails& still_fails, const MinimizeOptions& options)
      : best_(std::move(start)), still_fails_(still_fails), options_(options) {}

  MinimizeCase run() {
    for (stats_.rounds = 0; stats_.rounds < options_.max_rounds && !out_of_tests();) {
      ++stats_.rounds;
      const std::size_t before = stats_.accepted;
      remove_instructions();
      shrink_memory();
      simplify_operands();
      if (stats_.accepted == before) break;
    }
    return std::move(best_);
  }

  const MinimizeStats& stats() const { return stats_; }

 private:
  bool out_of_tests() {
    if (stats_.tests < options_.max_tests) return false;
    stats_.hit_test_limit = true;
    return true;
  }

  // Keeps `candidate` when it still fails.
  bool attempt(MinimizeCase candidate) {
    if (out_of_tests()) return false;
    ++stats_.tests;
    if (!still_fails_(candidate)) return false;
    best_ = std::move(candidate);
    ++stats_.accepted;
    return true;
  }

  bool attempt_slots(std::vector<isa::RawInsn> slots) {
    MinimizeCase c = best_;
    c.program.slots = std::move(slots);
    return attempt(std::move(c));
  }

  // Slots [begin, end) gone: program arrays keep naming the code they
  // named (a target inside the range names what now stands there), as the
  // repaired jumps do.
  bool attempt_removal(std::vector<isa::RawInsn> slots, std::size_t begin, std::size_t end) {
    MinimizeCase c = best_;
    c.program.slots = std::move(slots);
    for (vm::MapDef& m : c.program.maps) {
      for (auto& entry : m.prog_entries) {
        if (entry.second >= end) {
          entry.second -= static_cast<uint32_t>(end - begin);
        } else if (entry.second > begin) {
          entry.second = static_cast<uint32_t>(begin);
        }
      }
    }
    return attempt(std::move(c));
  }

  // Delta debugging over instructions: chunks of half the program, then a
  // quarter, ... down to single instructions.
  void remove_instructions() {
    std::vector<std::size_t> starts = instruction_starts(best_.program.slots);
    for (std::size_t chunk = std::max<std::size_t>(1, starts.size() / 2);; chunk /= 2) {
      for (std::size_t u = 0; u < starts.size() && !out_of_tests();) {
        const std::size_t begin = starts[u];
        const std::size_t end = u + chunk < starts.size() ? starts[u + chunk] : best_.program.slots.size();
        auto candidate = remove_slots(best_.program.slots, begin, end);
        if (candidate && !candidate->empty() && attempt_removal(std::move(*candidate), begin, end)) {
          starts = instruction_starts(best_.program.slots);  // same u: what followed moved here
        } else {
          u += chunk;
        }
      }
      if (chunk == 1 || out_of_tests()) break;
    }
  }

  void shrink_memory() {
    auto with_memory = [this](std::vector<uint8_t> memory) {
      MinimizeCase c = best_;
      c.memory = std::move(memory);
      return attempt(std::move(c));
    };
    if (best_.memory.empty() || with_memory({})) return;
    while (best_.memory.size() > 1) {
      std::vector<uint8_t> half(best_.memory.begin(),
                                best_.memory.begin() + static_cast<std::ptrdiff_t>(best_.memory.size() / 2));
      if (!with_memory(std::move(half))) break;
    }
    for (std::size_t i = 0; i < best_.memory.size() && !out_of_tests(); ++i) {
      if (best_.memory[i] == 0) continue;
      std::vector<uint8_t> zeroed = best_.memory;
      zeroed[i] = 0;
      with_memory(std::move(zeroed));
    }
  }

  // Tries values of one field, simplest first, keeping the first that fails;
  // repeats from the new value while something is accepted (each accepted
  // value is strictly closer to 0, so this ends).
  // `get` reads the field from a program's slots, `set` writes it.
  template <typename Get, typename Set>
  void shrink_toward_zero(Get get, Set set) {
    for (int guard = 0; guard < 70; ++guard) {
      const int64_t v = get(best_.program.slots);
      if (v == 0) return;
      std::vector<int64_t> candidates = {0};
      if (v > 1) candidates.push_back(1);
      if (v < -1) candidates.push_back(-1);
      if (v / 2 != 0 && v / 2 != 1 && v / 2 != -1) candidates.push_back(v / 2);
      bool moved = false;
      for (const int64_t candidate : candidates) {
        std::vector<isa::RawInsn> slots = best_.program.slots;
        set(slots, candidate);
        if (attempt_slots(std::move(slots))) {
          moved = true;
          break;
        }
      }
      if (!moved) return;
    }
  }

  void lower_register(std::size_t pc, bool dst, int highest) {
    for (int r = 0; r < highest; ++r) {
      std::vector<isa::RawInsn> slots = best_.program.slots;
      uint8_t& field = dst ? slots[pc].dst : slots[pc].src;
      if (r >= field) return;
      field = static_cast<uint8_t>(r);
      if (attempt_slots(std::move(slots))) return;
    }
  }

  void simplify_operands() {
    for (std::size_t i = 0;; ++i) {
      const std::vector<std::size_t> starts = instruction_starts(best_.program.slots);
      if (i >= starts.size() || out_of_tests()) return;
      const std::size_t pc = starts[i];
      const auto form = isa::find_form(best_.program.slots[pc]);
      if (!form) continue;
      const isa::FormInfo& info = isa::info(*form);
      const TargetField target = target_field(best_.program.slots[pc]);

      if (info.sem.family == isa::Family::Lddw && info.sem.lddw == isa::LddwKind::Imm64 &&
          pc + 1 < best_.program.slots.size()) {
        using Slots = std::vector<isa::RawInsn>;
        shrink_toward_zero(
            [pc](const Slots& s) {
              return static_cast<int64_t>(
                  static_cast<uint64_t>(static_cast<uint32_t>(s[pc].imm)) |
                  (static_cast<uint64_t>(static_cast<uint32_t>(s[pc + 1].imm)) << 32));
            },
            [pc](Slots& s, int64_t v) {
              const auto u = static_cast<uint64_t>(v);
              s[pc].imm = static_cast<int32_t>(static_cast<uint32_t>(u));
              s[pc + 1].imm = static_cast<int32_t>(static_cast<uint32_t>(u >> 32));
            });
      } else if (info.rules.imm == isa::ValueRule::Any) {
        if (target == TargetField::Imm) {
          attempt_field_zero(
              pc, [](isa::RawInsn& s) { s.imm = 0; }, best_.program.slots[pc].imm != 0);
        } else {
          shrink_toward_zero(
              [pc](const std::vector<isa::RawInsn>& s) { return static_cast<int64_t>(s[pc].imm); },
              [pc](std::vector<isa::RawInsn>& s, int64_t v) { s[pc].imm = static_cast<int32_t>(v); });
        }
      }
      if (info.rules.off == isa::ValueRule::Any) {
        if (target == TargetField::Off) {
          attempt_field_zero(
              pc, [](isa::RawInsn& s) { s.off = 0; }, best_.program.slots[pc].off != 0);
        } else {
          shrink_toward_zero(
              [pc](const std::vector<isa::RawInsn>& s) { return static_cast<int64_t>(s[pc].off); },
              [pc](std::vector<isa::RawInsn>& s, int64_t v) { s[pc].off = static_cast<int16_t>(v); });
        }
      }
      if (info.rules.dst != isa::RegRule::Zero) lower_register(pc, true, isa::kNumRegisters);
      if (info.rules.src != isa::RegRule::Zero) lower_register(pc, false, isa::kNumRegisters);
    }
  }

  template <typename Set>
  void attempt_field_zero(std::size_t pc, Set set, bool nonzero) {
    if (!nonzero) return;
    std::vector<isa::RawInsn> slots = best_.program.slots;
    set(slots[pc]);
    attempt_slots(std::move(slots));
  }

  MinimizeCase best_;
  const StillFails& still_fails_;
  MinimizeOptions options_;
  MinimizeStats stats_;
};

}  // namespace

MinimizeCase minimize(MinimizeCase start, const StillFails& still_fails, const MinimizeOptions& options,
                      MinimizeStats* stats) {
  Minimizer m(std::move(start), still_fails, options);
  MinimizeCase out = m.run();
  if (stats != nullptr) *stats = m.stats();
  return out;
}

}  // namespace bpfdiff::fuzz
