#include "fuzz/generator.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/program_builder.hpp"
#include "fuzz/values.hpp"
#include "vm/isa/encode.hpp"
#include "vm/program/maps.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/runtime/run.hpp"
#include "vm/runtime/std_helpers.hpp"

namespace bpfdiff::fuzz {
namespace {

using isa::Family;
using isa::Form;
using isa::FormInfo;
using Label = ProgramBuilder::Label;

constexpr uint8_t kFp = isa::kFramePointer;
constexpr int64_t kFrame = vm::kStackFrameBytes;
// Most slots one ordinary step emits: a base pointer (lddw + add) and the access.
constexpr std::size_t kMaxStepSlots = 4;
constexpr std::size_t kMaxLoopBody = 48;
constexpr uint32_t kMaxLoopIterations = 8;
constexpr int kMaxLoopDepth = 2;
constexpr uint32_t kMaxSubprograms = 3;
constexpr double kUnboundedLoopRate = 0.0625;
constexpr double kRecursionRate = 0.03;
// Most slots one helper call takes: a key store (two for a 16-byte key), the
// handle (lddw), key and value pointers (two each), flags, the call, r1 put
// back (lddw), and a guarded access through a looked-up value (three).
constexpr std::size_t kMaxHelperSlots = 16;
constexpr uint32_t kMaxGeneratedMaps = 3;
constexpr uint32_t kMaxMapEntries = 8;

constexpr std::array<uint32_t, 7> kHelperIds = {
    static_cast<uint32_t>(vm::HelperId::MapLookupElem), static_cast<uint32_t>(vm::HelperId::MapUpdateElem),
    static_cast<uint32_t>(vm::HelperId::MapDeleteElem), static_cast<uint32_t>(vm::HelperId::KtimeGetNs),
    static_cast<uint32_t>(vm::HelperId::TracePrintk),   static_cast<uint32_t>(vm::HelperId::GetPrandomU32),
    static_cast<uint32_t>(vm::HelperId::TailCall)};

// trace_printk formats: each conversion the kernel accepts, and two it
// rejects (-EINVAL: too many conversions, an unknown one).
constexpr std::array<std::string_view, 8> kPrintkFormats = {"%d\n", "%u %x",   "%lld %llu",   "%llx %c",
                                                            "%s",   "%5d%-3u", "%d %d %d %d", "%q"};

bool allowed(Form f, isa::IsaVersion v) {
  return static_cast<uint8_t>(isa::info(f).version) <= static_cast<uint8_t>(v);
}

// A forward jump waiting for its label: placed after `steps_left` more steps
// at the nesting depth it was made in, or when that depth ends.
struct Pending {
  Label label;
  uint32_t steps_left;
  int depth;
};

struct MemRef {
  uint8_t base;
  int16_t off;
};

class Generator {
 public:
  Generator(ByteSource& src, const GeneratorOptions& opt)
      : src_(src), opt_(opt), forms_(generatable_forms(opt.isa_version)) {
    for (Form f : forms_) {
      const isa::Semantics& s = isa::info(f).sem;
      if (s.family != Family::Jump || s.cond == isa::JmpCond::Always) continue;
      cond_jumps_.push_back(f);
      // Closers of a count-down loop: taken while the counter (1..8, counting
      // down to 0) is still positive, in either width and signedness.
      if (s.source == isa::Source::Imm &&
          (s.cond == isa::JmpCond::Ne || s.cond == isa::JmpCond::Gt || s.cond == isa::JmpCond::Sgt ||
           s.cond == isa::JmpCond::Ge || s.cond == isa::JmpCond::Sge)) {
        loop_closers_.push_back(f);
      }
    }
  }

  GeneratedCase run() {
    const std::size_t total = std::clamp(opt_.max_instructions, kMinGeneratedSlots, kMaxGeneratedSlots);
    choose_memory_size();
    const uint64_t memory_seed = src_.u64();
    // Usually r1 keeps the input address everywhere (it is never written), so
    // memory access can copy it; otherwise r1 is an ordinary register and the
    // input address is built from its known virtual address.
    r1_pinned_ = !src_.chance(0.2);
    const uint32_t subprograms = opt_.call_rate > 0 ? src_.below(kMaxSubprograms + 1) : 0;
    declare_maps();

    for (uint32_t i = 0; i <= subprograms; ++i)
      functions_.push_back(b_.new_label());
    b_.place(functions_[0]);
    prologue(total / 3);

    const std::size_t remaining = total - b_.size();
    const std::size_t share = subprograms == 0 ? 0 : remaining / (subprograms + 2);
    function(0, total - share * subprograms);
    for (uint32_t i = 1; i <= subprograms; ++i) {
      b_.place(functions_[i]);
      function(i, b_.size() + share);
    }

    GeneratedCase out;
    out.program.name = "generated";
    out.program.slots = std::move(b_).finish();
    out.program.maps = std::move(maps_);
    out.memory = make_memory(memory_seed);
    return out;
  }

