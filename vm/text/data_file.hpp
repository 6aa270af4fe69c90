#pragma once
// The bpf_conformance test-case format (.data files):
//   -- asm      assembly source of the program
//   -- raw      (alternative to asm) hex bytes of the program
//   -- mem      hex bytes of the input memory, whitespace separated
//   -- result   expected r0, e.g. 0x2a
//   -- error    expected error message (substring match)
// Lines starting with '#' outside the asm section are comments.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vm/util/result.hpp"

namespace bpfdiff::text {

struct DataTest {
  std::string asm_source;                   // empty when the program is given as raw bytes
  std::optional<std::vector<uint8_t>> raw;  // from "-- raw"
  std::vector<uint8_t> memory;              // from "-- mem"
  std::optional<uint64_t> result;           // from "-- result"
  std::optional<std::string> error;         // from "-- error"
};

Result<DataTest> parse_data_test(std::string_view text);
std::string format_data_test(const DataTest& test);  // inverse of parse, for writing regressions

// Hex bytes separated by whitespace ("aa bb 0c"), as in -- mem and the plugin protocol.
Result<std::vector<uint8_t>> parse_hex_bytes(std::string_view text);

}  // namespace bpfdiff::text
