#pragma once
// The verifier-stress generator's insides (verifier_stress.hpp is its
// interface), shared by the files that implement it, one per thing
// they generate:
//   verifier_stress.cpp           the frame, the input memory and the loop that draws patterns;
//   verifier_stress_guards.cpp    unknown values, operations on them, guards and bounded accesses;
//   verifier_stress_patterns.cpp  the patterns (spills, atomics, joins, dead branches, calls, loops)
//                                 and the subprogram the calls go to;
//   verifier_stress_maps.cpp      the map-value (array) and hash-map patterns;
//   verifier_stress_edges.cpp     the edge-branch pattern.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/program_builder.hpp"
#include "fuzz/values.hpp"
#include "fuzz/verifier_stress.hpp"
#include "vm/isa/encode.hpp"

namespace bpfdiff::fuzz::verifier_stress {

using isa::Form;
using Label = ProgramBuilder::Label;

constexpr uint8_t kFp = isa::kFramePointer;
constexpr uint8_t kMem = 6;  // holds the input memory for the whole entry function
// Frame layout of the entry function: a 64-byte arena of scalars (variable
// offset accesses, spills, atomics), a slot only pointers are spilled to
// (so no pointer byte is ever read as part of a scalar), and a slot the
// subprogram reads or writes through the pointer it is given.
constexpr int16_t kArena = 64;
constexpr int16_t kPointerSlot = -72;
constexpr int16_t kCallSlot = -80;
constexpr int16_t kMapKeySlot = -88;  // the key of a map lookup (written in the setup too)
// A hash map's key (up to 16 bytes) and an update's value (up to 32 bytes),
// below the rest; the setup writes them only in programs with a hash map.
constexpr int16_t kHashKeySlot = -104;
constexpr uint32_t kHashKeyArea = 16;
constexpr int16_t kHashValueSlot = -136;
constexpr uint32_t kHashValueArea = 32;
// Most slots one pattern emits (a loop with its body, guards and access).
constexpr std::size_t kMaxPatternSlots = 40;
// The scratch registers: everything but r6 (the memory) and r10.
constexpr std::array<uint8_t, 9> kScratch = {0, 1, 2, 3, 4, 5, 7, 8, 9};

// What a value the verifier cannot know looks like after its load.
struct Unknown {
  uint8_t reg;
  unsigned bits;  // width loaded: 8, 16, 32, 64
  bool sign_extended;
};

// A subprogram's behaviour, one per program.
enum class SubKind : uint8_t { WritesSlot, ReadsSlot, ReturnsArg };

inline bool allowed(Form f, isa::IsaVersion v) {
  return static_cast<uint8_t>(isa::info(f).version) <= static_cast<uint8_t>(v);
}

class StressGenerator {
 public:
  StressGenerator(ByteSource& src, const VerifierStressOptions& opt) : src_(src), opt_(opt) {
    v4_ = allowed(Form::sdiv_imm, opt.isa_version);
  }

  GeneratedCase run(StressPatterns* patterns);

 private:
  // ---- emission -------------------------------------------------------------

  void emit(Form f, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0) {
    b_.emit(isa::encode(f, dst, src, off, imm));
  }
  void mark(StressPattern p) { patterns_ |= StressPatterns{1} << static_cast<unsigned>(p); }
  bool doubt() { return src_.chance(opt_.doubt_rate); }

  // r6 = memory; the frame written before anything reads it; r0 = 0.
  void setup();

  std::vector<uint8_t> make_memory(uint64_t seed) const;

