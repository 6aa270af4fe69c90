#pragma once
// BTF-defined map definitions, as clang writes them for
//   struct { __uint(type, T); __uint(max_entries, N); __type(key, K); ... } m SEC(".maps");
// The attributes live in the types, not in the bytes: `__uint(x, N)` is a
// member `int (*x)[N]` and `__type(x, T)` a member `T *x`, so the `.maps`
// section holds only zeros (and, for a program array's `.values`, the
// pointers its relocations fill in), and `.BTF` says what each map is.
//
// Each definition is a struct of 8-byte pointer members in this order: type,
// key_size or key, value_size or value, max_entries, map_flags, and for a
// program array with values a flexible `values` array (nelems 0, as clang
// emits `__array(values, ...)`), whose elements follow the struct in the
// variable. A DATASEC `.maps` lists the variables, as the loader looks them up.
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/elf_writer.hpp"

namespace bpfdiff::fuzz {

struct BtfMapsLayout {
  std::vector<uint8_t> btf;      // the `.BTF` section
  uint64_t section_size = 0;     // of `.maps`, all zeros
  std::vector<uint64_t> offset;  // per map: its variable's offset in `.maps`
  std::vector<uint64_t> size;    // per map: its variable's size
  std::vector<uint64_t> values;  // per map: where `.values` starts in the variable (program arrays)
};

BtfMapsLayout encode_btf_maps(std::span<const ElfMapSpec> maps);

}  // namespace bpfdiff::fuzz
