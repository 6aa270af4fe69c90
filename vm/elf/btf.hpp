#pragma once
// The BPF Type Format (.BTF section), parsed by hand: just enough of it to
// read BTF-style map definitions (`struct {...} name SEC(".maps")`), whose
// attributes are encoded in types rather than in bytes:
//   __uint(max_entries, 16)  ->  member `int (*max_entries)[16]`  (PTR -> ARRAY nelems 16)
//   __type(key, __u32)       ->  member `__u32 *key`              (PTR -> the key type)
// Every offset, length, string and type id in the section is checked; a bad
// one is an error naming the type id, never an out-of-bounds read.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vm/util/result.hpp"

namespace bpfdiff::elf {

enum class BtfKind : uint8_t {
  Unknown = 0,
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
};

// A struct/union member (offset in bits) or a DATASEC entry (offset and size
// in bytes): both are (type, offset[, size]) lists.
struct BtfMember {
  std::string name;
  uint32_t type = 0;
  uint32_t offset = 0;
  uint32_t size = 0;  // DATASEC entries only
};

struct BtfType {
  uint32_t id = 0;
  BtfKind kind = BtfKind::Unknown;
  std::string name;
  bool kind_flag = false;
  uint32_t size_or_type = 0;  // size for Int/Struct/Union/Enum/Datasec/Float, else a type id
  uint32_t array_elem_type = 0;
  uint32_t array_nelems = 0;
  std::vector<BtfMember> members;  // Struct, Union, Datasec

  // Struct/union members with kind_flag set pack a bitfield size in the top
  // byte of the offset; this is the member's bit offset either way.
  uint32_t member_bit_offset(const BtfMember& m) const {
    return kind_flag ? (m.offset & 0xffffff) : m.offset;
  }
};

class Btf {
 public:
  static Result<Btf> parse(std::span<const uint8_t> bytes);

  // Type by id; id 0 is void and, like unknown ids, gives nullptr.
  const BtfType* type(uint32_t id) const;
  std::size_t type_count() const { return types_.size(); }

  // Follows typedef, volatile, const, restrict and type tags to the type they
  // qualify; errors on a cycle or a dangling id.
  Result<const BtfType*> resolve(uint32_t id) const;
  // Size in bytes of a sized type (int, pointer, struct, array, ...).
  Result<uint64_t> size_of(uint32_t id) const;
  const BtfType* find_datasec(std::string_view name) const;

 private:
  Result<uint64_t> size_of(uint32_t id, int depth) const;

  std::vector<BtfType> types_;  // types_[i] has id i + 1
};

}  // namespace bpfdiff::elf
