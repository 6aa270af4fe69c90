#pragma once
// Inside the plain generator (generator.cpp), not an API: what its steps
// share -- the random source, the program being built, the choice of
// registers and offsets -- and the maps a program declares with the helper
// calls on them (generator_helpers.cpp), which a step adds as one unit.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/form_choice.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/program_builder.hpp"
#include "vm/program/maps.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/runtime/run.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::fuzz::detail {

inline constexpr uint8_t kFp = isa::kFramePointer;
inline constexpr int64_t kFrame = vm::kStackFrameBytes;
// Most slots one helper call takes: a key store (two for a 16-byte key), the
// handle (lddw), key and value pointers (two each), flags, the call, r1 put
// back (lddw), and a guarded access through a looked-up value (three).
inline constexpr std::size_t kMaxHelperSlots = 16;

class GeneratorBase {
 protected:
  GeneratorBase(ByteSource& src, const GeneratorOptions& opt) : src_(src), opt_(opt) {}

  // r0..r9 minus the registers the code around must keep (loop counters, a
  // pinned r1). r0 is never protected.
  uint8_t writable_reg() {
    auto r = static_cast<uint8_t>(src_.below(kFp));
    for (int i = 0; i < kFp; ++i, r = static_cast<uint8_t>((r + 1) % kFp)) {
      if ((protected_ & (1u << r)) == 0) return r;
    }
    return 0;
  }

  uint8_t readable_reg() { return static_cast<uint8_t>(src_.below(isa::kNumRegisters)); }

  // Offset in [lo, hi], aligned to `n` three times in four (lo is aligned).
  int64_t offset_in(int64_t lo, int64_t hi, unsigned n) {
    if (hi < lo) return lo;
    return draw_offset(src_, lo, hi, n, src_.chance(0.75));
  }

  // ---- maps and helper calls (generator_helpers.cpp) ----------------------

  // Maps that hold data (arrays and hashes: what lookup, update and delete
  // work on), or program arrays (what tail calls take).
  static bool holds_data(vm::MapType type) { return type != vm::MapType::ProgArray; }

  void declare_maps();
  bool has_map(bool data) const;
  std::optional<uint32_t> some_map(std::optional<vm::MapType> type);
  std::optional<uint32_t> some_data_map();
  void emit_map_handle(uint8_t reg, uint32_t index);
  void emit_bad_handle(uint8_t reg);
  int16_t stack_buffer(uint32_t size);
  void emit_bad_pointer(uint8_t reg, uint32_t size);
  void emit_key(int16_t off, uint32_t size);
  // Takes up to kMaxHelperSlots slots.
  bool helper_call();
  void printk_arguments(bool bad);
  std::optional<uint32_t> map_arguments(vm::HelperId id, bool bad);
  void use_value(uint32_t value_size);
  void tail_call_arguments(bool bad);

  ByteSource& src_;
  const GeneratorOptions& opt_;
  ProgramBuilder b_;
  std::vector<vm::MapDef> maps_;  // what the program declares
  bool r1_pinned_ = true;
  uint16_t protected_ = 0;
};

}  // namespace bpfdiff::fuzz::detail
