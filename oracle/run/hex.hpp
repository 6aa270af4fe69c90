#pragma once
// Hex text in the forms the command line reads and prints.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vm/util/result.hpp"

namespace bpfdiff::cli {

// "0x2a": lowercase, no padding, as printf("0x%llx") and the plugin protocol.
std::string hex_u64(uint64_t value);

// "aabb0c": two lowercase digits per byte, no separators.
std::string hex_compact(std::span<const uint8_t> bytes);

// "aa bb 0c ": each byte followed by `separator`, as bpf_conformance passes
// memory and programs to a plugin (it uses two spaces).
std::string hex_spaced(std::span<const uint8_t> bytes, std::string_view separator = " ");

// Bytes from the user: whitespace-separated ("aa bb 0c"), or one run of digit
// pairs ("aabb0c").
Result<std::vector<uint8_t>> parse_hex_arg(std::string_view text);

}  // namespace bpfdiff::cli
