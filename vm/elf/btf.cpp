#include "vm/elf/btf.hpp"

#include <cstdint>
#include <cstring>

namespace bpfdiff::elf {
namespace {

constexpr uint16_t kBtfMagic = 0xeb9f;
constexpr uint32_t kHeaderMinBytes = 24;
constexpr uint32_t kTypeHeadBytes = 12;  // name_off, info, size/type
// Chains of typedefs and qualifiers, and nested arrays, are short in real
// programs; a longer chain is a cycle or an attack on the recursion.
constexpr int kMaxTypeDepth = 32;

uint32_t read_u32(std::span<const uint8_t> b, std::size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}

bool is_modifier(BtfKind k) {
  return k == BtfKind::Typedef || k == BtfKind::Volatile || k == BtfKind::Const || k == BtfKind::Restrict ||
         k == BtfKind::TypeTag;
}

// Kinds whose size_or_type field is a type id.
bool refers_to_type(BtfKind k) {
  return is_modifier(k) || k == BtfKind::Ptr || k == BtfKind::Var || k == BtfKind::Func;
}

bool has_members(BtfKind k) {
  return k == BtfKind::Struct || k == BtfKind::Union || k == BtfKind::Datasec;
}

Error type_error(uint32_t id, const std::string& reason) {
  return make_error("BTF: type " + std::to_string(id) + ": " + reason);
}

// The bytes that follow the 12-byte head of a type of this kind.
Result<uint64_t> extra_bytes(BtfKind kind, uint32_t vlen, uint32_t id) {
  switch (kind) {
    case BtfKind::Int:
    case BtfKind::Var:
    case BtfKind::DeclTag:
      return uint64_t{4};
    case BtfKind::Array:
      return uint64_t{12};
    case BtfKind::Struct:
    case BtfKind::Union:
    case BtfKind::Datasec:
    case BtfKind::Enum64:
      return uint64_t{vlen} * 12;
    case BtfKind::Enum:
    case BtfKind::FuncProto:
      return uint64_t{vlen} * 8;
    case BtfKind::Ptr:
    case BtfKind::Fwd:
    case BtfKind::Typedef:
    case BtfKind::Volatile:
    case BtfKind::Const:
    case BtfKind::Restrict:
    case BtfKind::Func:
    case BtfKind::Float:
    case BtfKind::TypeTag:
      return uint64_t{0};
    case BtfKind::Unknown:
      break;
  }
  return type_error(id, "unknown kind");
}

class StringTable {
 public:
  explicit StringTable(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  Result<std::string> at(uint32_t offset, uint32_t id) const {
    if (offset >= bytes_.size()) {
      return type_error(id, "name offset " + std::to_string(offset) + " is outside the string section (" +
                                std::to_string(bytes_.size()) + " bytes)");
    }
    const auto* begin = bytes_.data() + offset;
    const void* nul = std::memchr(begin, 0, bytes_.size() - offset);
    if (nul == nullptr)
      return type_error(id, "name at offset " + std::to_string(offset) + " is not terminated");
    return std::string(reinterpret_cast<const char*>(begin), static_cast<const uint8_t*>(nul) - begin);
  }

 private:
  std::span<const uint8_t> bytes_;
};

}  // namespace

Result<Btf> Btf::parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderMinBytes) {
    return make_error("BTF: section is " + std::to_string(bytes.size()) + " bytes, too short for its header");
  }
  uint16_t magic;
  std::memcpy(&magic, bytes.data(), sizeof magic);
  if (magic != kBtfMagic) return make_error("BTF: bad magic (only little-endian BTF is supported)");
  if (bytes[2] != 1) return make_error("BTF: version " + std::to_string(bytes[2]) + " is not supported");
  const uint32_t hdr_len = read_u32(bytes, 4);
  const uint32_t type_off = read_u32(bytes, 8);
  const uint32_t type_len = read_u32(bytes, 12);
  const uint32_t str_off = read_u32(bytes, 16);
  const uint32_t str_len = read_u32(bytes, 20);
  if (hdr_len < kHeaderMinBytes || hdr_len > bytes.size()) {
    return make_error("BTF: header length " + std::to_string(hdr_len) + " does not fit the " +
                      std::to_string(bytes.size()) + "-byte section");
  }
  const auto body = bytes.subspan(hdr_len);
  auto inside = [&](uint64_t off, uint64_t len) { return off <= body.size() && len <= body.size() - off; };
  if (!inside(type_off, type_len)) {
    return make_error("BTF: type section (" + std::to_string(type_len) + " bytes at " +
                      std::to_string(type_off) + ") runs past the end of .BTF");
  }
  if (!inside(str_off, str_len)) {
    return make_error("BTF: string section (" + std::to_string(str_len) + " bytes at " +
                      std::to_string(str_off) + ") runs past the end of .BTF");
  }
  const auto types = body.subspan(type_off, type_len);
  const StringTable strings(body.subspan(str_off, str_len));

