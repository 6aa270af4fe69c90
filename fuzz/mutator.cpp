#include "fuzz/mutator.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/program_edit.hpp"
#include "fuzz/raw_input.hpp"
#include "fuzz/values.hpp"
#include "vm/isa/encode.hpp"
#include "vm/isa/raw.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {
namespace {

using Slots = std::vector<isa::RawInsn>;

// Programs grow by insertion; past this many slots, only shrinking edits run.
constexpr std::size_t kMaxSlots = 512;

struct Parsed {
  std::vector<uint8_t> prefix;
  Slots slots;
  std::vector<uint8_t> memory;
};

Parsed parse(const uint8_t* data, std::size_t size, std::size_t prefix) {
  Parsed p;
  const std::size_t n = std::min(prefix, size);
  p.prefix.assign(data, data + n);
  p.prefix.resize(prefix, 0);
  const RawInput in = split_raw_input({data + n, size - n});
  p.slots = isa::decode_slots(in.program);
  p.memory.assign(in.memory.begin(), in.memory.end());
  return p;
}

// Writes `p` into out[0, max_size): the memory is cut first, then trailing
// instructions, so the program stays whole slots.
std::size_t serialize(Parsed& p, uint8_t* out, std::size_t max_size) {
  const std::size_t fixed = p.prefix.size() + 4;
  if (max_size < fixed) return 0;
  while (!p.slots.empty() && fixed + p.slots.size() * isa::kSlotBytes > max_size)
    p.slots.pop_back();
  const std::size_t room = max_size - fixed - p.slots.size() * isa::kSlotBytes;
  if (p.memory.size() > room) p.memory.resize(room);
  const std::vector<uint8_t> program = isa::encode_slots(p.slots);
  const std::vector<uint8_t> raw = join_raw_input(program, p.memory);
  // memcpy from an empty vector's data() (possibly null) is undefined, even for 0 bytes.
  if (!p.prefix.empty()) std::memcpy(out, p.prefix.data(), p.prefix.size());
  std::memcpy(out + p.prefix.size(), raw.data(), raw.size());
  return p.prefix.size() + raw.size();
}

uint8_t draw_register(ByteSource& rng, isa::RegRule rule) {
  switch (rule) {
    case isa::RegRule::Zero:
      return 0;
    case isa::RegRule::Readable:
      // r10 as a base is what makes stack traffic in bounds: favour it a little.
      return rng.chance(0.2) ? isa::kFramePointer : static_cast<uint8_t>(rng.below(isa::kNumRegisters));
    case isa::RegRule::Writable:
      return static_cast<uint8_t>(rng.below(isa::kNumRegisters - 1));
  }
  return 0;
}

int16_t draw_offset(ByteSource& rng, const isa::FormInfo& info) {
  switch (info.sem.family) {
    case isa::Family::Jump:
      return static_cast<int16_t>(rng.range(-2, 4));
    case isa::Family::Load:
    case isa::Family::LoadSigned:
    case isa::Family::StoreImm:
    case isa::Family::StoreReg:
    case isa::Family::Atomic: {
      static constexpr std::array<int16_t, 10> kOffsets = {0, -8, -16, -512, -1, 1, 4, 8, 511, -513};
      return rng.pick(std::span<const int16_t>(kOffsets));
    }
    case isa::Family::Alu:
    case isa::Family::Endian:
    case isa::Family::Call:
    case isa::Family::Exit:
    case isa::Family::Lddw:
    case isa::Family::PacketLoad:
      return static_cast<int16_t>(draw_imm(rng));
  }
  return 0;
}

// A fresh instruction of a random form, fields drawn the way the form wants
// them (one slot, or two for lddw).
Slots random_instruction(ByteSource& rng) {
  const auto forms = isa::all_forms();
  const isa::FormInfo& info = forms[rng.below(static_cast<uint32_t>(forms.size()))];
  const uint8_t dst = draw_register(rng, info.rules.dst);
  const uint8_t src = draw_register(rng, info.rules.src);
  const int16_t off = info.rules.off == isa::ValueRule::Any ? draw_offset(rng, info) : 0;
  int32_t imm = info.rules.imm == isa::ValueRule::Any ? draw_imm(rng) : 0;
  if (info.sem.family == isa::Family::Call && info.sem.call == isa::CallKind::Local)
    imm = static_cast<int32_t>(rng.range(0, 4));
  if (info.slots == 2) {
    const auto pair = isa::encode_lddw(info.form, dst, imm, draw_imm(rng));
    return {pair[0], pair[1]};
  }
  return {isa::encode(info.form, dst, src, off, imm)};
}

// The positions of whole instructions: mutations never split an lddw.
struct Position {
  std::size_t begin = 0;
  std::size_t end = 0;
};

Position pick_instruction(ByteSource& rng, const Slots& slots) {
  const std::vector<std::size_t> starts = instruction_starts(slots);
  const std::size_t i = rng.below(static_cast<uint32_t>(starts.size()));
  return {starts[i], i + 1 < starts.size() ? starts[i + 1] : slots.size()};
}

void set_if(Slots& slots, std::optional<Slots> edited) {
  if (edited) slots = std::move(*edited);
}

// One structural edit of `slots`. Each case leaves whole slots.
void mutate_slots(ByteSource& rng, Slots& slots) {
  if (slots.empty()) {
    slots = random_instruction(rng);
    slots.push_back(isa::encode(isa::Form::exit));
    return;
  }
  const Position at = pick_instruction(rng, slots);
  isa::RawInsn& insn = slots[at.begin];
  const auto form = isa::find_form(insn);
  switch (rng.below(10)) {
    case 0: {  // another form, same operands where they fit
      const auto forms = isa::all_forms();
      const isa::FormInfo& info = forms[rng.below(static_cast<uint32_t>(forms.size()))];
      if (info.slots != at.end - at.begin) break;  // would split or merge an lddw
      const isa::RawInsn swapped = isa::encode(info.form, insn.dst, insn.src, insn.off, insn.imm);
      insn = swapped;
      break;
    }
    case 1:
      insn.dst = draw_register(rng, form ? isa::info(*form).rules.dst : isa::RegRule::Readable);
      break;
    case 2:
      insn.src = draw_register(rng, form ? isa::info(*form).rules.src : isa::RegRule::Readable);
      break;
    case 3:
      insn.off = form ? draw_offset(rng, isa::info(*form)) : static_cast<int16_t>(draw_imm(rng));
      break;
    case 4:
      insn.imm = draw_imm(rng);
      if (at.end - at.begin == 2 && rng.chance(0.5)) slots[at.begin + 1].imm = draw_imm(rng);
      break;
    case 5: {  // insert
      if (slots.size() >= kMaxSlots) break;
      const Slots fresh = random_instruction(rng);
      set_if(slots, insert_slots(slots, rng.chance(0.5) ? at.begin : at.end, fresh));
      break;
    }
    case 6:  // delete
      if (at.end - at.begin < slots.size()) set_if(slots, remove_slots(slots, at.begin, at.end));
      break;
    case 7: {  // duplicate
      if (slots.size() >= kMaxSlots) break;
      const Slots copy(slots.begin() + static_cast<std::ptrdiff_t>(at.begin),
                       slots.begin() + static_cast<std::ptrdiff_t>(at.end));
      set_if(slots, insert_slots(slots, at.end, copy));
      break;
    }
    case 8: {  // aim a jump at an instruction start
      const TargetField field = target_field(insn);
      if (field == TargetField::None) break;
      const Position target = pick_instruction(rng, slots);
      const int64_t delta = static_cast<int64_t>(target.begin) - static_cast<int64_t>(at.begin) - 1;
      if (field == TargetField::Off) {
        insn.off = static_cast<int16_t>(std::clamp<int64_t>(delta, INT16_MIN, INT16_MAX));
      } else {
        insn.imm = static_cast<int32_t>(delta);
      }
      break;
    }
    default: {  // end the program properly: most validators insist on it
      const auto last = isa::find_form(slots.back());
      if (!last || isa::info(*last).sem.family != isa::Family::Exit) {
        if (slots.size() < kMaxSlots) slots.push_back(isa::encode(isa::Form::exit));
      }
      break;
    }
  }
}

}  // namespace

