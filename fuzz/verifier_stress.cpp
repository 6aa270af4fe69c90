#include "fuzz/verifier_stress_generator.hpp"

namespace bpfdiff::fuzz {
namespace verifier_stress {
GeneratedCase StressGenerator::run(StressPatterns* patterns) {
  const std::size_t total = std::clamp(opt_.max_instructions, kMinGeneratedSlots, kMaxGeneratedSlots);
  static constexpr std::array<uint32_t, 6> kSizes = {16, 32, 64, 64, 128, 256};
  mem_size_ = src_.pick(std::span<const uint32_t>(kSizes));
  if (src_.chance(0.3)) mem_size_ = 16 + 8 * src_.below((kMaxGeneratedMemory - 16) / 8 + 1);
  const uint64_t memory_seed = src_.u64();
  sub_kind_ = static_cast<SubKind>(src_.below(3));
  sub_label_ = b_.new_label();
  has_map_ = src_.chance(opt_.map_program_rate);
  uint64_t map_seed = 0;
  if (has_map_) {
    static constexpr std::array<uint32_t, 6> kValueSizes = {8, 16, 24, 32, 48, 64};
    map_value_size_ = src_.pick(std::span<const uint32_t>(kValueSizes));
    map_entries_ = 1 + src_.below(4);
    map_seed = src_.u64();
  }
  has_hash_ = src_.chance(opt_.hash_program_rate);
  if (has_hash_) {
    static constexpr std::array<uint32_t, 6> kKeySizes = {1, 2, 4, 8, 12, 16};
    static constexpr std::array<uint32_t, 4> kValueSizes = {8, 16, 24, 32};
    hash_key_size_ = src_.pick(std::span<const uint32_t>(kKeySizes));
    hash_value_size_ = src_.pick(std::span<const uint32_t>(kValueSizes));
    // Small, so that updates fill it (E2BIG) and lookups find what they put.
    hash_entries_ = 1 + src_.below(4);
  }

  setup();
  // Room for the subprogram (6 slots) and the final exit (2).
  const std::size_t limit = total > 8 + kMaxPatternSlots ? total - 8 : 0;
  while (b_.size() + kMaxPatternSlots <= limit)
    pattern();
  emit(Form::exit);
  if (sub_used_) subprogram();

  GeneratedCase out;
  out.program.name = "verifier-stress";
  out.program.slots = std::move(b_).finish();
  out.memory = make_memory(memory_seed);
  if (has_map_) out.program.maps.push_back(make_map(map_seed));
  // Drawn from the memory's seed rather than the input, so that inputs
  // written before hash maps had starting entries still decode to the same
  // programs.
  if (has_hash_) out.program.maps.push_back(make_hash_map(memory_seed ^ 0x68617368u));
  if (patterns != nullptr) *patterns = patterns_;
  return out;
}

void StressGenerator::setup() {
  emit(Form::mov_reg, kMem, 1);
  const int16_t lowest = has_hash_ ? kHashValueSlot : kMapKeySlot;
  for (int16_t off = -8; off >= lowest; off -= 8)
    emit(Form::stdw, kFp, 0, off, src_.chance(0.5) ? draw_imm(src_) : static_cast<int32_t>(src_.below(64)));
  emit(Form::mov_imm, 0, 0, 0, 0);
}

std::vector<uint8_t> StressGenerator::make_memory(uint64_t seed) const {
  std::vector<uint8_t> mem(mem_size_);
  uint64_t state = seed;
  const std::span<const uint64_t> values = boundary_values();
  for (std::size_t i = 0; i < mem.size(); i += 8) {
    const uint64_t r = splitmix(state);
    uint64_t word = 0;
    switch (r % 4) {
      case 0:  // small values: around every bound the guards use
      case 1:
        word = (r >> 8) % (2 * uint64_t{mem_size_} + 2);
        break;
      case 2:
        word = values[(r >> 8) % values.size()];
        break;
      default:
        word = splitmix(state);
        break;
    }
    word = away_from_pointers(word);
    for (std::size_t j = 0; j < 8 && i + j < mem.size(); ++j)
      mem[i + j] = static_cast<uint8_t>(word >> (8 * j));
  }
  return mem;
}

vm::MapDef StressGenerator::make_map(uint64_t seed) const {
  vm::MapDef m;
  m.name = "stress";
  m.type = vm::MapType::Array;
  m.key_size = 4;
  m.value_size = map_value_size_;
  m.max_entries = map_entries_;
  m.initial_values.resize(std::size_t{map_value_size_} * map_entries_);
  uint64_t state = seed;
  const std::span<const uint64_t> values = boundary_values();
  for (std::size_t i = 0; i < m.initial_values.size(); i += 8) {
    const uint64_t r = splitmix(state);
    // Mostly around the value size, which the guards bound offsets by.
    uint64_t word =
        r % 3 == 2 ? values[(r >> 8) % values.size()] : (r >> 8) % (2 * uint64_t{map_value_size_} + 2);
    word = away_from_pointers(word);
    for (std::size_t j = 0; j < 8; ++j)
      m.initial_values[i + j] = static_cast<uint8_t>(word >> (8 * j));
  }
  return m;
}

}  // namespace verifier_stress

std::string_view stress_pattern_name(StressPattern p) {
  switch (p) {
    case StressPattern::BranchGuard:
      return "branch-guard";
    case StressPattern::Jmp32Guard:
      return "jmp32-guard";
    case StressPattern::LinkedGuard:
      return "linked-guard";
    case StressPattern::AluBounds:
      return "alu-bounds";
    case StressPattern::ShiftBounds:
      return "shift-bounds";
    case StressPattern::MulDivMod:
      return "mul-div-mod";
    case StressPattern::NegBswapMovsx:
      return "neg-bswap-movsx";
    case StressPattern::Subreg32:
      return "subreg32";
    case StressPattern::SignExtLoad:
      return "sign-ext-load";
    case StressPattern::DivByZero:
      return "div-by-zero";
    case StressPattern::SdivOverflow:
      return "sdiv-overflow";
    case StressPattern::SpillConst:
      return "spill-const";
    case StressPattern::SpillScalar:
      return "spill-scalar";
    case StressPattern::SpillPointer:
      return "spill-pointer";
    case StressPattern::PartialSpill:
      return "partial-spill";
    case StressPattern::AtomicStack:
      return "atomic-stack";
    case StressPattern::AtomicMemory:
      return "atomic-memory";
    case StressPattern::JoinPrune:
      return "join-prune";
    case StressPattern::DeadBranch:
      return "dead-branch";
    case StressPattern::StackPtrArith:
      return "stack-ptr-arith";
    case StressPattern::CallStackPtr:
      return "call-stack-ptr";
    case StressPattern::BoundedLoop:
      return "bounded-loop";
    case StressPattern::MapValue:
      return "map-value";
    case StressPattern::EdgeBranch:
      return "edge-branch";
    case StressPattern::HashMap:
      return "hash-map";
    case StressPattern::Count:
      break;
  }
  return "?";
}

GeneratedCase generate_verifier_stress(ByteSource& src, const VerifierStressOptions& opt,
                                       StressPatterns* patterns) {
  return verifier_stress::StressGenerator(src, opt).run(patterns);
}

}  // namespace bpfdiff::fuzz
