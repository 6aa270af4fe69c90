#include "fuzz/elf_btf_maps.hpp"

#include <string>

#include "vm/elf/btf.hpp"

namespace bpfdiff::fuzz {
namespace {

// The kinds are the reader's (vm/elf/btf.hpp); the rest of the format's
// numbers (include/uapi/linux/btf.h) only the writer needs.
using Kind = elf::BtfKind;
constexpr uint16_t kMagic = 0xeB9F;
constexpr uint32_t kHeaderBytes = 24;
constexpr uint32_t kIntSigned = 1;
constexpr uint32_t kVarGlobalAllocated = 1;
constexpr uint32_t kPointerBytes = 8;

// The type and string sections under construction; type ids count from 1.
class BtfBuilder {
 public:
  BtfBuilder() : strings_(1, 0) {}

  uint32_t name(const std::string& s) {
    if (s.empty()) return 0;
    const auto at = static_cast<uint32_t>(strings_.size());
    strings_.insert(strings_.end(), s.begin(), s.end());
    strings_.push_back(0);
    return at;
  }

  uint32_t integer(const std::string& n, uint32_t bytes, bool is_signed) {
    const uint32_t id = header(name(n), Kind::Int, 0, bytes);
    put((is_signed ? kIntSigned << 24 : 0) | (bytes * 8));
    return id;
  }
  uint32_t pointer(uint32_t to) { return header(0, Kind::Ptr, 0, to); }
  // `returns (*)(void *)`: the type of a program, as a program array's
  // values point to them.
  uint32_t program_type(uint32_t returns) {
    const uint32_t void_pointer = pointer(0);
    const uint32_t id = header(0, Kind::FuncProto, 1, returns);
    put(0);  // the parameter's name
    put(void_pointer);
    return id;
  }
  uint32_t array(uint32_t element, uint32_t index, uint32_t count) {
    const uint32_t id = header(0, Kind::Array, 0, 0);
    put(element);
    put(index);
    put(count);
    return id;
  }
  struct Member {
    std::string name;
    uint32_t type;
  };
  // Members are 8-byte pointers laid out one after the other.
  uint32_t pointer_struct(const std::vector<Member>& members, uint32_t bytes) {
    const uint32_t id = header(0, Kind::Struct, static_cast<uint32_t>(members.size()), bytes);
    for (std::size_t i = 0; i < members.size(); ++i) {
      put(name(members[i].name));
      put(members[i].type);
      put(static_cast<uint32_t>(i * kPointerBytes * 8));  // in bits
    }
    return id;
  }
  uint32_t variable(const std::string& n, uint32_t type) {
    const uint32_t id = header(name(n), Kind::Var, 0, type);
    put(kVarGlobalAllocated);
    return id;
  }
  struct Entry {
    uint32_t variable;
    uint64_t offset, size;
  };
  void datasec(const std::string& n, uint64_t bytes, const std::vector<Entry>& entries) {
    header(name(n), Kind::Datasec, static_cast<uint32_t>(entries.size()), static_cast<uint32_t>(bytes));
    for (const Entry& e : entries) {
      put(e.variable);
      put(static_cast<uint32_t>(e.offset));
      put(static_cast<uint32_t>(e.size));
    }
  }

  std::vector<uint8_t> section() const {
    std::vector<uint8_t> out;
    const auto u16 = [&](uint16_t v) {
      out.push_back(static_cast<uint8_t>(v));
      out.push_back(static_cast<uint8_t>(v >> 8));
    };
    const auto u32 = [&](uint32_t v) {
      for (int b = 0; b < 4; ++b)
        out.push_back(static_cast<uint8_t>(v >> (8 * b)));
    };
    const auto type_bytes = static_cast<uint32_t>(types_.size() * 4);
    u16(kMagic);
    out.push_back(1);  // version
    out.push_back(0);  // flags
    u32(kHeaderBytes);
    u32(0);  // type_off, from the end of the header
    u32(type_bytes);
    u32(type_bytes);  // str_off
    u32(static_cast<uint32_t>(strings_.size()));
    for (const uint32_t w : types_)
      u32(w);
    out.insert(out.end(), strings_.begin(), strings_.end());
    return out;
  }

 private:
  uint32_t header(uint32_t name_off, Kind kind, uint32_t vlen, uint32_t size_or_type) {
    put(name_off);
    put((static_cast<uint32_t>(kind) << 24) | vlen);
    put(size_or_type);
    return ++count_;
  }
  void put(uint32_t w) { types_.push_back(w); }

  std::vector<uint32_t> types_;
  std::vector<uint8_t> strings_;
  uint32_t count_ = 0;
};

}  // namespace

BtfMapsLayout encode_btf_maps(std::span<const ElfMapSpec> maps) {
  BtfBuilder b;
  const uint32_t int_type = b.integer("int", 4, true);
  const uint32_t char_type = b.integer("char", 1, false);
  // __uint(x, n): `int (*x)[n]`.
  const auto number = [&](uint32_t n) { return b.pointer(b.array(int_type, int_type, n)); };
  // __type(x, char[n]): `char (*x)[n]`, whose pointee has size n.
  const auto bytes_type = [&](uint32_t n) { return b.pointer(b.array(char_type, int_type, n)); };

  BtfMapsLayout out;
  std::vector<BtfBuilder::Entry> entries;
  for (const ElfMapSpec& m : maps) {
    std::vector<BtfBuilder::Member> members = {{"type", number(m.type)}};
    members.push_back(m.key_as_type ? BtfBuilder::Member{"key", bytes_type(m.key_size)}
                                    : BtfBuilder::Member{"key_size", number(m.key_size)});
    members.push_back(m.value_as_type ? BtfBuilder::Member{"value", bytes_type(m.value_size)}
                                      : BtfBuilder::Member{"value_size", number(m.value_size)});
    members.push_back({"max_entries", number(m.max_entries)});
    members.push_back({"map_flags", number(m.flags)});
    const auto fixed = static_cast<uint64_t>(members.size()) * kPointerBytes;
    uint64_t size = fixed;
    out.values.push_back(0);
    if (!m.program_values.empty()) {
      // The flexible array member: its elements are the variable's bytes past the struct.
      members.push_back({"values", b.array(b.pointer(b.program_type(int_type)), int_type, 0)});
      out.values.back() = fixed;
      size += uint64_t{m.max_entries} * kPointerBytes;
    }
    const uint32_t def = b.pointer_struct(members, static_cast<uint32_t>(fixed));
    const uint32_t var = b.variable(m.name, def);
    out.offset.push_back(out.section_size);
    out.size.push_back(size);
    entries.push_back({var, out.section_size, size});
    out.section_size += size;
  }
  b.datasec(".maps", out.section_size, entries);
  out.btf = b.section();
  return out;
}

}  // namespace bpfdiff::fuzz