 private:
  // ---- whole-program structure --------------------------------------------

  void choose_memory_size() {
    const uint32_t kind = src_.below(16);
    if (kind == 0) {
      mem_size_ = 0;
    } else if (kind == 1) {
      mem_size_ = 1 + src_.below(15);
    } else {
      mem_size_ = 16 + src_.below(kMaxGeneratedMemory - 16 + 1);
    }
  }

  std::vector<uint8_t> make_memory(uint64_t seed) const {
    std::vector<uint8_t> mem(mem_size_);
    uint64_t state = seed;
    for (std::size_t i = 0; i < mem.size(); i += 8) {
      const uint64_t r = splitmix(state);
      // Half of the words are boundary values, so loads see them too.
      const std::span<const uint64_t> values = boundary_values();
      const uint64_t word = (r & 1) ? values[(r >> 1) % values.size()] : splitmix(state);
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

  // r0 and r2..r9 (r1 too when it is not pinned) start as boundary values, so
  // the first ALU ops already see rich inputs.
  void prologue(std::size_t max_slots) {
    for (uint8_t r = 0; r < kFp; ++r) {
      if (r == 1 && r1_pinned_) continue;
      if (b_.size() + 2 > max_slots) break;
      if (src_.chance(0.85)) b_.emit_lddw(r, draw_value(src_));
    }
  }

  // One function: steps until its slots run out, then exit. `end` is the
  // slot the function must end before.
  void function(uint32_t index, std::size_t end) {
    fn_ = index;
    protected_ = r1_pinned_ ? uint16_t{1u << 1} : uint16_t{0};
    limit_ = std::max(end, b_.size() + 1) - 1;  // one slot for the final exit
    steps_until_full();
    flush(depth_);
    b_.emit(isa::encode(Form::exit));
  }

  void steps_until_full() {
    while (room() >= kMaxStepSlots)
      step();
  }

  std::size_t room() const { return limit_ > b_.size() ? limit_ - b_.size() : 0; }

  void step() {
    bool done = false;
    if (depth_ < kMaxLoopDepth && src_.chance(opt_.loop_rate)) done = loop();
    if (!done && src_.chance(opt_.call_rate)) done = call();
    if (!done && src_.chance(opt_.helper_rate)) done = helper_call();
    for (int attempt = 0; !done && attempt < 4; ++attempt)
      done = emit_form(src_.pick(std::span<const Form>(forms_)));
    if (!done) {
      const uint8_t dst = writable_reg();
      b_.emit(isa::encode(Form::mov_imm, dst, 0, 0, draw_imm(src_)));
    }
    tick();
  }

  // ---- labels ---------------------------------------------------------------

  Label forward(uint32_t steps) {
    const Label l = b_.new_label();
    pending_.push_back({l, steps, depth_});
    return l;
  }

  void tick() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->depth == depth_ && --it->steps_left == 0) {
        b_.place(it->label);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void flush(int depth) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->depth == depth) {
        b_.place(it->label);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // ---- registers --------------------------------------------------------------

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

  // ---- loops and calls --------------------------------------------------------

  bool loop() {
    const bool bounded = !src_.chance(kUnboundedLoopRate);
    const std::size_t closing = bounded ? 2 : 1;
    if (room() < (bounded ? 1 : 0) + kMaxStepSlots + closing) return false;
    uint8_t counter = 0;
    if (bounded) {
      // r6..r9: a local call restores them, so a call in the body cannot
      // clobber the counter.
      auto r = static_cast<uint8_t>(6 + src_.below(4));
      for (int i = 0; i < 4 && (protected_ & (1u << r)) != 0; ++i)
        r = static_cast<uint8_t>(6 + (r - 6 + 1) % 4);
      if ((protected_ & (1u << r)) != 0) return false;
      counter = r;
      const Form init =
          allowed(Form::mov32_imm, opt_.isa_version) && src_.chance(0.3) ? Form::mov32_imm : Form::mov_imm;
      b_.emit(isa::encode(init, counter, 0, 0, static_cast<int32_t>(1 + src_.below(kMaxLoopIterations))));
    }
    const Label head = b_.new_label();
    b_.place(head);

    const std::size_t saved_limit = limit_;
    const uint16_t saved_protected = protected_;
    limit_ = b_.size() + std::min(room() - closing, kMaxLoopBody);
    if (bounded) protected_ = static_cast<uint16_t>(protected_ | (1u << counter));
    ++depth_;
    const uint32_t steps = 1 + src_.below(6);
    for (uint32_t i = 0; i < steps && room() >= kMaxStepSlots; ++i)
      step();
    flush(depth_);
    --depth_;
    protected_ = saved_protected;
    limit_ = saved_limit;

    if (bounded) {
      static constexpr std::array<Form, 4> kDecrements = {Form::sub_imm, Form::add_imm, Form::sub32_imm,
                                                          Form::add32_imm};
      const Form dec = src_.pick(std::span<const Form>(kDecrements));
      const isa::AluOp op = isa::info(dec).sem.alu;
      b_.emit(isa::encode(dec, counter, 0, 0, op == isa::AluOp::Sub ? 1 : -1));
      const Form closer = src_.pick(std::span<const Form>(loop_closers_));
      const isa::JmpCond c = isa::info(closer).sem.cond;
      const int32_t bound = c == isa::JmpCond::Ge || c == isa::JmpCond::Sge ? 1 : 0;
      b_.emit_jump(closer, counter, 0, bound, head);
    } else {
      const Form back = allowed(Form::gotol, opt_.isa_version) && src_.chance(0.5) ? Form::gotol : Form::ja;
      b_.emit_jump(back, 0, 0, 0, head);
    }
    return true;
  }

  // A subprogram after the current function, so calls form a DAG and always
  // return; rarely any subprogram, which may recurse until the call-depth limit.
  bool callee(Label& out) {
    const auto count = static_cast<uint32_t>(functions_.size());
    if (count <= 1) return false;
    if (src_.chance(kRecursionRate)) {
      out = functions_[1 + src_.below(count - 1)];
      return true;
    }
    if (fn_ + 1 >= count) return false;
    out = functions_[fn_ + 1 + src_.below(count - fn_ - 1)];
    return true;
  }

  bool call() {
    Label target = 0;
    if (!callee(target)) return false;
    if (src_.chance(0.4)) {
      emit_callx(target);
    } else {
      b_.emit_call(target);
    }
    return true;
  }

  void emit_callx(Label target) {
    const uint8_t r = writable_reg();
    b_.emit_code_address(r, target);
    b_.emit(isa::encode(Form::callx, r));
  }

  // callx on something that is not a function: a helper id (none are
  // registered), a misaligned code address or whatever a register holds.
  bool emit_bad_callx() {
    if (!src_.chance(0.3)) return false;
    const uint8_t r = writable_reg();
    switch (src_.below(3)) {
      case 0:
        b_.emit(isa::encode(Form::mov_imm, r, 0, 0, static_cast<int32_t>(src_.below(256))));
        break;
      case 1:
        b_.emit_lddw(r, vm::region_base(vm::RegionId::Code) + 1 + src_.below(64));
        break;
      default:
        b_.emit(isa::encode(Form::callx, readable_reg()));
        return true;
    }
    b_.emit(isa::encode(Form::callx, r));
    return true;
  }

  // ---- maps and helper calls ------------------------------------------------

  // Up to three maps: arrays (sometimes with initial values), hashes of
  // several key sizes, and program arrays whose filled slots hold the entry
  // program (slot 0), so a valid tail call starts the program over -- until
  // the tail-call limit or the budget ends the chain.
  void declare_maps() {
    if (!(opt_.helper_rate > 0) || !src_.chance(0.75)) return;
    static constexpr std::array<uint32_t, 6> kValueSizes = {1, 4, 8, 16, 32, 64};
    static constexpr std::array<uint32_t, 5> kKeySizes = {1, 2, 4, 8, 16};
    const uint32_t count = 1 + src_.below(kMaxGeneratedMaps);
    for (uint32_t i = 0; i < count; ++i) {
      vm::MapDef m;
      m.name = "m" + std::to_string(i);
      m.max_entries = 1 + src_.below(kMaxMapEntries);
      switch (src_.below(5)) {
        case 0:
        case 1:
          m.type = vm::MapType::Array;
          m.value_size = src_.pick(std::span<const uint32_t>(kValueSizes));
          if (src_.chance(0.5)) {
            uint64_t state = src_.u64();
            m.initial_values.resize(std::size_t{m.max_entries} * m.value_size);
            for (uint8_t& byte : m.initial_values)
              byte = static_cast<uint8_t>(splitmix(state));
          }
          break;
        case 2:
        case 3:
          m.type = vm::MapType::Hash;
          m.key_size = src_.pick(std::span<const uint32_t>(kKeySizes));
          m.value_size = src_.pick(std::span<const uint32_t>(kValueSizes));
          break;
        default:
          m.type = vm::MapType::ProgArray;
          m.value_size = 4;
          for (uint32_t key = 0; key < m.max_entries; ++key) {
            if (src_.chance(0.5)) m.prog_entries.emplace_back(key, 0);
          }
          break;
      }
      maps_.push_back(std::move(m));
    }
  }

  // Maps that hold data (arrays and hashes: what lookup, update and delete
  // work on), or program arrays (what tail calls take).
  static bool holds_data(vm::MapType type) { return type != vm::MapType::ProgArray; }

  bool has_map(bool data) const {
    return std::any_of(maps_.begin(), maps_.end(),
                       [data](const vm::MapDef& m) { return holds_data(m.type) == data; });
  }

  // The index of a declared map: of `type`, or any type when nullopt.
  std::optional<uint32_t> some_map(std::optional<vm::MapType> type) {
    std::vector<uint32_t> fits;
    for (uint32_t i = 0; i < maps_.size(); ++i) {
      if (!type || maps_[i].type == *type) fits.push_back(i);
    }
    if (fits.empty()) return std::nullopt;
    return src_.pick(std::span<const uint32_t>(fits));
  }

  // The index of a declared array or hash map.
  std::optional<uint32_t> some_data_map() {
    std::vector<uint32_t> fits;
    for (uint32_t i = 0; i < maps_.size(); ++i) {
      if (holds_data(maps_[i].type)) fits.push_back(i);
    }
    if (fits.empty()) return std::nullopt;
    return src_.pick(std::span<const uint32_t>(fits));
  }

  // A map handle in `reg`: lddw map_fd or map_idx (the same handle).
  void emit_map_handle(uint8_t reg, uint32_t index) {
    const Form f = src_.chance(0.5) ? Form::lddw_map_fd : Form::lddw_map_idx;
    b_.emit(isa::encode_lddw(f, reg, static_cast<int32_t>(index), 0));
  }

  // A handle that names no map: a map index past the declared ones (the
  // Maps region is never mapped, so the helper finds nothing), a small
  // integer, or whatever a register holds.
  void emit_bad_handle(uint8_t reg) {
    switch (src_.below(3)) {
      case 0:
        b_.emit_lddw(reg, vm::map_handle(static_cast<uint32_t>(maps_.size()) + src_.below(4)));
        break;
      case 1:
        b_.emit(isa::encode(Form::mov_imm, reg, 0, 0, static_cast<int32_t>(src_.below(8))));
        break;
      default:  // a register's value: a number, the input address, a frame address
        b_.emit(isa::encode(Form::mov_reg, reg, readable_reg()));
        break;
    }
  }

  // An 8-aligned frame offset with room for `size` bytes below the frame top.
  int16_t stack_buffer(uint32_t size) {
    const int64_t need = (int64_t{size} + 7) / 8 * 8;
    return static_cast<int16_t>(-need - 8 * src_.below(static_cast<uint32_t>((kFrame - need) / 8 + 1)));
  }

  // reg = r10 + off.
  void emit_frame_pointer(uint8_t reg, int16_t off) {
    b_.emit(isa::encode(Form::mov_reg, reg, kFp));
    b_.emit(isa::encode(Form::add_imm, reg, 0, 0, off));
  }

  // A pointer argument that fails the helper's check for `size` bytes: past
  // the frame top, straddling it (out of bounds in the entry function; in a
  // subprogram the caller's frame lies above), null, or a register's value.
  void emit_bad_pointer(uint8_t reg, uint32_t size) {
    switch (src_.below(4)) {
      case 0:
        emit_frame_pointer(reg, static_cast<int16_t>(src_.range(8, 64)));
        break;
      case 1:
        emit_frame_pointer(reg, static_cast<int16_t>(-static_cast<int64_t>(src_.below(size))));
        break;
      case 2:
        b_.emit(isa::encode(Form::mov_imm, reg, 0, 0, 0));
        break;
      default:
        b_.emit(isa::encode(Form::mov_reg, reg, readable_reg()));
        break;
    }
  }

  // Writes a key of `size` bytes at r10 + off: a small number, so keys repeat
  // and lookups find what updates stored (or, for arrays, miss the end).
  void emit_key(int16_t off, uint32_t size) {
    const auto value = static_cast<int32_t>(src_.below(kMaxMapEntries + 2));
    switch (size) {
      case 1:
        b_.emit(isa::encode(Form::stb, kFp, 0, off, value));
        break;
      case 2:
        b_.emit(isa::encode(Form::sth, kFp, 0, off, value));
        break;
      case 4:
        b_.emit(isa::encode(Form::stw, kFp, 0, off, value));
        break;
      default:
        for (uint32_t i = 0; i < size; i += 8)
          b_.emit(isa::encode(Form::stdw, kFp, 0, static_cast<int16_t>(off + i), i == 0 ? value : 0));
        break;
    }
  }

  // A call of a standard helper with its arguments set up; valid, or with
  // one invalid argument at bad_argument_rate. r1 is put back afterwards
  // when it is pinned to the input address.
  bool helper_call() {
    if (room() < kMaxHelperSlots) return false;
    uint32_t id = src_.pick(std::span<const uint32_t>(kHelperIds));
    const bool bad = src_.chance(opt_.bad_argument_rate);
    // A valid call needs a map of the right kind; without one, a helper that
    // needs none is called instead (with one, a bad call still finds none).
    const auto helper = static_cast<vm::HelperId>(id);
    const bool map_helper = helper == vm::HelperId::MapLookupElem || helper == vm::HelperId::MapUpdateElem ||
                            helper == vm::HelperId::MapDeleteElem;
    if (!bad && map_helper && !has_map(true)) id = static_cast<uint32_t>(vm::HelperId::KtimeGetNs);
    if (!bad && helper == vm::HelperId::TailCall && !has_map(false))
      id = static_cast<uint32_t>(vm::HelperId::GetPrandomU32);
    std::optional<uint32_t> value_size;  // of a looked-up value r0 may point to
    switch (static_cast<vm::HelperId>(id)) {
      case vm::HelperId::KtimeGetNs:
      case vm::HelperId::GetPrandomU32:
        break;  // no arguments
      case vm::HelperId::TracePrintk:
        printk_arguments(bad);
        break;
      case vm::HelperId::MapLookupElem:
      case vm::HelperId::MapUpdateElem:
      case vm::HelperId::MapDeleteElem:
        value_size = map_arguments(static_cast<vm::HelperId>(id), bad);
        break;
      case vm::HelperId::TailCall:
        tail_call_arguments(bad);
        break;
    }
    b_.emit(isa::encode(Form::call_helper, 0, 0, 0, static_cast<int32_t>(id)));
    if (r1_pinned_) b_.emit_lddw(1, vm::region_base(vm::RegionId::Input));
    if (value_size && src_.chance(0.7)) use_value(*value_size);
    return true;
  }

  // bpf_trace_printk(fmt, size, a, b, c): the format on the stack; r3..r5
  // keep whatever they hold (for %s, a pointer that may well be bad).
  void printk_arguments(bool bad) {
    const std::string_view fmt = src_.pick(std::span<const std::string_view>(kPrintkFormats));
    const auto size = static_cast<uint32_t>(fmt.size() + 1);  // with the NUL
    const int16_t off = stack_buffer(size);
    for (uint32_t i = 0; i < size; i += 4) {
      uint32_t word = 0;
      for (uint32_t j = 0; j < 4 && i + j < fmt.size(); ++j)
        word |= uint32_t{static_cast<uint8_t>(fmt[i + j])} << (8 * j);
      b_.emit(isa::encode(Form::stw, kFp, 0, static_cast<int16_t>(off + i), static_cast<int32_t>(word)));
    }
    if (!bad) {
      // For %s: the format itself, a readable NUL-terminated string.
      if (fmt.find("%s") != std::string_view::npos) emit_frame_pointer(3, off);
      emit_frame_pointer(1, off);
      b_.emit(isa::encode(Form::mov_imm, 2, 0, 0, static_cast<int32_t>(size)));
      return;
    }
    switch (src_.below(4)) {
      case 3:  // r3 is whatever it holds: for %s, mostly no readable string
        emit_frame_pointer(1, off);
        b_.emit(isa::encode(Form::mov_imm, 2, 0, 0, static_cast<int32_t>(size)));
        break;
      case 0:  // no NUL within the size, or size 0
        emit_frame_pointer(1, off);
        b_.emit(isa::encode(Form::mov_imm, 2, 0, 0, static_cast<int32_t>(src_.below(size - 1))));
        break;
      case 1:  // the size runs past the frame top
        emit_frame_pointer(1, off);
        b_.emit(isa::encode(Form::mov_imm, 2, 0, 0, static_cast<int32_t>(-off + 1 + src_.below(64))));
        break;
      default:
        emit_bad_pointer(1, size);
        b_.emit(isa::encode(Form::mov_imm, 2, 0, 0, static_cast<int32_t>(size)));
        break;
    }
  }

  // map_lookup_elem(map, key), map_update_elem(map, key, value, flags),
  // map_delete_elem(map, key). After a valid lookup in a map with values, r0
  // is null or the address of a value: returns the value's size then.
  std::optional<uint32_t> map_arguments(vm::HelperId id, bool bad) {
    const std::optional<uint32_t> index = some_data_map();
    if (!index) {
      emit_bad_handle(1);  // no array or hash map: an invalid call (helper_call keeps valid ones away)
      return std::nullopt;
    }
    const vm::MapDef& m = maps_[*index];
    const uint32_t wrong = bad ? src_.below(id == vm::HelperId::MapUpdateElem ? 4 : 2) : ~0u;
    if (wrong == 0) {
      emit_bad_handle(1);
    } else {
      emit_map_handle(1, *index);
    }
    const int16_t key = stack_buffer(m.key_size);
    emit_key(key, m.key_size);
    if (wrong == 1) {
      emit_bad_pointer(2, m.key_size);
    } else {
      emit_frame_pointer(2, key);
    }
    if (id == vm::HelperId::MapUpdateElem) {
      if (wrong == 2) {
        emit_bad_pointer(3, m.value_size);
      } else {
        emit_frame_pointer(3, stack_buffer(m.value_size));
      }
      // BPF_ANY, BPF_NOEXIST, BPF_EXIST; anything else is -EINVAL.
      const int32_t flags =
          wrong == 3 ? static_cast<int32_t>(3 + src_.below(8)) : static_cast<int32_t>(src_.below(3));
      b_.emit(isa::encode(Form::mov_imm, 4, 0, 0, flags));
    }
    if (id != vm::HelperId::MapLookupElem || wrong != ~0u) return std::nullopt;
    return m.value_size;
  }

  // After a lookup: `if r0 == 0 goto +1; <load or store through r0>` inside
  // the value, or past its ends at the out-of-bounds rate.
  void use_value(uint32_t value_size) {
    static constexpr std::array<Form, 6> kAccess = {Form::ldxb, Form::stxb, Form::ldxw,
                                                    Form::stxw, Form::stw,  Form::ldxdw};
    const bool oob = src_.chance(opt_.out_of_bounds_rate);
    // In bounds: only the accesses that fit the value (a byte always does).
    const std::size_t fitting = value_size >= 8 ? 6 : value_size >= 4 ? 5 : 2;
    const Form f = src_.pick(std::span<const Form>(kAccess.data(), oob ? kAccess.size() : fitting));
    const int64_t n = isa::bytes_of(isa::info(f).sem.size);
    const auto off = static_cast<int16_t>(
        oob ? (src_.chance(0.5) ? src_.range(value_size - n + 1, value_size + 8) : src_.range(-8, -1))
            : offset_in(0, value_size - n, static_cast<unsigned>(n)));
    const Label skip = b_.new_label();
    b_.emit_jump(Form::jeq_imm, 0, 0, 0, skip);
    const Family family = isa::info(f).sem.family;
    if (family == Family::Load) {
      b_.emit(isa::encode(f, writable_reg(), 0, off));
    } else if (family == Family::StoreReg) {
      b_.emit(isa::encode(f, 0, readable_reg(), off));
    } else {
      b_.emit(isa::encode(f, 0, 0, off, draw_imm(src_)));
    }
    b_.place(skip);
  }

  // bpf_tail_call(ctx, prog_array, index): r1 is the input address, as the
  // entry program expects; invalid: a handle that is no program array, or an
  // index past max_entries (-ENOENT, the caller goes on).
  void tail_call_arguments(bool bad) {
    if (!r1_pinned_) b_.emit_lddw(1, vm::region_base(vm::RegionId::Input));
    const std::optional<uint32_t> index = some_map(vm::MapType::ProgArray);
    if (bad || !index) {
      const std::optional<uint32_t> other = some_map(std::nullopt);
      if (other && src_.chance(0.5) && maps_[*other].type != vm::MapType::ProgArray) {
        emit_map_handle(2, *other);
      } else {
        emit_bad_handle(2);
      }
    } else {
      emit_map_handle(2, *index);
    }
    const uint32_t entries = index ? maps_[*index].max_entries : 1;
    b_.emit(isa::encode(Form::mov_imm, 3, 0, 0,
                        static_cast<int32_t>(bad ? entries + src_.below(4) : src_.below(entries))));
  }

  // ---- one form -----------------------------------------------------------------

  bool emit_form(Form f) {
    const FormInfo& fi = isa::info(f);
    const isa::Semantics& s = fi.sem;
    switch (s.family) {
      case Family::Alu:
        if (s.alu == isa::AluOp::Neg) {
          b_.emit(isa::encode(f, writable_reg()));
        } else if (s.source == isa::Source::Reg) {
          const uint8_t dst = writable_reg();
          b_.emit(isa::encode(f, dst, readable_reg()));
        } else {
          const uint8_t dst = writable_reg();
          b_.emit(isa::encode(f, dst, 0, 0, draw_imm(src_)));
        }
        return true;
      case Family::Endian:
        b_.emit(isa::encode(f, writable_reg()));
        return true;
      case Family::Jump:
        return emit_jump(f);
      case Family::Call:
        return emit_call_form(s.call);
      case Family::Exit:
        emit_exit();
        return true;
      case Family::Lddw:
        if (s.lddw == isa::LddwKind::CodeAddr) {
          // Any function, the entry included: the address is a value too.
          const uint8_t dst = writable_reg();
          b_.emit_code_address(dst, functions_[src_.below(static_cast<uint32_t>(functions_.size()))]);
        } else {
          const uint8_t dst = writable_reg();
          b_.emit_lddw(dst, draw_value(src_));
        }
        return true;
      case Family::Load:
      case Family::LoadSigned: {
        const MemRef m = address(isa::bytes_of(s.size));
        b_.emit(isa::encode(f, writable_reg(), m.base, m.off));
        return true;
      }
      case Family::StoreImm: {
        const MemRef m = address(isa::bytes_of(s.size));
        b_.emit(isa::encode(f, m.base, 0, m.off, draw_imm(src_)));
        return true;
      }
      case Family::StoreReg: {
        const MemRef m = address(isa::bytes_of(s.size));
        b_.emit(isa::encode(f, m.base, readable_reg(), m.off));
        return true;
      }
      case Family::Atomic: {
        const MemRef m = address(isa::bytes_of(s.size));
        // Fetching forms write the old value into src (cmpxchg into r0).
        const bool writes_src = fi.rules.src == isa::RegRule::Writable;
        const uint8_t value = writes_src ? writable_reg() : readable_reg();
        b_.emit(isa::encode(f, m.base, value, m.off));
        return true;
      }
      case Family::PacketLoad:
        return emit_packet(f);
    }
    return false;
  }

  bool emit_jump(Form f) {
    const isa::Semantics& s = isa::info(f).sem;
    const Label target = forward(1 + src_.below(4));
    if (s.cond == isa::JmpCond::Always) {
      b_.emit_jump(f, 0, 0, 0, target);
    } else if (s.source == isa::Source::Reg) {
      const uint8_t dst = readable_reg();
      b_.emit_jump(f, dst, readable_reg(), 0, target);
    } else {
      const uint8_t dst = readable_reg();
      b_.emit_jump(f, dst, 0, draw_imm(src_), target);
    }
    return true;
  }

  bool emit_call_form(isa::CallKind kind) {
    switch (kind) {
      case isa::CallKind::Helper:
        return false;  // not generatable: no helpers are registered
      case isa::CallKind::Local: {
        Label target = 0;
        if (!callee(target)) return false;
        b_.emit_call(target);
        return true;
      }
      case isa::CallKind::Indirect: {
        Label target = 0;
        if (!callee(target)) return emit_bad_callx();
        emit_callx(target);
        return true;
      }
    }
    return false;
  }

  // Mostly a conditional return (`if cond goto L; exit; L:`); sometimes a bare
  // exit, after which only pending forward jumps reach the code that follows.
  void emit_exit() {
    if (src_.chance(0.15) || cond_jumps_.empty()) {
      b_.emit(isa::encode(Form::exit));
      return;
    }
    const Form f = src_.pick(std::span<const Form>(cond_jumps_));
    const Label skip = b_.new_label();
    const uint8_t dst = readable_reg();
    if (isa::info(f).sem.source == isa::Source::Reg) {
      b_.emit_jump(f, dst, readable_reg(), 0, skip);
    } else {
      b_.emit_jump(f, dst, 0, draw_imm(src_), skip);
    }
    b_.emit(isa::encode(Form::exit));
    b_.place(skip);
  }

  // ---- memory -------------------------------------------------------------------

  // Offset in [lo, hi], aligned to `n` three times in four (lo is aligned).
  int64_t offset_in(int64_t lo, int64_t hi, unsigned n) {
    if (hi < lo) return lo;
    if (src_.chance(0.75)) return lo + n * src_.below(static_cast<uint32_t>((hi - lo) / n + 1));
    return src_.range(lo, hi);
  }

  // A register holding the input address plus k; may emit code to make it.
  uint8_t input_base(int64_t k) {
    const uint8_t t = writable_reg();
    if (r1_pinned_) {
      b_.emit(isa::encode(Form::mov_reg, t, 1));
      if (k != 0) b_.emit(isa::encode(Form::add_imm, t, 0, 0, static_cast<int32_t>(k)));
    } else {
      b_.emit_lddw(t, vm::region_base(vm::RegionId::Input) + static_cast<uint64_t>(k));
    }
    return t;
  }

  // Input address + a as base + off: r1 itself, or a copy moved by k.
  MemRef input_ref(int64_t a) {
    if (r1_pinned_ && src_.chance(0.5)) return {1, static_cast<int16_t>(a)};
    const int64_t k = src_.range(0, mem_size_);
    return {input_base(k), static_cast<int16_t>(a - k)};
  }

  // Frame top + a as base + off: r10 itself, or a copy moved by k.
  MemRef stack_ref(int64_t a) {
    if (src_.chance(0.5)) return {kFp, static_cast<int16_t>(a)};
    const uint8_t t = writable_reg();
    const auto k = static_cast<int32_t>(src_.range(-kFrame, 0));
    b_.emit(isa::encode(Form::mov_reg, t, kFp));
    if (src_.chance(0.5)) {
      b_.emit(isa::encode(Form::add_imm, t, 0, 0, k));
    } else {
      b_.emit(isa::encode(Form::sub_imm, t, 0, 0, -k));
    }
    return {t, static_cast<int16_t>(a - k)};
  }

  // Where the next access of `n` bytes goes: the current stack frame or the
  // input memory, in bounds except at the out-of-bounds rate.
  MemRef address(unsigned n) {
    if (src_.chance(opt_.out_of_bounds_rate)) return out_of_bounds(n);
    if (const auto ref = map_value_ref(n)) return *ref;
    if (mem_size_ >= n && src_.chance(0.5)) return input_ref(offset_in(0, int64_t{mem_size_} - n, n));
    return stack_ref(offset_in(-kFrame, -int64_t{n}, n));
  }

  // Now and then, a value of an array map: `lddw t, map_value(i, k)` (the
  // validator resolves it to the value's address) and an offset from there.
  std::optional<MemRef> map_value_ref(unsigned n) {
    if (maps_.empty() || !src_.chance(0.15)) return std::nullopt;
    const std::optional<uint32_t> index = some_map(vm::MapType::Array);
    if (!index || maps_[*index].value_size < n) return std::nullopt;
    const vm::MapDef& m = maps_[*index];
    const int64_t total = int64_t{m.max_entries} * m.value_size;
    const int64_t a = offset_in(0, total - n, n);  // any entry: values lie back to back
    const auto k = static_cast<int32_t>(src_.below(m.value_size));
    const uint8_t t = writable_reg();
    const Form f = src_.chance(0.5) ? Form::lddw_map_value : Form::lddw_map_idx_value;
    b_.emit(isa::encode_lddw(f, t, static_cast<int32_t>(*index), k));
    return MemRef{t, static_cast<int16_t>(a - k)};
  }

  MemRef out_of_bounds(unsigned n) {
    const auto size = static_cast<int64_t>(mem_size_);
    switch (src_.below(5)) {
      case 0:  // straddles or passes the end of the input
        return input_ref(src_.range(size - n + 1, size + 16));
      case 1:  // before the input
        return input_ref(src_.range(-16, -1));
      case 2:  // above the frame top: out of bounds in the entry function only
        if (fn_ == 0) return {kFp, static_cast<int16_t>(src_.range(1 - int64_t{n}, 16))};
        [[fallthrough]];
      case 3:  // below the frame bottom
        return {kFp, static_cast<int16_t>(src_.range(-kFrame - 24, -kFrame - 1))};
      default: {  // whatever a register holds
        const uint8_t r = readable_reg();
        return {r, static_cast<int16_t>(draw_imm(src_))};
      }
    }
  }

  // Legacy packet loads read the input memory; one that misses it ends the
  // program with r0 = 0, so in-bounds ones are the rule here too.
  bool emit_packet(Form f) {
    const isa::Semantics& s = isa::info(f).sem;
    const int64_t n = isa::bytes_of(s.size);
    const int64_t size = mem_size_;
    const bool oob = src_.chance(opt_.out_of_bounds_rate);
    if (!oob && size < n) return false;
    const int64_t a = oob ? (src_.chance(0.5) ? src_.range(size - n + 1, size + 16) : src_.range(-16, -1))
                          : src_.range(0, size - n);
    if (s.packet == isa::PacketMode::Abs) {
      b_.emit(isa::encode(f, 0, 0, 0, static_cast<int32_t>(a)));
      return true;
    }
    if (oob && src_.chance(0.3)) {
      const uint8_t r = readable_reg();
      b_.emit(isa::encode(f, 0, r, 0, draw_imm(src_)));
      return true;
    }
    const uint8_t r = writable_reg();
    const int64_t k = src_.range(0, size);
    b_.emit(isa::encode(Form::mov_imm, r, 0, 0, static_cast<int32_t>(k)));
    b_.emit(isa::encode(f, 0, r, 0, static_cast<int32_t>(a - k)));
    return true;
  }

  ByteSource& src_;
  const GeneratorOptions& opt_;
  const std::vector<Form> forms_;
  std::vector<Form> cond_jumps_;
  std::vector<Form> loop_closers_;
  ProgramBuilder b_;
  std::vector<Label> functions_;  // entry labels; [0] is the entry function
  std::vector<vm::MapDef> maps_;  // what the program declares
  std::vector<Pending> pending_;
  uint32_t mem_size_ = 0;
  bool r1_pinned_ = true;
  uint32_t fn_ = 0;
  uint16_t protected_ = 0;
  std::size_t limit_ = 0;
  int depth_ = 0;
};

}  // namespace

std::span<const uint32_t> generated_helper_ids() {
  return kHelperIds;
}

bool generatable(isa::Form form) {
  const isa::Semantics& s = isa::info(form).sem;
  if (s.family == Family::Call) return s.call != isa::CallKind::Helper;
  if (s.family == Family::Lddw) return s.lddw == isa::LddwKind::Imm64 || s.lddw == isa::LddwKind::CodeAddr;
  return true;
}

std::vector<isa::Form> generatable_forms(isa::IsaVersion version) {
  std::vector<Form> out;
  for (const FormInfo& fi : isa::all_forms()) {
    if (generatable(fi.form) && allowed(fi.form, version)) out.push_back(fi.form);
  }
  return out;
}

GeneratedCase generate(ByteSource& src, const GeneratorOptions& opt) {
  return Generator(src, opt).run();
}

}  // namespace bpfdiff::fuzz