  Btf btf;
  std::size_t pos = 0;
  while (pos < types.size()) {
    const uint32_t id = static_cast<uint32_t>(btf.types_.size() + 1);
    if (types.size() - pos < kTypeHeadBytes) return type_error(id, "truncated");
    const uint32_t name_off = read_u32(types, pos);
    const uint32_t info = read_u32(types, pos + 4);
    BtfType t;
    t.id = id;
    t.kind = static_cast<BtfKind>((info >> 24) & 0x1f);
    t.kind_flag = (info >> 31) != 0;
    const uint32_t vlen = info & 0xffff;
    t.size_or_type = read_u32(types, pos + 8);
    auto name = strings.at(name_off, id);
    if (!name) return name.error();
    t.name = std::move(name).value();
    pos += kTypeHeadBytes;

    auto extra = extra_bytes(t.kind, vlen, id);
    if (!extra) return extra.error();
    if (*extra > types.size() - pos)
      return type_error(id, "truncated (its members run past the type section)");
    const auto tail = types.subspan(pos, *extra);
    if (t.kind == BtfKind::Array) {
      t.array_elem_type = read_u32(tail, 0);
      t.array_nelems = read_u32(tail, 8);
    } else if (has_members(t.kind)) {
      for (uint32_t i = 0; i < vlen; ++i) {
        BtfMember m;
        const std::size_t at = std::size_t{i} * 12;
        if (t.kind == BtfKind::Datasec) {
          m.type = read_u32(tail, at);
          m.offset = read_u32(tail, at + 4);
          m.size = read_u32(tail, at + 8);
        } else {
          auto member_name = strings.at(read_u32(tail, at), id);
          if (!member_name) return member_name.error();
          m.name = std::move(member_name).value();
          m.type = read_u32(tail, at + 4);
          m.offset = read_u32(tail, at + 8);
        }
        t.members.push_back(std::move(m));
      }
    }
    pos += *extra;
    btf.types_.push_back(std::move(t));
  }

  // Every type id a type refers to must exist, so later walks need no checks
  // beyond "is it null".
  const auto count = static_cast<uint32_t>(btf.types_.size());
  auto check_ref = [&](uint32_t from, uint32_t to, const char* what) -> Result<void> {
    if (to > count) {
      return type_error(from, std::string(what) + " refers to type " + std::to_string(to) +
                                  ", but there are " + std::to_string(count) + " types");
    }
    return {};
  };
  for (const BtfType& t : btf.types_) {
    if (refers_to_type(t.kind)) {
      if (auto r = check_ref(t.id, t.size_or_type, "it"); !r.ok()) return r.error();
    } else if (t.kind == BtfKind::Array) {
      if (auto r = check_ref(t.id, t.array_elem_type, "its element"); !r.ok()) return r.error();
    }
    for (const BtfMember& m : t.members) {
      if (auto r = check_ref(t.id, m.type, "a member"); !r.ok()) return r.error();
    }
  }
  return btf;
}

const BtfType* Btf::type(uint32_t id) const {
  if (id == 0 || id > types_.size()) return nullptr;
  return &types_[id - 1];
}

Result<const BtfType*> Btf::resolve(uint32_t id) const {
  for (int depth = 0; depth < kMaxTypeDepth; ++depth) {
    const BtfType* t = type(id);
    if (t == nullptr) return type_error(id, "is void or missing where a type is needed");
    if (!is_modifier(t->kind)) return t;
    id = t->size_or_type;
  }
  return type_error(id, "a chain of typedefs and qualifiers is too long (a cycle?)");
}

Result<uint64_t> Btf::size_of(uint32_t id) const {
  return size_of(id, 0);
}

Result<uint64_t> Btf::size_of(uint32_t id, int depth) const {
  if (depth > kMaxTypeDepth) return type_error(id, "types nest too deeply to size (a cycle?)");
  auto resolved = resolve(id);
  if (!resolved) return resolved.error();
  const BtfType* t = *resolved;
  const BtfKind k = t->kind;
  if (k == BtfKind::Int || k == BtfKind::Struct || k == BtfKind::Union || k == BtfKind::Enum ||
      k == BtfKind::Enum64 || k == BtfKind::Float || k == BtfKind::Datasec) {
    return uint64_t{t->size_or_type};
  }
  if (k == BtfKind::Ptr) return uint64_t{8};
  if (k != BtfKind::Array) return type_error(t->id, "has no size");
  auto elem = size_of(t->array_elem_type, depth + 1);
  if (!elem) return elem.error();
  // Nested arrays can multiply past 64 bits; no real type is that big.
  if (t->array_nelems != 0 && *elem > UINT64_MAX / t->array_nelems)
    return type_error(t->id, "array size overflows");
  return *elem * t->array_nelems;
}

const BtfType* Btf::find_datasec(std::string_view name) const {
  for (const BtfType& t : types_) {
    if (t.kind == BtfKind::Datasec && t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace bpfdiff::elf