  static uint64_t splitmix(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

  // Distinct scratch registers.
  template <std::size_t N>
  std::array<uint8_t, N> regs() {
    std::array<uint8_t, kScratch.size()> pool = kScratch;
    for (std::size_t i = 0; i < N; ++i)
      std::swap(pool[i], pool[i + src_.below(static_cast<uint32_t>(pool.size() - i))]);
    std::array<uint8_t, N> out{};
    std::copy_n(pool.begin(), N, out.begin());
    return out;
  }

  // ---- values the verifier cannot know -------------------------------------------

  // `reg = *(size *)(r6 + off)`, sometimes sign-extending (v4).
  Unknown load_unknown(uint8_t reg);

  // An in-bounds offset of an n-byte access, aligned to n most of the time.
  int16_t memory_offset(unsigned n);

  // ---- operations on a value before it is guarded ---------------------------------

  void transform(uint8_t v);

  void one_op(uint8_t v);

  // A scratch register other than v and reserved_.
  uint8_t other_than(uint8_t v);

  // `v /= d` or `v %= d` with d loaded and masked so that it is often 0.
  void div_by_unknown(uint8_t v);

  // ---- guard and access ----------------------------------------------------------

  // Guards v into [0, bound] (or, doubtfully, something like it), then
  // accesses `n` bytes at base + v + off, where the base is the memory or the
  // stack arena; bound = area - n - off. Everything jumps to one label past
  // the access. When the caller knows v <= known_max by construction (a
  // spilled constant, a masked value), the access sometimes goes unguarded,
  // placed so that known_max fits: the verifier then has to carry the bound
  // through spills, calls and atomics itself.
  void guard_and_access(uint8_t v, int64_t known_max = -1);

  void guard(uint8_t v, int32_t bound, Label skip);

  // `p = base; p += v; load/store n bytes at [p + off]`. Stack accesses
  // must be aligned, a variable offset included: v is made a multiple of n
  // first (its range stays within the bound) and off is rounded down.
  void access(uint8_t v, bool stack, unsigned n, int16_t off);

  // ---- the patterns ----------------------------------------------------------------

  void pattern();

  // INT_MIN / -1 and INT_MIN % -1 (RFC 9669: INT_MIN and 0), the divisor a
  // constant or a register, then the result guarded and used.
  void sdiv_overflow();

  // A constant or bounded scalar spilled at one width and filled at the
  // same or another width and offset, sometimes with an overlapping write
  // in between, then used as an offset.
  void spill_fill();

  // The memory pointer (or a frame pointer) spilled to its slot, filled
  // whole and dereferenced; doubtfully with a byte of the slot overwritten
  // in between (the fill is then a scalar: the kernel must reject).
  void spill_pointer();

  // An atomic operation on an arena slot or on the memory, its fetched
  // value (and the slot's new contents) used as offsets.
  void atomic();

  // Two paths meet with different values in v: the second reaching the
  // join is pruned against the first unless v's value matters. The values
  // are in bounds, or (doubtfully) one is not and nothing checks.
  void join();

  // A branch that is dead on every run, in front of an access that would be
  // out of bounds: the verifier must see it is dead. Most conditions follow
  // from bounds or known bits; one (v - v != 0) the verifier may not see.
  void dead_branch();

  // A call of the subprogram with r1 = a pointer into this frame (the call
  // slot) and r2 = a bounded value; what comes back is used as an offset.
  void call();

  void subprogram();

  // `c = unknown & 7; c += 1; head: body; c -= 1; if c != 0 goto head`.
  void loop();

  // A value (unknown, or a constant) through up to two operations, then a
  // branch against a threshold at the edge of its range, computed faithfully
  // or the way a slipped verifier would; both paths valid, each writing its
  // own word into the memory (verifier_stress_edges.cpp).
  void edge_branch();

  // An array map value pointer (verifier_stress_maps.cpp): a lookup with a
  // constant or unknown key, the null check done plainly, on a copy, after
  // a spill and fill, or (doubtfully) not at all; then a value read from
  // the map (or the memory, or an atomic's fetch) transformed, guarded and
  // used as a variable offset into the value, or the pointer spilled,
  // filled and dereferenced.
  void map_value();
  // The array map of a program that has one, its contents drawn like the memory's.
  vm::MapDef make_map(uint64_t seed) const;
  // q = the lookup's result in r0 and, unless `unchecked`, a check that it
  // is not null (plain, inverted, on a copy, around a spill and fill, or the
  // 32-bit one the verifier refuses) that jumps to `skip` when it is.
  void null_check(uint8_t q, Label skip, bool unchecked);
  // A value pointer q used: a word read from the value (or the memory, or an
  // atomic's fetch from the value) as a variable offset into it, or q
  // spilled, filled and used so.
  void use_value(uint8_t q, uint8_t v, uint32_t value_size);
  // An access of n bytes at [q + v + off] after v is guarded into the value.
  void map_access(uint8_t q, uint8_t v, uint32_t value_size);

  // A hash map (verifier_stress_maps.cpp): a key written on the stack in
  // stores of varied widths (from a constant or a value the verifier cannot
  // know), then a lookup (null-checked as above, or, at
  // hash_unchecked_rate, not at all: the kernel must refuse), an update
  // (the value from constants and unknowns, every flag) or a delete, whose
  // result is stored to the memory and sometimes used as a guarded offset.
  void hash_value();
  void write_hash_key(uint8_t v);
  // r2 = the key's address (fp + kHashKeySlot, or, for keys of 8 bytes at
  // most, that plus a masked unknown), then r1 = map `index`.
  void hash_key_pointer(uint8_t v, int32_t index);
  // The hash map of a program that has one: at hash_seeded_rate, with 1 to
  // max_entries starting entries whose keys write_hash_key stores (a small
  // number in the first bytes, zeros after it), their values drawn like the
  // array map's; otherwise empty, as Linux creates it.
  vm::MapDef make_hash_map(uint64_t seed) const;

  ByteSource& src_;
  const VerifierStressOptions& opt_;
  ProgramBuilder b_;
  StressPatterns patterns_ = 0;
  uint32_t mem_size_ = 16;
  bool v4_ = true;
  SubKind sub_kind_ = SubKind::WritesSlot;
  Label sub_label_ = 0;
  bool sub_used_ = false;
  // The program's array map (when has_map_): value size and entries.
  bool has_map_ = false;
  uint32_t map_value_size_ = 16;
  uint32_t map_entries_ = 1;
  // The program's hash map (when has_hash_), map 1 after the array or map 0.
  bool has_hash_ = false;
  uint32_t hash_key_size_ = 4;
  uint32_t hash_value_size_ = 16;
  uint32_t hash_entries_ = 2;
  // A register other_than() never returns (a live map value pointer), or 0xff.
  uint8_t reserved_ = 0xff;
};

}  // namespace bpfdiff::fuzz::verifier_stress
