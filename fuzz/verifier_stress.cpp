#include "fuzz/verifier_stress.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <vector>

#include "fuzz/program_builder.hpp"
#include "fuzz/values.hpp"
#include "vm/isa/encode.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::fuzz {
namespace {

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

bool allowed(Form f, isa::IsaVersion v) {
  return static_cast<uint8_t>(isa::info(f).version) <= static_cast<uint8_t>(v);
}

uint64_t away_from_pointers(uint64_t v) {
  const uint64_t region = v >> vm::kRegionShift;
  const bool looks_like_pointer = region == static_cast<uint64_t>(vm::RegionId::Stack) ||
                                  region == static_cast<uint64_t>(vm::RegionId::Input);
  return looks_like_pointer ? v | (uint64_t{1} << 63) : v;
}

class StressGenerator {
 public:
  StressGenerator(ByteSource& src, const VerifierStressOptions& opt) : src_(src), opt_(opt) {
    v4_ = allowed(Form::sdiv_imm, opt.isa_version);
  }

  GeneratedCase run(StressPatterns* patterns) {
    const std::size_t total = std::clamp(opt_.max_instructions, kMinGeneratedSlots, kMaxGeneratedSlots);
    static constexpr std::array<uint32_t, 6> kSizes = {16, 32, 64, 64, 128, 256};
    mem_size_ = src_.pick(std::span<const uint32_t>(kSizes));
    if (src_.chance(0.3)) mem_size_ = 16 + 8 * src_.below((kMaxGeneratedMemory - 16) / 8 + 1);
    const uint64_t memory_seed = src_.u64();
    sub_kind_ = static_cast<SubKind>(src_.below(3));
    sub_label_ = b_.new_label();

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
    if (patterns != nullptr) *patterns = patterns_;
    return out;
  }

 private:
  // ---- emission -------------------------------------------------------------

  void emit(Form f, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0) {
    b_.emit(isa::encode(f, dst, src, off, imm));
  }
  void mark(StressPattern p) { patterns_ |= StressPatterns{1} << static_cast<unsigned>(p); }
  bool doubt() { return src_.chance(opt_.doubt_rate); }

  // r6 = memory; the frame written before anything reads it; r0 = 0.
  void setup() {
    emit(Form::mov_reg, kMem, 1);
    for (int16_t off = -8; off >= kCallSlot; off -= 8)
      emit(Form::stdw, kFp, 0, off, src_.chance(0.5) ? draw_imm(src_) : static_cast<int32_t>(src_.below(64)));
    emit(Form::mov_imm, 0, 0, 0, 0);
  }

