// The plain generator's maps and helper calls: valid calls of every standard
// helper, and at bad_argument_rate calls with one invalid argument.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "fuzz/generator_base.hpp"
#include "fuzz/values.hpp"
#include "vm/isa/encode.hpp"

namespace bpfdiff::fuzz {
namespace detail {
namespace {

using isa::Family;
using isa::Form;
using Label = ProgramBuilder::Label;

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

}  // namespace

// Up to three maps: arrays (sometimes with initial values), hashes of
// several key sizes, and program arrays whose filled slots hold the entry
// program (slot 0), so a valid tail call starts the program over -- until
// the tail-call limit or the budget ends the chain.
void GeneratorBase::declare_maps() {
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
            byte = static_cast<uint8_t>(splitmix64_next(state));
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

bool GeneratorBase::has_map(bool data) const {
  return std::any_of(maps_.begin(), maps_.end(),
                     [data](const vm::MapDef& m) { return holds_data(m.type) == data; });
}

// The index of a declared map: of `type`, or any type when nullopt.
std::optional<uint32_t> GeneratorBase::some_map(std::optional<vm::MapType> type) {
  std::vector<uint32_t> fits;
  for (uint32_t i = 0; i < maps_.size(); ++i) {
    if (!type || maps_[i].type == *type) fits.push_back(i);
  }
  if (fits.empty()) return std::nullopt;
  return src_.pick(std::span<const uint32_t>(fits));
}

// The index of a declared array or hash map.
std::optional<uint32_t> GeneratorBase::some_data_map() {
  std::vector<uint32_t> fits;
  for (uint32_t i = 0; i < maps_.size(); ++i) {
    if (holds_data(maps_[i].type)) fits.push_back(i);
  }
  if (fits.empty()) return std::nullopt;
  return src_.pick(std::span<const uint32_t>(fits));
}

// A map handle in `reg`: lddw map_fd or map_idx (the same handle).
void GeneratorBase::emit_map_handle(uint8_t reg, uint32_t index) {
  const Form f = src_.chance(0.5) ? Form::lddw_map_fd : Form::lddw_map_idx;
  b_.emit(isa::encode_lddw(f, reg, static_cast<int32_t>(index), 0));
}

// A handle that names no map: a map index past the declared ones (the
// Maps region is never mapped, so the helper finds nothing), a small
// integer, or whatever a register holds.
void GeneratorBase::emit_bad_handle(uint8_t reg) {
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
int16_t GeneratorBase::stack_buffer(uint32_t size) {
  const int64_t need = (int64_t{size} + 7) / 8 * 8;
  return static_cast<int16_t>(-need - 8 * src_.below(static_cast<uint32_t>((kFrame - need) / 8 + 1)));
}

// A pointer argument that fails the helper's check for `size` bytes: past
// the frame top, straddling it (out of bounds in the entry function; in a
// subprogram the caller's frame lies above), null, or a register's value.
void GeneratorBase::emit_bad_pointer(uint8_t reg, uint32_t size) {
  switch (src_.below(4)) {
    case 0:
      b_.emit_frame_address(reg, static_cast<int16_t>(src_.range(8, 64)));
      break;
    case 1:
      b_.emit_frame_address(reg, static_cast<int16_t>(-static_cast<int64_t>(src_.below(size))));
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
void GeneratorBase::emit_key(int16_t off, uint32_t size) {
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
bool GeneratorBase::helper_call() {
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
  b_.emit_helper_call(id);
  if (r1_pinned_) b_.emit_lddw(1, vm::region_base(vm::RegionId::Input));
  if (value_size && src_.chance(0.7)) use_value(*value_size);
  return true;
}

// bpf_trace_printk(fmt, size, a, b, c): the format on the stack; r3..r5
// keep whatever they hold (for %s, a pointer that may well be bad).
void GeneratorBase::printk_arguments(bool bad) {
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
    if (fmt.find("%s") != std::string_view::npos) b_.emit_frame_address(3, off);
    b_.emit_frame_address(1, off);
    b_.emit(isa::encode(Form::mov_imm, 2, 0, 0, static_cast<int32_t>(size)));
    return;
  }
  switch (src_.below(4)) {
    case 3:  // r3 is whatever it holds: for %s, mostly no readable string
      b_.emit_frame_address(1, off);
      b_.emit(isa::encode(Form::mov_imm, 2, 0, 0, static_cast<int32_t>(size)));
      break;
    case 0:  // no NUL within the size, or size 0
      b_.emit_frame_address(1, off);
      b_.emit(isa::encode(Form::mov_imm, 2, 0, 0, static_cast<int32_t>(src_.below(size - 1))));
      break;
    case 1:  // the size runs past the frame top
      b_.emit_frame_address(1, off);
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
std::optional<uint32_t> GeneratorBase::map_arguments(vm::HelperId id, bool bad) {
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
    b_.emit_frame_address(2, key);
  }
  if (id == vm::HelperId::MapUpdateElem) {
    if (wrong == 2) {
      emit_bad_pointer(3, m.value_size);
    } else {
      b_.emit_frame_address(3, stack_buffer(m.value_size));
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
void GeneratorBase::use_value(uint32_t value_size) {
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
void GeneratorBase::tail_call_arguments(bool bad) {
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

}  // namespace detail

std::span<const uint32_t> generated_helper_ids() {
  return detail::kHelperIds;
}

}  // namespace bpfdiff::fuzz