std::size_t mutate_raw_input(uint8_t* data, std::size_t size, std::size_t max_size, uint64_t seed,
                             const RawMutatorConfig& config) {
  ByteSource rng(seed);
  // A share of plain byte mutation keeps what the structured edits cannot
  // reach (unknown opcodes, reserved fields, the memory bytes, the length).
  if (config.fallback != nullptr && rng.chance(0.2)) return config.fallback(data, size, max_size);
  Parsed p = parse(data, size, config.prefix);
  if (config.prefix > 0 && rng.chance(0.05)) p.prefix[0] = rng.byte();
  const uint32_t edits = 1 + rng.below(3);
  for (uint32_t i = 0; i < edits; ++i)
    mutate_slots(rng, p.slots);
  if (!p.memory.empty() && rng.chance(0.1))
    p.memory[rng.below(static_cast<uint32_t>(p.memory.size()))] = rng.byte();
  return serialize(p, data, max_size);
}

std::size_t crossover_raw_inputs(const uint8_t* data1, std::size_t size1, const uint8_t* data2,
                                 std::size_t size2, uint8_t* out, std::size_t max_out, uint64_t seed,
                                 const RawMutatorConfig& config) {
  ByteSource rng(seed);
  Parsed a = parse(data1, size1, config.prefix);
  const Parsed b = parse(data2, size2, config.prefix);
  const std::vector<std::size_t> starts_a = instruction_starts(a.slots);
  const std::vector<std::size_t> starts_b = instruction_starts(b.slots);
  const std::size_t cut_a =
      starts_a.empty() ? 0 : starts_a[rng.below(static_cast<uint32_t>(starts_a.size()))];
  const std::size_t cut_b =
      starts_b.empty() ? 0 : starts_b[rng.below(static_cast<uint32_t>(starts_b.size()))];
  a.slots.resize(cut_a);
  a.slots.insert(a.slots.end(), b.slots.begin() + static_cast<std::ptrdiff_t>(cut_b), b.slots.end());
  if (a.slots.size() > kMaxSlots) a.slots.resize(kMaxSlots);
  return serialize(a, out, max_out);
}

}  // namespace bpfdiff::fuzz