  std::vector<uint8_t> make_memory(uint64_t seed) const {
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
  Unknown load_unknown(uint8_t reg) {
    static constexpr std::array<Form, 4> kLoads = {Form::ldxb, Form::ldxh, Form::ldxw, Form::ldxdw};
    static constexpr std::array<Form, 3> kSigned = {Form::ldxsb, Form::ldxsh, Form::ldxsw};
    const bool sign = v4_ && src_.chance(0.15);
    const Form f =
        sign ? src_.pick(std::span<const Form>(kSigned)) : src_.pick(std::span<const Form>(kLoads));
    const unsigned n = isa::bytes_of(isa::info(f).sem.size);
    if (sign) mark(StressPattern::SignExtLoad);
    emit(f, reg, kMem, memory_offset(n));
    return {reg, 8 * n, sign};
  }

  // An in-bounds offset of an n-byte access, aligned to n most of the time.
  int16_t memory_offset(unsigned n) {
    const uint32_t slots = (mem_size_ - n) / n + 1;
    if (src_.chance(0.85)) return static_cast<int16_t>(n * src_.below(slots));
    return static_cast<int16_t>(src_.below(mem_size_ - n + 1));
  }

  // ---- operations on a value before it is guarded ---------------------------------

  void transform(uint8_t v) {
    const uint32_t ops = src_.below(4);
    for (uint32_t i = 0; i < ops; ++i)
      one_op(v);
  }

  void one_op(uint8_t v) {
    switch (src_.below(8)) {
      case 0: {
        mark(StressPattern::AluBounds);
        static constexpr std::array<Form, 10> kForms = {
            Form::and_imm,   Form::or_imm,   Form::xor_imm,   Form::add_imm,   Form::sub_imm,
            Form::and32_imm, Form::or32_imm, Form::xor32_imm, Form::add32_imm, Form::sub32_imm};
        const Form f = src_.pick(std::span<const Form>(kForms));
        if (isa::info(f).sem.width == isa::Width::W32) mark(StressPattern::Subreg32);
        const int32_t imm =
            src_.chance(0.6) ? static_cast<int32_t>(src_.below(2 * mem_size_)) : draw_imm(src_);
        emit(f, v, 0, 0, imm);
        break;
      }
      case 1: {
        mark(StressPattern::ShiftBounds);
        static constexpr std::array<Form, 6> kForms = {Form::rsh_imm,   Form::lsh_imm,   Form::arsh_imm,
                                                       Form::rsh32_imm, Form::lsh32_imm, Form::arsh32_imm};
        const Form f = src_.pick(std::span<const Form>(kForms));
        const bool wide = isa::info(f).sem.width == isa::Width::W64;
        if (!wide) mark(StressPattern::Subreg32);
        emit(f, v, 0, 0, static_cast<int32_t>(src_.below(wide ? 64 : 32)));
        break;
      }
      case 2: {
        mark(StressPattern::MulDivMod);
        std::vector<Form> forms = {Form::mul_imm,   Form::div_imm,   Form::mod_imm,
                                   Form::mul32_imm, Form::div32_imm, Form::mod32_imm};
        if (v4_)
          forms.insert(forms.end(), {Form::sdiv_imm, Form::smod_imm, Form::sdiv32_imm, Form::smod32_imm});
        const Form f = src_.pick(std::span<const Form>(forms));
        int32_t imm = static_cast<int32_t>(1 + src_.below(16));
        if (src_.chance(0.2)) imm = -imm;
        if (isa::info(f).sem.width == isa::Width::W32) mark(StressPattern::Subreg32);
        emit(f, v, 0, 0, imm);
        break;
      }
      case 3: {
        mark(StressPattern::NegBswapMovsx);
        std::vector<Form> forms = {Form::neg, Form::neg32, Form::be16, Form::be32, Form::le16, Form::le32};
        if (v4_) {
          forms.insert(forms.end(), {Form::bswap16, Form::bswap32, Form::bswap64, Form::movsx8, Form::movsx16,
                                     Form::movsx32, Form::movsx832, Form::movsx1632});
        }
        const Form f = src_.pick(std::span<const Form>(forms));
        const isa::Semantics& s = isa::info(f).sem;
        if (s.family == isa::Family::Alu && s.alu == isa::AluOp::Mov) {
          emit(f, v, v);
        } else {
          emit(f, v);
        }
        break;
      }
      case 4: {
        mark(StressPattern::Subreg32);
        emit(Form::mov32_reg, v, v);  // zero-extension of the low half
        break;
      }
      case 5: {
        // A second unknown combined by register.
        mark(StressPattern::AluBounds);
        const uint8_t w = other_than(v);
        load_unknown(w);
        static constexpr std::array<Form, 8> kForms = {Form::and_reg,   Form::or_reg,  Form::xor_reg,
                                                       Form::add_reg,   Form::sub_reg, Form::and32_reg,
                                                       Form::mul32_reg, Form::rsh_reg};
        const Form f = src_.pick(std::span<const Form>(kForms));
        if (isa::info(f).sem.alu == isa::AluOp::Rsh) emit(Form::and_imm, w, 0, 0, 63);
        emit(f, v, w);
        break;
      }
      case 6:
        div_by_unknown(v);
        break;
      default:
        emit(Form::and_imm, v, 0, 0, static_cast<int32_t>(src_.below(2 * mem_size_)));
        mark(StressPattern::AluBounds);
        break;
    }
  }

  uint8_t other_than(uint8_t v) {
    const auto r = regs<2>();
    return r[0] == v ? r[1] : r[0];
  }

  // `v /= d` or `v %= d` with d loaded and masked so that it is often 0.
  void div_by_unknown(uint8_t v) {
    mark(StressPattern::DivByZero);
    const uint8_t d = other_than(v);
    emit(Form::ldxb, d, kMem, memory_offset(1));
    emit(Form::and_imm, d, 0, 0, static_cast<int32_t>(src_.below(4)));
    std::vector<Form> forms = {Form::div_reg, Form::mod_reg, Form::div32_reg, Form::mod32_reg};
    if (v4_) forms.insert(forms.end(), {Form::sdiv_reg, Form::smod_reg, Form::sdiv32_reg, Form::smod32_reg});
    const Form f = src_.pick(std::span<const Form>(forms));
    if (isa::info(f).sem.width == isa::Width::W32) mark(StressPattern::Subreg32);
    emit(f, v, d);
  }

  // ---- guard and access ----------------------------------------------------------

  // Guards v into [0, bound] (or, doubtfully, something like it), then
  // accesses `n` bytes at base + v + off, where the base is the memory or the
  // stack arena; bound = area - n - off. Everything jumps to one label past
  // the access. When the caller knows v <= known_max by construction (a
  // spilled constant, a masked value), the access sometimes goes unguarded,
  // placed so that known_max fits: the verifier then has to carry the bound
  // through spills, calls and atomics itself.
  void guard_and_access(uint8_t v, int64_t known_max = -1) {
    static constexpr std::array<unsigned, 4> kSizes = {1, 2, 4, 8};
    unsigned n = src_.pick(std::span<const unsigned>(kSizes));
    if (known_max >= 0 && src_.chance(0.5)) {
      const bool stack = known_max + 1 <= kArena && src_.chance(0.3);
      const int64_t area = stack ? kArena : mem_size_;
      while (n > 1 && area - n < known_max)
        n /= 2;
      if (area - static_cast<int64_t>(n) >= known_max) {
        const auto off = static_cast<int16_t>(src_.below(static_cast<uint32_t>(area - n - known_max + 1)));
        access(v, stack, n, off);
        return;
      }
    }
    const bool stack = src_.chance(0.3);
    const int32_t area = stack ? kArena : static_cast<int32_t>(mem_size_);
    const auto off = static_cast<int16_t>(src_.below(static_cast<uint32_t>(area - n) / 2 + 1));
    const int32_t bound = area - static_cast<int32_t>(n) - off;
    const Label skip = b_.new_label();
    guard(v, bound, skip);
    access(v, stack, n, off);
    b_.place(skip);
  }

  void guard(uint8_t v, int32_t bound, Label skip) {
    mark(StressPattern::BranchGuard);
    if (doubt()) {
      switch (src_.below(5)) {
        case 0:  // 32-bit check of a value whose upper half may be set
          mark(StressPattern::Jmp32Guard);
          b_.emit_jump(Form::jgt32_imm, v, 0, bound, skip);
          return;
        case 1:  // off by a little
          b_.emit_jump(Form::jgt_imm, v, 0, bound + 1 + static_cast<int32_t>(src_.below(4)), skip);
          return;
        case 2:  // signed upper bound alone
          b_.emit_jump(Form::jsgt_imm, v, 0, bound, skip);
          return;
        case 3:  // signed 32-bit pair
          mark(StressPattern::Jmp32Guard);
          b_.emit_jump(Form::jsgt32_imm, v, 0, bound, skip);
          b_.emit_jump(Form::jslt32_imm, v, 0, 0, skip);
          return;
        default:  // none: whatever the operations left
          return;
      }
    }
    switch (src_.below(8)) {
      case 0:
        b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);
        return;
      case 1:
        b_.emit_jump(Form::jge_imm, v, 0, bound + 1, skip);
        return;
      case 2: {
        const uint8_t k = other_than(v);
        emit(Form::mov_imm, k, 0, 0, bound);
        b_.emit_jump(src_.chance(0.5) ? Form::jgt_reg : Form::jlt_reg, src_.chance(0.5) ? v : k,
                     src_.chance(0.5) ? k : v, 0, skip);
        // Whichever way round, a second unsigned check keeps it sufficient.
        b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);
        return;
      }
      case 3: {
        const Label ok = b_.new_label();
        b_.emit_jump(src_.chance(0.5) ? Form::jlt_imm : Form::jle_imm, v, 0, bound, ok);
        b_.emit_jump(src_.chance(0.8) ? Form::ja : (v4_ ? Form::gotol : Form::ja), 0, 0, 0, skip);
        b_.place(ok);
        b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);  // jlt bound admits bound itself only for jle
        return;
      }
      case 4:
        b_.emit_jump(Form::jsgt_imm, v, 0, bound, skip);
        b_.emit_jump(Form::jslt_imm, v, 0, 0, skip);
        return;
      case 5: {
        // A copy is checked; the verifier carries the bound over by register id.
        mark(StressPattern::LinkedGuard);
        const uint8_t c = other_than(v);
        emit(Form::mov_reg, c, v);
        b_.emit_jump(Form::jgt_imm, c, 0, bound, skip);
        return;
      }
      case 6:
        // Zero-extended first, so the 32-bit check bounds all 64 bits.
        mark(StressPattern::Jmp32Guard);
        mark(StressPattern::Subreg32);
        emit(Form::mov32_reg, v, v);
        b_.emit_jump(src_.chance(0.5) ? Form::jgt32_imm : Form::jge32_imm, v, 0,
                     src_.chance(0.5) ? bound : bound + 1, skip);
        b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);
        return;
      default:
        b_.emit_jump(src_.chance(0.5) ? Form::jsge_imm : Form::jsgt_imm, v, 0, bound + 1, skip);
        b_.emit_jump(src_.chance(0.5) ? Form::jslt_imm : Form::jslt32_imm, v, 0, 0, skip);
        b_.emit_jump(Form::jgt_imm, v, 0, bound, skip);
        return;
    }
  }

  // `p = base; p += v; load/store n bytes at [p + off]`. Stack accesses
  // must be aligned, a variable offset included: v is made a multiple of n
  // first (its range stays within the bound) and off is rounded down.
  void access(uint8_t v, bool stack, unsigned n, int16_t off) {
    const uint8_t p = other_than(v);
    if (stack) {
      mark(StressPattern::StackPtrArith);
      emit(Form::and_imm, v, 0, 0, -static_cast<int32_t>(n));
      off = static_cast<int16_t>(off - off % static_cast<int16_t>(n));
      emit(Form::mov_reg, p, kFp);
      emit(Form::add_imm, p, 0, 0, -kArena);
    } else {
      emit(Form::mov_reg, p, kMem);
    }
    emit(Form::add_reg, p, v);
    static constexpr std::array<Form, 4> kLoads = {Form::ldxb, Form::ldxh, Form::ldxw, Form::ldxdw};
    static constexpr std::array<Form, 4> kStores = {Form::stxb, Form::stxh, Form::stxw, Form::stxdw};
    static constexpr std::array<Form, 4> kStoreImms = {Form::stb, Form::sth, Form::stw, Form::stdw};
    const std::size_t w = n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : 3;
    switch (src_.below(3)) {
      case 0:
        emit(kLoads[w], v, p, off);  // the loaded value replaces v
        break;
      case 1:
        emit(kStores[w], p, v, off);
        break;
      default:
        emit(kStoreImms[w], p, 0, off, draw_imm(src_));
        break;
    }
  }

  // ---- the patterns ----------------------------------------------------------------

  void pattern() {
    switch (src_.below(12)) {
      case 0:
      case 1:
      case 2: {
        const auto [v] = regs<1>();
        load_unknown(v);
        transform(v);
        guard_and_access(v);
        return;
      }
      case 3:
        sdiv_overflow();
        return;
      case 4:
        spill_fill();
        return;
      case 5:
        spill_pointer();
        return;
      case 6:
        atomic();
        return;
      case 7:
        join();
        return;
      case 8:
        dead_branch();
        return;
      case 9:
        call();
        return;
      case 10:
        loop();
        return;
      default: {
        const auto [v] = regs<1>();
        load_unknown(v);
        div_by_unknown(v);
        guard_and_access(v);
        return;
      }
    }
  }

  // INT_MIN / -1 and INT_MIN % -1 (RFC 9669: INT_MIN and 0), the divisor a
  // constant or a register, then the result guarded and used.
  void sdiv_overflow() {
    if (!v4_) {
      const auto [v] = regs<1>();
      load_unknown(v);
      div_by_unknown(v);
      guard_and_access(v);
      return;
    }
    mark(StressPattern::SdivOverflow);
    const auto [v, d] = regs<2>();
    const bool wide = src_.chance(0.5);
    if (wide) {
      b_.emit_lddw(v, uint64_t{1} << 63);
    } else {
      emit(Form::mov32_imm, v, 0, 0, INT32_MIN);
      mark(StressPattern::Subreg32);
    }
    const bool by_reg = src_.chance(0.5);
    if (by_reg) emit(Form::mov_imm, d, 0, 0, -1);
    const bool mod = src_.chance(0.5);
    Form f;
    if (wide) {
      f = by_reg ? (mod ? Form::smod_reg : Form::sdiv_reg) : (mod ? Form::smod_imm : Form::sdiv_imm);
    } else {
      f = by_reg ? (mod ? Form::smod32_reg : Form::sdiv32_reg) : (mod ? Form::smod32_imm : Form::sdiv32_imm);
    }
    emit(f, v, by_reg ? d : 0, 0, by_reg ? 0 : -1);
    if (src_.chance(0.5)) one_op(v);
    guard_and_access(v);
  }

  // A constant or bounded scalar spilled at one width and filled at the
  // same or another width and offset, sometimes with an overlapping write
  // in between, then used as an offset.
  void spill_fill() {
    static constexpr std::array<unsigned, 4> kSizes = {1, 2, 4, 8};
    static constexpr std::array<Form, 4> kStores = {Form::stxb, Form::stxh, Form::stxw, Form::stxdw};
    static constexpr std::array<Form, 4> kStoreImms = {Form::stb, Form::sth, Form::stw, Form::stdw};
    static constexpr std::array<Form, 4> kLoads = {Form::ldxb, Form::ldxh, Form::ldxw, Form::ldxdw};
    const auto [v, y] = regs<2>();
    const std::size_t sw = src_.below(4);
    const unsigned n = kSizes[sw];
    const auto slot = static_cast<int16_t>(-8 * static_cast<int16_t>(1 + src_.below(kArena / 8)));
    const auto at = static_cast<int16_t>(slot + static_cast<int16_t>(n * src_.below(8 / n)));
    const uint32_t what = src_.below(3);
    const Label skip = b_.new_label();
    int64_t known_max = static_cast<int64_t>(mem_size_) - 1;
    if (what == 0) {
      mark(StressPattern::SpillConst);
      emit(kStoreImms[sw], kFp, 0, at, static_cast<int32_t>(src_.below(mem_size_)));
    } else if (what == 1) {
      mark(StressPattern::SpillConst);
      emit(Form::mov_imm, v, 0, 0, static_cast<int32_t>(src_.below(mem_size_)));
      emit(kStores[sw], kFp, v, at);
    } else {
      // Spilled, filled and used inside its guard.
      mark(StressPattern::SpillScalar);
      load_unknown(v);
      known_max = mem_size_ - 8;
      b_.emit_jump(Form::jgt_imm, v, 0, static_cast<int32_t>(known_max), skip);
      emit(kStores[sw], kFp, v, at);
    }
    std::size_t fw = sw;
    int16_t from = at;
    if (src_.chance(0.35)) {
      mark(StressPattern::PartialSpill);
      known_max = -1;  // no longer what was spilled
      if (src_.chance(0.5)) {
        // An overlapping narrower write into the spilled bytes.
        const std::size_t ow = src_.below(static_cast<uint32_t>(sw + 1));
        const unsigned on = kSizes[ow];
        emit(kStoreImms[ow], kFp, 0, static_cast<int16_t>(at + on * src_.below(n / on)),
             static_cast<int32_t>(src_.below(256)));
      } else {
        fw = src_.below(4);
        from = static_cast<int16_t>(slot + static_cast<int16_t>(kSizes[fw] * src_.below(8 / kSizes[fw])));
      }
    }
    emit(kLoads[fw], y, kFp, from);
    guard_and_access(y, known_max);
    b_.place(skip);
  }

  // The memory pointer (or a frame pointer) spilled to its slot, filled
  // whole and dereferenced; doubtfully with a byte of the slot overwritten
  // in between (the fill is then a scalar: the kernel must reject).
  void spill_pointer() {
    mark(StressPattern::SpillPointer);
    const auto [p, q, d] = regs<3>();
    const bool frame = src_.chance(0.3);
    if (frame) {
      emit(Form::mov_reg, p, kFp);
      emit(Form::add_imm, p, 0, 0, -8 * static_cast<int32_t>(1 + src_.below(kArena / 8)));
    } else {
      emit(Form::mov_reg, p, kMem);
      if (src_.chance(0.5)) emit(Form::add_imm, p, 0, 0, static_cast<int32_t>(8 * src_.below(mem_size_ / 8)));
    }
    emit(Form::stxdw, kFp, p, kPointerSlot);
    if (doubt()) {
      mark(StressPattern::PartialSpill);
      emit(Form::stb, kFp, 0, static_cast<int16_t>(kPointerSlot + src_.below(8)), 0);
    }
    emit(Form::ldxdw, q, kFp, kPointerSlot);
    emit(Form::ldxb, d, q, 0);
    guard_and_access(d);
  }

  // An atomic operation on an arena slot or on the memory, its fetched
  // value (and the slot's new contents) used as offsets.
  void atomic() {
    const bool wide = src_.chance(0.5);
    static constexpr std::array<Form, 10> k64 = {
        Form::atomic_add,  Form::atomic_fetch_add, Form::atomic_or,  Form::atomic_fetch_or,
        Form::atomic_and,  Form::atomic_fetch_and, Form::atomic_xor, Form::atomic_fetch_xor,
        Form::atomic_xchg, Form::atomic_cmpxchg};
    static constexpr std::array<Form, 10> k32 = {
        Form::atomic32_add,  Form::atomic32_fetch_add, Form::atomic32_or,  Form::atomic32_fetch_or,
        Form::atomic32_and,  Form::atomic32_fetch_and, Form::atomic32_xor, Form::atomic32_fetch_xor,
        Form::atomic32_xchg, Form::atomic32_cmpxchg};
    const Form f = src_.pick(std::span<const Form>(wide ? k64 : k32));
    const unsigned n = wide ? 8 : 4;
    // r0 is cmpxchg's comparand and result: keep it out of the operands.
    std::array<uint8_t, 2> r = regs<2>();
    for (uint8_t& x : r) {
      if (x == 0) x = 9 - (r[0] == 9 || r[1] == 9 ? 1 : 0);
    }
    const auto [s, y] = r;
    const bool stack = src_.chance(0.5);
    uint8_t base = kFp;
    int16_t off = 0;
    if (stack) {
      mark(StressPattern::AtomicStack);
      off = static_cast<int16_t>(-static_cast<int16_t>(n) * static_cast<int16_t>(1 + src_.below(kArena / n)));
      // The slot holds a small constant or a bounded unknown first.
      if (src_.chance(0.5)) {
        emit(wide ? Form::stdw : Form::stw, kFp, 0, off, static_cast<int32_t>(src_.below(mem_size_ / 2)));
      } else {
        load_unknown(y);
        emit(Form::and_imm, y, 0, 0, static_cast<int32_t>(mem_size_ / 2 - 1));
        emit(wide ? Form::stxdw : Form::stxw, kFp, y, off);
      }
    } else {
      mark(StressPattern::AtomicMemory);
      base = kMem;
      off = memory_offset(n);
      while (off % static_cast<int16_t>(n) != 0)
        off = static_cast<int16_t>(off - 1);
    }
    emit(Form::mov_imm, s, 0, 0, static_cast<int32_t>(src_.below(8)));
    if (isa::info(f).sem.atomic == isa::AtomicOp::Cmpxchg) {
      emit(Form::mov_imm, 0, 0, 0, static_cast<int32_t>(src_.below(mem_size_ / 2)));
    }
    emit(f, base, s, off);
    const uint8_t out = isa::info(f).sem.atomic == isa::AtomicOp::Cmpxchg ? 0 : s;
    // On the stack both the old value and the new one are small by construction.
    const int64_t known_max = stack ? static_cast<int64_t>(mem_size_ / 2 + 7) : -1;
    if (isa::info(f).sem.fetch || isa::info(f).sem.atomic == isa::AtomicOp::Cmpxchg) {
      guard_and_access(out, known_max);
    }
    emit(wide ? Form::ldxdw : Form::ldxw, y, base, off);
    guard_and_access(y, known_max);
  }

  // Two paths meet with different values in v: the second reaching the
  // join is pruned against the first unless v's value matters. The values
  // are in bounds, or (doubtfully) one is not and nothing checks.
  void join() {
    mark(StressPattern::JoinPrune);
    const auto [c, v] = regs<2>();
    load_unknown(c);
    const Label other = b_.new_label();
    const Label meet = b_.new_label();
    static constexpr std::array<Form, 6> kConds = {Form::jset_imm,  Form::jgt_imm,   Form::jslt_imm,
                                                   Form::jeq32_imm, Form::jle32_imm, Form::jsge_imm};
    b_.emit_jump(src_.pick(std::span<const Form>(kConds)), c, 0, static_cast<int32_t>(src_.below(mem_size_)),
                 other);
    emit(Form::mov_imm, v, 0, 0, static_cast<int32_t>(src_.below(mem_size_ / 2)));
    b_.emit_jump(Form::ja, 0, 0, 0, meet);
    b_.place(other);
    const bool out_of_bounds = doubt();
    emit(Form::mov_imm, v, 0, 0,
         static_cast<int32_t>(out_of_bounds ? mem_size_ + src_.below(8) : src_.below(mem_size_ / 2)));
    b_.place(meet);
    if (src_.chance(0.5)) emit(Form::add_imm, c, 0, 0, 1);  // a state difference that does not matter
    // Accessed directly: the verifier must track both values precisely.
    const auto [p] = regs<1>();
    const uint8_t base = p == v || p == c ? kFp : p;
    if (base == kFp) {
      guard_and_access(v);
      return;
    }
    emit(Form::mov_reg, p, kMem);
    emit(Form::add_reg, p, v);
    emit(Form::ldxb, c, p, 0);
  }

  // A branch that is dead on every run, in front of an access that would be
  // out of bounds: the verifier must see it is dead. Most conditions follow
  // from bounds or known bits; one (v - v != 0) the verifier may not see.
  void dead_branch() {
    mark(StressPattern::DeadBranch);
    const auto [v, w] = regs<2>();
    const Unknown u = load_unknown(v);
    const Label dead = b_.new_label();
    const Label end = b_.new_label();
    switch (src_.below(8)) {
      case 0:
        emit(Form::and_imm, v, 0, 0, 15);
        b_.emit_jump(Form::jgt_imm, v, 0, 15, dead);
        break;
      case 1:
        emit(Form::and_imm, v, 0, 0, 15);
        b_.emit_jump(Form::jsgt32_imm, v, 0, 15, dead);
        mark(StressPattern::Jmp32Guard);
        break;
      case 2:
        emit(Form::or_imm, v, 0, 0, 1);
        b_.emit_jump(Form::jeq_imm, v, 0, 0, dead);
        break;
      case 3:
        emit(Form::and_imm, v, 0, 0, 0xf0);
        b_.emit_jump(Form::jset_imm, v, 0, 0xf, dead);
        break;
      case 4:
        emit(Form::rsh_imm, v, 0, 0, 60);
        b_.emit_jump(Form::jgt_imm, v, 0, 15, dead);
        break;
      case 5:
        emit(Form::and_imm, v, 0, 0, 7);
        emit(Form::mul_imm, v, 0, 0, 3);
        b_.emit_jump(Form::jgt_imm, v, 0, 21, dead);
        break;
      case 6:
        emit(Form::lsh_imm, v, 0, 0, 32);
        b_.emit_jump(Form::jne32_imm, v, 0, 0, dead);
        mark(StressPattern::Jmp32Guard);
        break;
      default:
        emit(Form::mov_reg, w, v);
        emit(Form::sub_reg, w, v);
        b_.emit_jump(Form::jne_imm, w, 0, 0, dead);
        break;
    }
    (void)u;
    b_.emit_jump(Form::ja, 0, 0, 0, end);
    b_.place(dead);
    emit(Form::ldxdw, w, kMem, static_cast<int16_t>(mem_size_ + 8 * src_.below(4)));
    b_.place(end);
  }

  // A call of the subprogram with r1 = a pointer into this frame (the call
  // slot) and r2 = a bounded value; what comes back is used as an offset.
  void call() {
    mark(StressPattern::CallStackPtr);
    sub_used_ = true;
    const auto [v] = regs<1>();
    load_unknown(v);
    const Label skip = b_.new_label();
    b_.emit_jump(Form::jgt_imm, v, 0, static_cast<int32_t>(mem_size_ - 8), skip);
    emit(Form::mov_reg, 2, v);
    emit(Form::mov_reg, 1, kFp);
    emit(Form::add_imm, 1, 0, 0, kCallSlot);
    b_.emit_call(sub_label_);
    // r1..r5 are now unreadable; r0 is the result.
    if (sub_kind_ == SubKind::WritesSlot) {
      emit(Form::ldxdw, 3, kFp, kCallSlot);
      guard_and_access(3, mem_size_ - 8);
    } else {
      guard_and_access(0, sub_kind_ == SubKind::ReadsSlot ? 7 : mem_size_ - 7);
    }
    b_.place(skip);
  }

  void subprogram() {
    b_.place(sub_label_);
    switch (sub_kind_) {
      case SubKind::WritesSlot:  // *(u64 *)r1 = r2 (bounded by the caller)
        emit(Form::stxdw, 1, 2, 0);
        emit(Form::mov_imm, 0, 0, 0, 0);
        break;
      case SubKind::ReadsSlot:  // r0 = *(u64 *)r1 & small
        emit(Form::ldxdw, 0, 1, 0);
        emit(Form::and_imm, 0, 0, 0, 7);
        break;
      case SubKind::ReturnsArg:  // r0 = r2 + 1: one past the caller's bound
        emit(Form::mov_reg, 0, 2);
        emit(Form::add_imm, 0, 0, 0, 1);
        break;
    }
    emit(Form::exit);
  }

  // `c = unknown & 7; c += 1; head: body; c -= 1; if c != 0 goto head`.
  void loop() {
    mark(StressPattern::BoundedLoop);
    const auto [c, acc, p] = regs<3>();
    load_unknown(c);
    emit(Form::and_imm, c, 0, 0, src_.chance(0.5) ? 3 : 7);
    emit(Form::add_imm, c, 0, 0, 1);
    emit(Form::mov_imm, acc, 0, 0, 0);
    const Label head = b_.new_label();
    b_.place(head);
    emit(Form::mov_reg, p, kMem);
    emit(Form::add_reg, p, c);
    emit(Form::ldxb, p, p, static_cast<int16_t>(src_.below(mem_size_ - 9)));
    emit(src_.chance(0.5) ? Form::add_reg : Form::xor_reg, acc, p);
    static constexpr std::array<Form, 4> kDecrements = {Form::sub_imm, Form::add_imm, Form::sub32_imm,
                                                        Form::add32_imm};
    const Form dec = src_.pick(std::span<const Form>(kDecrements));
    emit(dec, c, 0, 0, isa::info(dec).sem.alu == isa::AluOp::Sub ? 1 : -1);
    static constexpr std::array<Form, 4> kClosers = {Form::jne_imm, Form::jsgt_imm, Form::jgt_imm,
                                                     Form::jne32_imm};
    b_.emit_jump(src_.pick(std::span<const Form>(kClosers)), c, 0, 0, head);
    emit(Form::and_imm, acc, 0, 0, 0x1f);
    guard_and_access(acc, 0x1f);
  }

  ByteSource& src_;
  const VerifierStressOptions& opt_;
  ProgramBuilder b_;
  StressPatterns patterns_ = 0;
  uint32_t mem_size_ = 16;
  bool v4_ = true;
  SubKind sub_kind_ = SubKind::WritesSlot;
  Label sub_label_ = 0;
  bool sub_used_ = false;
};

}  // namespace

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
    case StressPattern::Count:
      break;
  }
  return "?";
}

GeneratedCase generate_verifier_stress(ByteSource& src, const VerifierStressOptions& opt,
                                       StressPatterns* patterns) {
  return StressGenerator(src, opt).run(patterns);
}

}  // namespace bpfdiff::fuzz
